// The explanation methods by name: one for every name of the method table (src/core/explanation-methods.ts).
import { METHOD_NAMES, type MethodName } from '../../core/explanation-methods.js';
import { cam } from './cam.js';
import { gradCam } from './gradcam.js';
import { integratedGradients } from './integrated-gradients.js';
import { lime } from './lime.js';
import { gradCamAtStride, layerCam, layerCam14, layerCam28, layerCam56 } from './layer-cams.js';
import { layerIgAtStride } from './layer-ig.js';
import type { ExplanationMethod } from './types.js';

export const METHODS = {
  gradcam: gradCam,
  cam,
  lime,
  ig: integratedGradients,
  gradcam14: gradCamAtStride('gradcam14', 16),
  gradcam28: gradCamAtStride('gradcam28', 8),
  layercam14: layerCam14,
  layercam28: layerCam28,
  layercam: layerCam,
  layercam56: layerCam56,
  ig14: layerIgAtStride('ig14', 16),
} as const satisfies Record<MethodName, { name: string }>;
export { METHOD_NAMES, type MethodName };

/** Methods that take the gradient graph's fast path: IG's input gradients, the finer maps' CAMs (one run for all of them). */
export function usesGradientGraph(name: string): boolean {
  return name === 'ig' || /^(layercam|gradcam\d)/.test(name);
}

export function methodByName(name: string): ExplanationMethod<object> {
  const m = (METHODS as Record<string, ExplanationMethod<object>>)[name];
  if (!m) throw new Error(`unknown explanation method "${name}"; known: ${METHOD_NAMES.join(', ')}`);
  return m;
}
