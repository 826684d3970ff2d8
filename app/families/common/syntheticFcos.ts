/**
 * What the synthetic CenterMask and BlendMask / B2Inst manifests share (../centerMask/synthetic.ts,
 * ../blendMask/synthetic.ts): the FCOS strides and the exported detectors' input, classes and
 * defaults, for tests and the families' synthetic runs.
 */
import type { ModelManifest } from '../../types';

/** FCOS strides of P3..P7 in input pixels. */
export const SYNTHETIC_FCOS_STRIDES: readonly number[] = [8, 16, 32, 64, 128];

/** A stretched side × side RGB input (ImageNet normalisation), `outputs`, "class0"… and the panes' defaults. */
export function syntheticFcosInterface(
  side: number,
  numClasses: number,
  outputs: Record<string, string>,
): Pick<ModelManifest, 'input' | 'outputs' | 'classes' | 'defaults'> {
  return {
    input: {
      name: 'input',
      width: side,
      height: side,
      resize: 'stretch',
      channels: 'rgb',
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    outputs,
    classes: Array.from({ length: numClasses }, (_, i) => `class${i}`),
    defaults: { confThreshold: 0.05, scoreThreshold: 0.3, topK: 100, nmsIou: 0.6, nmsKind: 'greedy', maxDetections: 50 },
  };
}
