// Anyroom test lab: a line plot as an SVG file, for bench figures that are
// curves over time (no plotting library: a few lines of SVG).
//   svgPlot({ title, xLabel, yLabel, series: [{ name, color, points: [[x, y], ...] }],
//             bands: [{ from, to, label }] })
const W = 900;
const H = 420;
const M = { left: 70, right: 160, top: 40, bottom: 50 };

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function svgPlot({ title, xLabel, yLabel, series, bands = [] }) {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = niceMax(Math.max(1, ...xs));
  const yMax = niceMax(Math.max(1, ...ys));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v) => M.left + (v / xMax) * pw;
  const y = (v) => M.top + ph - (Math.min(v, yMax) / yMax) * ph;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`];
  for (const b of bands) {
    out.push(`<rect x="${x(b.from)}" y="${M.top}" width="${Math.max(0, x(b.to) - x(b.from))}" height="${ph}" fill="#f0f0f0"/>`,
      `<text x="${(x(b.from) + x(b.to)) / 2}" y="${M.top + 14}" text-anchor="middle" fill="#666">${esc(b.label)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const yv = (yMax * i) / 5;
    const xv = (xMax * i) / 5;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(yv)}" y2="${y(yv)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(yv) + 4}" text-anchor="end">${+yv.toFixed(1)}</text>`,
      `<text x="${x(xv)}" y="${M.top + ph + 18}" text-anchor="middle">${+xv.toFixed(1)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    if (s.points.length) {
      const d = s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.width || 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${d}"/>`);
    }
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${M.left + pw + 12}" x2="${M.left + pw + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${M.left + pw + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
