import sharp from 'sharp';
import { sixelImage } from './src/terminal/sixel.js';
const { data, info } = await sharp('/tmp/exp/dec.png').removeAlpha().raw().toBuffer({ resolveWithObject: true });
process.stdout.write('x\n' + sixelImage(data, info.width, info.height) + '\ny\n');
setTimeout(() => {}, 30000);
