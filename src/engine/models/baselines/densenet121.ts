// DenseNet-121 without its top (Huang et al. 2017), as keras.applications.DenseNet121 builds it.
// The paper compared a "DenseNet50", which is not a published network; DenseNet-121 stands in for it.
import { avgPool, bn, channels, concat, conv, maxPool, pad, relu, type ST } from './common.js';

const GROWTH = 32;

function convBlock(x: ST, name: string): ST {
  let y = relu(bn(x, `${name}_0_bn`), `${name}_0_relu`);
  y = conv(y, 4 * GROWTH, 1, `${name}_1_conv`, { useBias: false });
  y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
  y = conv(y, GROWTH, 3, `${name}_2_conv`, { useBias: false });
  return concat([x, y], `${name}_concat`);
}

function transition(x: ST, name: string): ST {
  let y = relu(bn(x, `${name}_bn`), `${name}_relu`);
  y = conv(y, Math.floor(channels(y) * 0.5), 1, `${name}_conv`, { useBias: false });
  return avgPool(y, 2, 2, `${name}_pool`);
}

export function densenet121(input: ST): ST {
  let x = pad(input, 3, 'zero_padding2d');
  x = conv(x, 64, 7, 'conv1_conv', { strides: 2, padding: 'valid', useBias: false });
  x = relu(bn(x, 'conv1_bn'), 'conv1_relu');
  x = maxPool(pad(x, 1, 'zero_padding2d_1'), 3, 2, 'pool1');
  [6, 12, 24, 16].forEach((blocks, i) => {
    for (let b = 0; b < blocks; b++) x = convBlock(x, `conv${i + 2}_block${b + 1}`);
    if (i < 3) x = transition(x, `pool${i + 2}`);
  });
  return relu(bn(x, 'bn'), 'relu');
}
