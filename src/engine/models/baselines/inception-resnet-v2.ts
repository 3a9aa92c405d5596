// Inception-ResNet-v2 without its top (Szegedy et al. 2016), as keras.applications.InceptionResNetV2
// builds it. Unnamed Keras layers get Keras's automatic names (conv2d_N, batch_normalization_N,
// activation_N) in creation order, so that weight files load by name here too.
import * as tf from '@tensorflow/tfjs';
import { apply, avgPool, concat, maxPool, relu, scaleFreeBatchNorm, type ST } from './common.js';

/** Keras's CustomScaleLayer: inputs[0] + inputs[1] · scale. */
export class ScaleSum extends tf.layers.Layer {
  static className = 'CustomScaleLayer';
  readonly scale: number;
  constructor(args: { scale: number; name?: string }) {
    super({ name: args.name });
    this.scale = args.scale;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[0];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, up] = inputs as tf.Tensor[];
    return tf.tidy(() => tf.add(x, tf.mul(up, this.scale)));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(ScaleSum);

class Namer {
  private counts = new Map<string, number>();
  next(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }
}

export function inceptionResNetV2(input: ST): ST {
  const names = new Namer();
  const convBn = (x: ST, filters: number, kernel: number | [number, number], o: { strides?: number; padding?: 'same' | 'valid'; activation?: 'relu' | null; useBias?: boolean; name?: string } = {}): ST => {
    const useBias = o.useBias ?? false;
    let y = apply(tf.layers.conv2d({ filters, kernelSize: kernel, strides: o.strides ?? 1, padding: o.padding ?? 'same', useBias, kernelInitializer: 'heNormal', name: o.name ?? names.next('conv2d') }), x);
    if (!useBias) y = apply(scaleFreeBatchNorm({ epsilon: 1e-3, name: o.name ? `${o.name}_bn` : names.next('batch_normalization') }), y);
    if ((o.activation ?? 'relu') === 'relu') y = relu(y, o.name ? `${o.name}_ac` : names.next('activation'));
    return y;
  };
  const block = (x: ST, scale: number, type: 'block35' | 'block17' | 'block8', idx: number, activate = true): ST => {
    let branches: ST[];
    if (type === 'block35') {
      branches = [convBn(x, 32, 1), convBn(convBn(x, 32, 1), 32, 3), convBn(convBn(convBn(x, 32, 1), 48, 3), 64, 3)];
    } else if (type === 'block17') {
      branches = [convBn(x, 192, 1), convBn(convBn(convBn(x, 128, 1), 160, [1, 7]), 192, [7, 1])];
    } else {
      branches = [convBn(x, 192, 1), convBn(convBn(convBn(x, 192, 1), 224, [1, 3]), 256, [3, 1])];
    }
    const name = `${type}_${idx}`;
    const mixed = concat(branches, `${name}_mixed`);
    const up = convBn(mixed, x.shape[3] as number, 1, { activation: null, useBias: true, name: `${name}_conv` });
    const y = apply(new ScaleSum({ scale, name }), [x, up]);
    return activate ? relu(y, `${name}_ac`) : y;
  };

  let x = convBn(input, 32, 3, { strides: 2, padding: 'valid' });
  x = convBn(x, 32, 3, { padding: 'valid' });
  x = convBn(x, 64, 3);
  x = maxPool(x, 3, 2, names.next('max_pooling2d'));
  x = convBn(x, 80, 1, { padding: 'valid' });
  x = convBn(x, 192, 3, { padding: 'valid' });
  x = maxPool(x, 3, 2, names.next('max_pooling2d'));

  const b0 = convBn(x, 96, 1);
  const b1 = convBn(convBn(x, 48, 1), 64, 5);
  const b2 = convBn(convBn(convBn(x, 64, 1), 96, 3), 96, 3);
  const bp = convBn(avgPool(x, 3, 1, names.next('average_pooling2d'), 'same'), 64, 1);
  x = concat([b0, b1, b2, bp], 'mixed_5b');
  for (let i = 1; i <= 10; i++) x = block(x, 0.17, 'block35', i);

  x = concat([convBn(x, 384, 3, { strides: 2, padding: 'valid' }), convBn(convBn(convBn(x, 256, 1), 256, 3), 384, 3, { strides: 2, padding: 'valid' }), maxPool(x, 3, 2, names.next('max_pooling2d'))], 'mixed_6a');
  for (let i = 1; i <= 20; i++) x = block(x, 0.1, 'block17', i);

  x = concat(
    [
      convBn(convBn(x, 256, 1), 384, 3, { strides: 2, padding: 'valid' }),
      convBn(convBn(x, 256, 1), 288, 3, { strides: 2, padding: 'valid' }),
      convBn(convBn(convBn(x, 256, 1), 288, 3), 320, 3, { strides: 2, padding: 'valid' }),
      maxPool(x, 3, 2, names.next('max_pooling2d')),
    ],
    'mixed_7a',
  );
  for (let i = 1; i <= 9; i++) x = block(x, 0.2, 'block8', i);
  x = block(x, 1.0, 'block8', 10, false);
  return convBn(x, 1536, 1, { name: 'conv_7b' });
}
