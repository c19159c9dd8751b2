// What the benchmarks' reports share: a quantile, the number format and the Markdown table
// they print, the machine they ran on, and the report itself.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

// The @q quantile (0..1) of the finite values of @xs, interpolated linearly between ranks; NaN
// when there is none.
export function quantile(xs, q) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

// A figure for the table: whole from 100 up, one decimal below, 'n/a' when not finite.
export const fmt = (x) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1)) : 'n/a');

// @table (rows of strings, the first the header) as Markdown lines, columns padded.
export function tableLines(table) {
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
  return [line(table[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.slice(1).map(line)];
}

// "N cores, CPU MODEL".
export function machine() {
  return `${execFileSync('nproc').toString().trim()} cores, ${fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] || '?'}`;
}

// Prints a benchmark's report and writes it to @file: the command that made it, the machine
// (and @where it ran), the table, then @extra lines and one "- " line per note.
export function writeReport(file, { command, where = '', table, extra = [], notes = [] }) {
  const out = [`command: ${command}`, `machine: ${machine()}${where ? `; ${where}` : ''}`, '', ...tableLines(table), ''];
  out.push(...extra, ...notes.map((n) => `- ${n}`));
  const text = out.join('\n');
  console.log(text);
  fs.writeFileSync(file, `${text}\n`);
}

