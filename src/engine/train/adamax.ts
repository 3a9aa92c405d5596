// Adamax (Kingma & Ba 2015, as Keras implements it) with a state that can be saved and restored, which
// tfjs's own Adamax cannot do — and resuming a run needs it.
import * as tf from '@tensorflow/tfjs';

export interface AdamaxState {
  iterations: number;
  /** First moments and weighted infinity norms, one pair per variable, in variable order. */
  m: Float32Array[];
  u: Float32Array[];
}

export class Adamax {
  private iterations = 0;
  private m: tf.Variable[] | null = null;
  private u: tf.Variable[] | null = null;

  constructor(
    public learningRate = 0.001,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-7,
  ) {}

  private ensureSlots(vars: tf.Variable[]): void {
    if (this.m) return;
    this.m = vars.map((v) => tf.zerosLike(v).variable(false));
    this.u = vars.map((v) => tf.zerosLike(v).variable(false));
  }

  /** One update; grads[i] belongs to vars[i] (null: no gradient, the variable is left alone). */
  apply(vars: tf.Variable[], grads: Array<tf.Tensor | null>): void {
    this.ensureSlots(vars);
    this.iterations++;
    const t = this.iterations;
    const stepSize = this.learningRate / (1 - this.beta1 ** t);
    tf.tidy(() => {
      vars.forEach((v, i) => {
        const g = grads[i];
        if (!g) return;
        const m = this.m![i];
        const u = this.u![i];
        const mNext = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const uNext = tf.maximum(tf.mul(u, this.beta2), tf.abs(g));
        m.assign(mNext);
        u.assign(uNext);
        v.assign(tf.sub(v, tf.mul(stepSize, tf.div(mNext, tf.add(uNext, this.epsilon)))));
      });
    });
  }

  getState(): AdamaxState {
    return {
      iterations: this.iterations,
      m: (this.m ?? []).map((v) => v.dataSync() as Float32Array),
      u: (this.u ?? []).map((v) => v.dataSync() as Float32Array),
    };
  }

  setState(vars: tf.Variable[], state: AdamaxState): void {
    this.dispose();
    this.iterations = state.iterations;
    if (!state.m.length) return;
    if (state.m.length !== vars.length) throw new Error(`optimizer state has ${state.m.length} slots for ${vars.length} variables`);
    this.m = vars.map((v, i) => tf.tensor(state.m[i], v.shape).variable(false));
    this.u = vars.map((v, i) => tf.tensor(state.u[i], v.shape).variable(false));
  }

  dispose(): void {
    tf.dispose([...(this.m ?? []), ...(this.u ?? [])]);
    this.m = null;
    this.u = null;
  }
}
