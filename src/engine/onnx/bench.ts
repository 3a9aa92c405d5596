// Timing of one exported graph: through OrtModel (what the engine does) or session.run alone (bare).
import * as ort from 'onnxruntime-node';
import { ONNX_INPUT, ONNX_OUTPUT } from './export.js';
import { OrtModel, sessionOptions, type OrtProvider } from './ort-runtime.js';

export async function benchOnnx(
  bytes: Uint8Array,
  input: Float32Array,
  batch: number,
  size: number,
  bare: boolean,
  s: { threads: number; provider: OrtProvider },
): Promise<{ once(): Promise<number>; release(): Promise<void> }> {
  if (!bare) {
    const model = await OrtModel.create(bytes, size, s);
    return {
      once: async () => {
        const t0 = performance.now();
        await model.run(input, batch);
        return performance.now() - t0;
      },
      release: () => model.dispose(),
    };
  }
  const session = await ort.InferenceSession.create(bytes, sessionOptions(s));
  const tensor = new ort.Tensor('float32', input, [batch, size, size, 3]);
  return {
    once: async () => {
      const t0 = performance.now();
      await session.run({ [ONNX_INPUT]: tensor }, [ONNX_OUTPUT]);
      return performance.now() - t0;
    },
    release: () => session.release(),
  };
}
