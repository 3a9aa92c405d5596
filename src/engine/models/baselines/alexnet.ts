// AlexNet (Krizhevsky et al. 2012) without its top, single stream: the two GPU streams of the paper
// merged into one (96, 256, 384, 384, 256 filters), without local response normalisation (as
// torchvision's AlexNet; batch norm was not part of it either). Keras has no AlexNet, so no parameter
// count to match: 3,747,200 in its five convolutions.
import { conv, maxPool, type ST } from './common.js';

export function alexnet(input: ST): ST {
  let x = conv(input, 96, 11, 'conv1', { strides: 4, padding: 'valid', activation: 'relu' });
  x = maxPool(x, 3, 2, 'pool1');
  x = conv(x, 256, 5, 'conv2', { activation: 'relu' });
  x = maxPool(x, 3, 2, 'pool2');
  x = conv(x, 384, 3, 'conv3', { activation: 'relu' });
  x = conv(x, 384, 3, 'conv4', { activation: 'relu' });
  x = conv(x, 256, 3, 'conv5', { activation: 'relu' });
  return maxPool(x, 3, 2, 'pool5');
}
