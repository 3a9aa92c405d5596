// A probe for tests: on SIGUSR2, says on stderr whether this process's main thread has loaded
// TensorFlow.js (its globals) or ONNX Runtime (its native addon). Worker threads (the engine) are
// not looked at: they are where both belong.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const addons = [];
  const dlopen = process.dlopen;
  process.dlopen = function (module, filename, ...rest) {
    addons.push(filename);
    return dlopen.call(this, module, filename, ...rest);
  };
  process.on('SIGUSR2', () => {
    const heavy = [...(globalThis._tfGlobals ? ['@tensorflow/tfjs'] : []), ...addons.filter((f) => /onnxruntime/.test(f))];
    process.stderr.write(`PROBE ${JSON.stringify(heavy)}\n`);
  });
}
