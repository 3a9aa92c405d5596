import sharp from 'sharp';
import { readXwd } from './test/support/xwd.js';
const s = readXwd(process.argv[2]);
await sharp(Buffer.from(s.rgb), { raw: { width: s.width, height: s.height, channels: 3 } }).extract({left:0,top:0,width:1024,height:450}).png().toFile(process.argv[3]);
