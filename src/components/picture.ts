// An image made ready for the terminal's protocol: its size in cells, and its RGB pixels at the size the
// protocol draws. Half-blocks draw two pixels a cell; kitty, iTerm2 and sixel draw the cells' own pixels.
import sharp, { type Sharp } from 'sharp';
import type { Graphics } from '../terminal/detect.js';

export interface Picture {
  columns: number;
  rows: number;
  width: number;
  height: number;
  /** width × height × 3. */
  rgb: Uint8Array;
}

export type PictureSize = Omit<Picture, 'rgb'>;

/** A cell's pixels when the terminal did not say: kitty and iTerm2 scale the image to its cells, so only the aspect counts. */
const NOMINAL_CELL = { width: 8, height: 16 };

/** The largest size, aspect kept, that fits in columns × rows cells. */
export function pictureSize(graphics: Pick<Graphics, 'protocol' | 'cell'>, imageWidth: number, imageHeight: number, columns: number, rows: number): PictureSize {
  const cell = graphics.protocol === 'blocks' ? { width: 1, height: 2 } : (graphics.cell ?? NOMINAL_CELL);
  const scale = Math.min((columns * cell.width) / imageWidth, (rows * cell.height) / imageHeight);
  const width = Math.min(columns * cell.width, Math.max(1, Math.round(imageWidth * scale)));
  const height = Math.min(rows * cell.height, Math.max(1, Math.round(imageHeight * scale)));
  const fit = { columns: Math.max(1, Math.ceil(width / cell.width)), rows: Math.max(1, Math.ceil(height / cell.height)) };
  // Half-blocks fill whole cells: the pixels are the cells'.
  return graphics.protocol === 'blocks' ? { ...fit, width: fit.columns, height: fit.rows * 2 } : { ...fit, width, height };
}

/** The image's RGB pixels resized to a size. */
export async function picturePixels(image: Buffer | string | Sharp, size: { width: number; height: number }): Promise<Buffer> {
  return (typeof image === 'object' && 'resize' in image ? image : sharp(image)).removeAlpha().resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
}

/** An image file as a picture in at most columns × rows cells. */
export async function loadPicture(graphics: Pick<Graphics, 'protocol' | 'cell'>, image: Buffer | string, columns: number, rows: number): Promise<Picture> {
  const meta = await sharp(image).metadata();
  const size = pictureSize(graphics, meta.width ?? 1, meta.height ?? 1, columns, rows);
  return { ...size, rgb: await picturePixels(image, size) };
}

/** RGB pixels as sharp's raw input. */
export interface RgbPixels {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The zoom's picture: the slide at its own resolution when it is given (else the 256 px preview), with
 * t · (overlay − preview) added, the map's colour at opacity t without the preview's blur.
 */
export async function zoomPicture(
  graphics: Pick<Graphics, 'protocol' | 'cell'>,
  original: RgbPixels | null,
  preview: string,
  overlay: string | null,
  t: number,
  columns: number,
  rows: number,
): Promise<Picture> {
  const meta = await sharp(preview).metadata();
  const size = pictureSize(graphics, meta.width ?? 1, meta.height ?? 1, columns, rows);
  const rgb = original ? await picturePixels(sharp(original.data, { raw: { width: original.width, height: original.height, channels: 3 } }), size) : await picturePixels(preview, size);
  if (overlay && t > 0) {
    const [o, p] = await Promise.all([picturePixels(overlay, size), picturePixels(preview, size)]);
    for (let i = 0; i < rgb.length; i++) rgb[i] = Math.min(255, Math.max(0, Math.round(rgb[i] + t * (o[i] - p[i]))));
  }
  return { ...size, rgb };
}
