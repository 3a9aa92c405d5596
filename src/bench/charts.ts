// ROC curves and confusion matrices as SVG (sharp renders them to PNG), for the benchmark reports.
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export interface Curve {
  label: string;
  points: Array<[number, number]>;
}

export function rocSvg(title: string, curves: Curve[], size = 480): string {
  const m = 50;
  const w = size - 2 * m;
  const px = (x: number) => m + x * w;
  const py = (y: number) => size - m - y * w;
  const lines = curves.map(
    (c, i) => `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${c.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
  );
  const legend = curves.map((c, i) => `<text x="${px(0.45)}" y="${py(0.32) + i * 18}" font-size="13" fill="${COLOURS[i % COLOURS.length]}">${esc(c.label)}</text>`);
  const ticks = [0, 0.25, 0.5, 0.75, 1].flatMap((t) => [
    `<text x="${px(t)}" y="${size - m + 18}" font-size="11" text-anchor="middle">${t}</text>`,
    `<text x="${m - 8}" y="${py(t) + 4}" font-size="11" text-anchor="end">${t}</text>`,
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${size / 2}" y="24" font-size="15" text-anchor="middle">${esc(title)}</text>
<rect x="${m}" y="${m}" width="${w}" height="${w}" fill="none" stroke="#444"/>
<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#aaa" stroke-dasharray="4 4"/>
${ticks.join('\n')}
<text x="${size / 2}" y="${size - 10}" font-size="12" text-anchor="middle">false-positive rate</text>
<text x="14" y="${size / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${size / 2})">true-positive rate</text>
${lines.join('\n')}
${legend.join('\n')}
</svg>`;
}

export function confusionSvg(title: string, classes: string[], matrix: number[][]): string {
  const cell = 64;
  const m = 110;
  const size = m + classes.length * cell + 20;
  const max = Math.max(1, ...matrix.flat());
  const cells = matrix.flatMap((row, r) =>
    row.map((v, c) => {
      const shade = Math.round(255 - (v / max) * 200);
      return `<rect x="${m + c * cell}" y="${m + r * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="white"/><text x="${m + c * cell + cell / 2}" y="${m + r * cell + cell / 2 + 5}" font-size="14" text-anchor="middle">${v}</text>`;
    }),
  );
  const labels = classes.flatMap((k, i) => [
    `<text x="${m - 8}" y="${m + i * cell + cell / 2 + 4}" font-size="12" text-anchor="end">${esc(k)}</text>`,
    `<text x="${m + i * cell + cell / 2}" y="${m - 8}" font-size="12" text-anchor="middle">${esc(k)}</text>`,
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${size / 2}" y="22" font-size="14" text-anchor="middle">${esc(title)}</text>
<text x="${m + (classes.length * cell) / 2}" y="${m - 28}" font-size="12" text-anchor="middle">predicted</text>
<text x="16" y="${m + (classes.length * cell) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${m + (classes.length * cell) / 2})">true</text>
${labels.join('\n')}
${cells.join('\n')}
</svg>`;
}
