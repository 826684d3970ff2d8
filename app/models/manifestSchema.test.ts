import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateManifest } from './manifestSchema';
import { syntheticYoloSegManifest } from '../families/yoloSeg/synthetic';

describe('validateManifest', () => {
  it('accepts the bundled YOLACT manifests and a YOLO-seg one', () => {
    for (const path of ['models/yolact/yolact-384.json', 'models/yolact/yolact-550.json']) {
      const check = validateManifest(JSON.parse(readFileSync(path, 'utf8')));
      expect(check.ok ? [] : check.errors).toEqual([]);
    }
    expect(validateManifest(syntheticYoloSegManifest(640, 80)).ok).toBe(true);
    expect(validateManifest(syntheticYoloSegManifest(320, 3, 'end-to-end')).ok).toBe(true);
  });

  it('names every problem by its path', () => {
    const m = JSON.parse(JSON.stringify(syntheticYoloSegManifest(640, 3))) as Record<string, any>;
    m.family = 'yolov99';
    m.input.mean = [0, 0];
    m.input.std = [1, 0, 1];
    m.input.resize = 'crop';
    m.classes = ['a', 7];
    m.defaults.topK = 1000;
    m.sha256 = 'xyz';
    delete m.id;
    const check = validateManifest(m);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.errors).toEqual([
      'id: expected a non-empty string',
      'family: expected one of "yolact", "yolo-seg", "maskrcnn", got "yolov99"',
      'sha256: expected 64 hex digits',
      'input.resize: expected one of "stretch", "letterbox", got "crop"',
      'input.mean: expected three numbers',
      'input.std[1]: expected a positive number, got 0',
      'classes[1]: expected a non-empty string',
      'defaults.topK: expected an integer ≥ 1 and ≤ 512, got 1000',
    ]);
  });

  it('checks the outputs a family needs', () => {
    const m = { ...syntheticYoloSegManifest(640, 3), outputs: { protos: 'output1' } };
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual(['outputs: a yolo-seg model needs “output0” or “detections”']);
    expect(validateManifest(null)).toEqual({ ok: false, errors: ['manifest: expected a JSON object'] });
  });
});

describe('validateManifest: two-stage Mask R-CNN (twoStage)', () => {
  const bundled = ['models/maskrcnn/maskrcnn-512.json', 'models/maskrcnn/maskrcnn-512-roipool.json'];

  it('accepts the bundled Mask R-CNN manifests (RoIAlign and RoIPool)', () => {
    for (const path of bundled) {
      const check = validateManifest(JSON.parse(readFileSync(path, 'utf8')));
      expect(check.ok ? [] : check.errors).toEqual([]);
    }
  });

  it('names each bad twoStage field, and the backbone outputs a two-stage model needs', () => {
    const m = JSON.parse(readFileSync(bundled[0]!, 'utf8')) as Record<string, any>;
    m.twoStage.boxHeadUrl = '';
    m.twoStage.anchorSizes = [16, 32, 64];
    m.twoStage.pooler = 'warp';
    m.twoStage.rpnNmsIou = 0;
    m.twoStage.maxLevel = 9;
    m.twoStage.boxWeights = [10, 10, 5];
    m.twoStage.aligned = 'yes';
    delete m.outputs.rpnDeltas;
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual([
      'twoStage.boxHeadUrl: expected a non-empty string',
      'twoStage.anchorSizes: expected one size per level (5 strides), got 3',
      'twoStage.rpnNmsIou: expected a number in (0, 1], got 0',
      'twoStage.maxLevel: levels 2..9 must lie within P2..P5 (the backbone\'s p2..p5)',
      'twoStage.pooler: expected one of "align", "pool", got "warp"',
      'twoStage.aligned: expected true or false, got "yes"',
      'twoStage.boxWeights: expected 4 positive numbers',
      'outputs: a two-stage maskrcnn model needs “rpnDeltas”',
    ]);
  });

  it('refuses twoStage on another family', () => {
    const m = JSON.parse(readFileSync(bundled[0]!, 'utf8')) as Record<string, any>;
    m.family = 'yolact';
    const check = validateManifest(m);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.errors).toContain('twoStage: only a maskrcnn model can be two-stage, this one is "yolact"');
  });
});
