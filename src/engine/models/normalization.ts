// Keras's preprocessing `Normalization` layer, so that Keras EfficientNet weights (mean, variance, count) load by name.
// Its 7 parameters are not trainable: (x - mean) / sqrt(variance).
import * as tf from '@tensorflow/tfjs';

export interface NormalizationArgs {
  name?: string;
  mean?: number[];
  variance?: number[];
}

export class Normalization extends tf.layers.Layer {
  static className = 'Normalization';
  private readonly initMean: number[];
  private readonly initVariance: number[];
  private meanWeight!: tf.LayerVariable;
  private varianceWeight!: tf.LayerVariable;

  constructor(args: NormalizationArgs = {}) {
    super({ name: args.name });
    this.initMean = args.mean ?? [0.485, 0.456, 0.406];
    this.initVariance = args.variance ?? [0.229 ** 2, 0.224 ** 2, 0.225 ** 2];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1] as number;
    if (channels !== this.initMean.length) throw new Error(`${this.name}: expects ${this.initMean.length} channels, got ${channels}`);
    this.meanWeight = this.addWeight('mean', [channels], 'float32', tf.initializers.zeros(), undefined, false);
    this.varianceWeight = this.addWeight('variance', [channels], 'float32', tf.initializers.ones(), undefined, false);
    tf.tidy(() => {
      this.meanWeight.write(tf.tensor1d(this.initMean));
      this.varianceWeight.write(tf.tensor1d(this.initVariance));
    });
    // Keras keeps the sample count as a scalar weight; it does not enter the computation.
    this.addWeight('count', [], 'float32', tf.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const std = tf.sqrt(tf.maximum(this.varianceWeight.read(), 1e-7));
      return tf.div(tf.sub(x, this.meanWeight.read()), std);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.initMean, variance: this.initVariance };
  }
}

tf.serialization.registerClass(Normalization);
