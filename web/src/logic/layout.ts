// Bed-tile grid for a wall display: the column count that gives the largest tiles of a readable
// shape for N beds in a W×H area, without scrolling.

export interface GridLayout {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

/** Tiles wider than tall read best (a row of large numbers); accept 1.1 to 3 width/height. */
export function gridFor(beds: number, width: number, height: number, gap = 8): GridLayout {
  const n = Math.max(1, beds);
  let best: GridLayout | null = null;
  let bestScore = -1;
  for (let columns = 1; columns <= n; columns++) {
    const rows = Math.ceil(n / columns);
    const tileWidth = (width - gap * (columns - 1)) / columns;
    const tileHeight = (height - gap * (rows - 1)) / rows;
    if (tileWidth <= 0 || tileHeight <= 0) continue;
    const aspect = tileWidth / tileHeight;
    // The usable area is what fits in the preferred shape.
    const usableH = Math.min(tileHeight, tileWidth / 1.1);
    const usableW = Math.min(tileWidth, tileHeight * 3);
    const score = usableW * usableH * (aspect >= 1.1 && aspect <= 3 ? 1 : 0.8);
    if (score > bestScore) {
      bestScore = score;
      best = { columns, rows, tileWidth, tileHeight };
    }
  }
  return best!;
}
