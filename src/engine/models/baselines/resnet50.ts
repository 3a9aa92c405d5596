// ResNet50 without its top (He et al. 2015, v1 bottleneck blocks), as keras.applications.ResNet50 builds it.
import { add, bn, conv, maxPool, pad, relu, type ST } from './common.js';

function block(x: ST, filters: number, stride: number, shortcutConv: boolean, name: string): ST {
  const shortcut = shortcutConv ? bn(conv(x, 4 * filters, 1, `${name}_0_conv`, { strides: stride }), `${name}_0_bn`) : x;
  let y = relu(bn(conv(x, filters, 1, `${name}_1_conv`, { strides: stride }), `${name}_1_bn`), `${name}_1_relu`);
  y = relu(bn(conv(y, filters, 3, `${name}_2_conv`), `${name}_2_bn`), `${name}_2_relu`);
  y = bn(conv(y, 4 * filters, 1, `${name}_3_conv`), `${name}_3_bn`);
  return relu(add([shortcut, y], `${name}_add`), `${name}_out`);
}

const STACKS = [
  [64, 3, 1],
  [128, 4, 2],
  [256, 6, 2],
  [512, 3, 2],
] as const;

export function resnet50(input: ST): ST {
  let x = pad(input, 3, 'conv1_pad');
  x = conv(x, 64, 7, 'conv1_conv', { strides: 2, padding: 'valid' });
  x = relu(bn(x, 'conv1_bn'), 'conv1_relu');
  x = maxPool(pad(x, 1, 'pool1_pad'), 3, 2, 'pool1_pool');
  STACKS.forEach(([filters, blocks, stride], s) => {
    for (let b = 0; b < blocks; b++) x = block(x, filters, b === 0 ? stride : 1, b === 0, `conv${s + 2}_block${b + 1}`);
  });
  return x;
}
