// A module hook for tests: names on stderr every TensorFlow.js or ONNX Runtime module a process resolves.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
  if (/@tensorflow|onnxruntime/.test(specifier)) process.stderr.write('HEAVY-IMPORT ' + specifier + '\\n');
  return next(specifier, context);
}`),
);
