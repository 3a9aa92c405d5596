// VGG-19 without its top (Simonyan & Zisserman 2014), as keras.applications.VGG19 builds it.
import { conv, maxPool, type ST } from './common.js';

const BLOCKS = [
  [64, 2],
  [128, 2],
  [256, 4],
  [512, 4],
  [512, 4],
] as const;

export function vgg19(input: ST): ST {
  let x = input;
  BLOCKS.forEach(([filters, convs], b) => {
    for (let i = 0; i < convs; i++) x = conv(x, filters, 3, `block${b + 1}_conv${i + 1}`, { activation: 'relu' });
    x = maxPool(x, 2, 2, `block${b + 1}_pool`);
  });
  return x;
}
