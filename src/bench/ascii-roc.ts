// ROC curves drawn with characters for the Benchmarks screen: one letter per model, the diagonal dotted.

function plotCurves(curves: Array<{ mark: string; points: Array<[number, number]> }>, width: number, height: number): string[] {
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  for (let c = 0; c < width; c++) {
    const r = height - 1 - Math.round((c / (width - 1)) * (height - 1));
    grid[r][c] = '·';
  }
  for (const curve of curves) {
    const pts = curve.points;
    for (let i = 1; i < pts.length; i++) {
      // Sample each segment densely enough to leave no gaps in the grid.
      const [x0, y0] = pts[i - 1];
      const [x1, y1] = pts[i];
      const steps = Math.max(2, Math.ceil(Math.max(Math.abs(x1 - x0) * width, Math.abs(y1 - y0) * height)) * 2);
      for (let s = 0; s <= steps; s++) {
        const x = x0 + ((x1 - x0) * s) / steps;
        const y = y0 + ((y1 - y0) * s) / steps;
        grid[height - 1 - Math.round(y * (height - 1))][Math.round(x * (width - 1))] = curve.mark;
      }
    }
  }
  return grid.map((row) => row.join(''));
}

/** The chart with its frame and legend, as lines: `width` × `height` cells inside the frame. */
export function rocLines(curves: Array<{ mark: string; label: string; points: Array<[number, number]> }>, width = 40, height = 14): string[] {
  return [`TPR ┌${'─'.repeat(width)}┐`, ...plotCurves(curves, width, height).map((l) => `    │${l}│`), `    └${'─'.repeat(width)}┘ FPR`, ...curves.map((c) => `    ${c.mark} ${c.label}`)];
}
