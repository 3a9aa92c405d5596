// Sixel (DEC's bitmap graphics: xterm -ti vt340, foot, WezTerm, Windows Terminal, mlterm): the pixels
// quantised to 256 colour registers with dithering by jerch's `sixel` encoder.
import { image2sixel } from 'sixel';

/** RGB pixels (width × height × 3) as one sixel escape, drawn at the cursor. */
export function sixelImage(rgb: Uint8Array, width: number, height: number): string {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i];
    rgba[j + 1] = rgb[i + 1];
    rgba[j + 2] = rgb[i + 2];
    rgba[j + 3] = 255;
  }
  return image2sixel(rgba, width, height, 256, 1);
}
