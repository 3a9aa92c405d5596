// Connected regions of a square mask: the cell masks of the segmented twins, and the stained cells under a map.

/** Labels 4-connected regions where `on(p)` holds; returns the label map (0 = off) and each region's size. */
export function components(size: number, on: (p: number) => boolean): { label: Int32Array; sizes: number[] } {
  const label = new Int32Array(size * size);
  const sizes = [0];
  const stack: number[] = [];
  for (let start = 0; start < label.length; start++) {
    if (label[start] || !on(start)) continue;
    const id = sizes.length;
    let count = 0;
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      count++;
      const y = Math.floor(p / size);
      const x = p % size;
      for (const q of [x > 0 ? p - 1 : -1, x < size - 1 ? p + 1 : -1, y > 0 ? p - size : -1, y < size - 1 ? p + size : -1]) {
        if (q >= 0 && !label[q] && on(q)) {
          label[q] = id;
          stack.push(q);
        }
      }
    }
    sizes.push(count);
  }
  return { label, sizes };
}
