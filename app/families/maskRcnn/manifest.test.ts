import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../types';
import { boxFeatureDims, headManifests, levelSides, maskFeatureDims, roiFeatureBytes, roiReadbackNote, twoStageLayout } from './manifest';

const bundled = (): ModelManifest => JSON.parse(readFileSync('models/maskrcnn/maskrcnn-512.json', 'utf8')) as ModelManifest;

describe('two-stage Mask R-CNN layout', () => {
  it('512 input: P2..P6 sides 128..8, 3 anchors a location, A_total = 65472 (the ONNX objectness width)', () => {
    const layout = twoStageLayout(bundled());
    expect(layout.levels.map((l) => [l.level, l.width, l.height, l.stride, l.anchorSize])).toEqual([
      [2, 128, 128, 4, 16],
      [3, 64, 64, 8, 32],
      [4, 32, 32, 16, 64],
      [5, 16, 16, 32, 128],
      [6, 8, 8, 64, 256],
    ]);
    // 3 · (128² + 64² + 32² + 16² + 8²) = 3 · 21824, written out.
    expect(layout.totalAnchors).toBe(65472);
    expect(layout.levels.map((l) => l.anchorOffset)).toEqual([0, 49152, 61440, 64512, 65280]);
    expect(layout.numRois).toBe(500);
    expect(layout.numClasses).toBe(80);
    // The backbone ONNX says the same.
    expect(levelSides(512, 5)).toEqual([128, 64, 32, 16, 8]);
    expect(levelSides(500, 5)).toEqual([125, 63, 32, 16, 8]);
  });

  it('head inputs and the RoI bytes a wasm+gpu frame reads back', () => {
    const m = bundled();
    const layout = twoStageLayout(m);
    expect(boxFeatureDims(layout)).toEqual([500, 64, 7, 7]);
    expect(maskFeatureDims(layout, 100)).toEqual([100, 64, 14, 14]);
    expect(roiFeatureBytes(layout, 100)).toEqual({ box: 500 * 64 * 49 * 4, mask: 100 * 64 * 196 * 4 });
    expect(roiReadbackNote(m, 'wasm+gpu', 100)).toBe(
      'read-back includes the RoI features for the CPU heads: 6.0 MB box + 4.8 MB mask a frame (webgpu: records only)',
    );
    expect(roiReadbackNote(m, 'webgpu', 100)).toBeNull();
    expect(roiReadbackNote({ ...m, twoStage: undefined }, 'wasm+gpu', 100)).toBeNull();
  });

  it('the head parts as manifests of their own, for the session cache', () => {
    const m = bundled();
    const { boxHead, maskHead } = headManifests(m);
    expect([boxHead.id, boxHead.url, boxHead.input.name, boxHead.outputs]).toEqual([
      'maskrcnn-512#box-head',
      'models/maskrcnn/maskrcnn-512-box-head.onnx',
      'box_features',
      { classLogits: 'class_logits', boxDeltas: 'box_deltas' },
    ]);
    expect([maskHead.id, maskHead.url, maskHead.input.name, maskHead.outputs]).toEqual([
      'maskrcnn-512#mask-head',
      'models/maskrcnn/maskrcnn-512-mask-head.onnx',
      'mask_features',
      { maskLogits: 'mask_logits' },
    ]);
    expect(boxHead.twoStage).toBeUndefined();
  });

  it('refuses what it cannot lay out, with the reason', () => {
    const m = bundled();
    expect(() => twoStageLayout({ ...m, twoStage: undefined })).toThrow('not a two-stage Mask R-CNN');
    expect(() => twoStageLayout({ ...m, twoStage: { ...m.twoStage!, strides: [4, 8, 16, 32, 32] } })).toThrow('stride 32 of P6 does not give a 8-wide level');
    const { rpnDeltas: _d, ...outputs } = m.outputs;
    expect(() => twoStageLayout({ ...m, outputs })).toThrow('names no “rpnDeltas” output');
  });
});
