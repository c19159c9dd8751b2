// Every CSS selector of every recipe, parsed by Chromium: document.querySelector
// must not throw (a SyntaxError means the page would never match it). The C
// loader only sanity-checks selectors; Chromium is the real parser. Every
// "script" (an expression) is compiled too, without running it.
//
//   node check-selectors.mjs LAB_DIR RECIPE_DIR...
//
// LAB_DIR holds node_modules/playwright-core. Output: TAP, one line per file.
// Skips (TAP "1..0 # SKIP") only if Chromium or playwright-core is missing.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [labDir, ...dirs] = process.argv.slice(2);
const CHROMIUM = process.env.AR_CHROMIUM || '/usr/bin/chromium';
const pw = path.join(labDir || '', 'node_modules', 'playwright-core', 'index.mjs');
if (!fs.existsSync(CHROMIUM) || !fs.existsSync(pw)) {
  console.log(`1..0 # SKIP needs ${CHROMIUM} and ${pw}`);
  process.exit(0);
}
const { chromium } = await import(pathToFileURL(pw).href);

// Where selectors live in the format (docs/recipes.md): "selectors" lists and
// "frame" strings, in steps, probes, controls and leave; and the participants
// probe's "name", "self" and "count".
function collect(node, out, where) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => collect(v, out, `${where}[${i}]`));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      const here = where ? `${where}.${k}` : k;
      if (k === 'selectors' && Array.isArray(v)) v.forEach((s, i) => out.push([`${here}[${i}]`, s]));
      else if (k === 'frame' && typeof v === 'string') out.push([here, v]);
      else if (where === 'participants' && ['name', 'self', 'count'].includes(k) && typeof v === 'string') out.push([here, v]);
      else if (k === 'script' && typeof v === 'string') out.push([here, v, 'script']);
      else collect(v, out, here);
    }
  }
}

const files = [];
for (const d of dirs)
  for (const f of fs.readdirSync(d).filter((n) => n.endsWith('.json')).sort()) files.push(path.join(d, f));

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  timeout: 30000,
});
let failed = 0;
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="x"></div></body></html>');
  console.log(`1..${files.length}`);
  let n = 0;
  for (const f of files) {
    n++;
    const sels = [];
    collect(JSON.parse(fs.readFileSync(f, 'utf8')), sels, '');
    const bad = await page.evaluate((list) => list.flatMap(([where, s, kind]) => {
      try {
        if (kind === 'script') new Function(`return (${s});`); // compiled, not run
        else document.querySelector(s);
        return [];
      } catch (e) {
        return [`${where}: ${JSON.stringify(s)}: ${e.name}`];
      }
    }), sels);
    const nScripts = sels.filter((x) => x[2] === 'script').length;
    if (bad.length === 0 && sels.length > 0) {
      console.log(`ok ${n} - ${path.basename(f)}: ${sels.length - nScripts} selectors and ${nScripts} scripts parse`);
    } else if (bad.length === 0) {
      console.log(`ok ${n} - ${path.basename(f)}: no selectors`);
    } else {
      failed++;
      console.log(`not ok ${n} - ${path.basename(f)}`);
      for (const b of bad) console.log(`# ${b}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
