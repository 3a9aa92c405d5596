// Grad-CAM (Selvaraju et al. 2017) on `top_activation`: channel weights are the spatial means of the
// gradient of the class score (logit) through the head, the map is ReLU(Σ_k α_k A_k), upsampled.
import { camMethod, gradCamWeights } from './cam-base.js';

export const gradCam = camMethod('gradcam', gradCamWeights);
