/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   the manifests here are parsed JSON broken field by field on purpose: untyped is the point */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maskBudgetFits, maskBufferBytes, MAX_DETECTIONS, MAX_MASK_BUFFER_BYTES, MAX_MODEL_BYTES, MAX_TOP_K, validateManifest } from './manifestSchema';
import { maskBitsBytes } from '../gpu/kernels/maskUpsample';
import { MAX_TOP_K as KERNEL_MAX_TOP_K } from '../gpu/kernels/classTopK';
import { maskSize } from '../pipeline/runner';
import { MAX_FRAME_SIDE } from '../pipeline/sources';
import { syntheticYoloSegManifest } from '../families/yoloSeg/synthetic';
import { syntheticCenterMaskManifest } from '../families/centerMask/synthetic';

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
      'family: expected one of "yolact", "yolo-seg", "maskrcnn", "centermask", "blendmask", got "yolov99"',
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
      "twoStage.maxLevel: levels 2..9 must lie within P2..P5 (the backbone's p2..p5)",
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

describe('validateManifest: CenterMask (centerMask)', () => {
  const centerMask = () => JSON.parse(JSON.stringify(syntheticCenterMaskManifest(20))) as Record<string, any>;

  it("accepts a manifest with the exported model's interface", () => {
    const check = validateManifest(centerMask());
    expect(check.ok ? [] : check.errors).toEqual([]);
  });

  it('names each bad centerMask field, and the detector outputs it needs', () => {
    const m = centerMask();
    m.centerMask.maskHeadUrl = '';
    m.centerMask.strides = [8, 16, 24, 64, 128];
    m.centerMask.roiLevels = 'area';
    m.centerMask.minLevel = 2;
    m.centerMask.maxLevel = 6;
    m.centerMask.preNmsTopN = 2000;
    m.centerMask.nmsIou = 0;
    m.centerMask.maxDetections = 301;
    m.centerMask.rescore = 'yes';
    delete m.outputs.ctrP7;
    delete m.outputs.p4;
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual([
      'centerMask.maskHeadUrl: expected a non-empty string',
      'centerMask.strides[2]: expected a power of two from 1 to 1024, got 24',
      'centerMask.strides[3]: expected twice the stride before it',
      'centerMask.roiLevels: expected one of "ratio", "scale", got "area"',
      'centerMask.minLevel: expected an integer ≥ 3 and ≤ 5, got 2',
      'centerMask.maxLevel: expected an integer ≥ 3 and ≤ 5, got 6',
      'centerMask.preNmsTopN: expected an integer ≥ 1 and ≤ 1024, got 2000',
      'centerMask.nmsIou: expected a number in (0, 1], got 0',
      'centerMask.maxDetections: expected an integer ≥ 1 and ≤ 300, got 301',
      'centerMask.rescore: expected true or false, got "yes"',
      'outputs: a centermask model needs “p4”',
      'outputs: a centermask model needs “ctrP7”',
    ]);
  });

  it("bounds the decode's key lists (locations × classes) and requires the block of a centermask model", () => {
    const big = centerMask();
    big.input.width = big.input.height = 2048;
    big.classes = Array.from({ length: 1000 }, (_, i) => `c${i}`);
    const check = validateManifest(big);
    expect(check.ok ? [] : check.errors).toEqual(['centerMask: 87296 FCOS locations × 1000 classes need 666 MiB of decode keys, above 128 MiB']);
    const none = centerMask();
    delete none.centerMask;
    const missing = validateManifest(none);
    expect(missing.ok ? [] : missing.errors).toEqual(['centerMask: a centermask model needs its “centerMask” block (mask head, strides, RoI levels)']);
  });

  it('refuses centerMask on another family, and a remote head without size and digest', () => {
    const m = centerMask();
    m.family = 'maskrcnn';
    m.outputs = { ...m.outputs, boxes: 'b', labels: 'l', scores: 's', pastedMasks: 'm' };
    m.centerMask.maskHeadUrl = 'https://example.org/head.onnx';
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual([
      'centerMask: only a centermask model has a centerMask block, this one is "maskrcnn"',
      'centerMask.maskHeadBytes: a remote head (http/https url) must give its size in bytes',
      'centerMask.maskHeadSha256: a remote head (http/https url) must give the sha256 of its ONNX file',
    ]);
  });
});

describe('validateManifest: every field the pipeline reads', () => {
  const yolact = () => JSON.parse(readFileSync('models/yolact/yolact-384.json', 'utf8')) as Record<string, any>;

  it('names each field of an empty defaults block (Pane used to throw on it)', () => {
    const check = validateManifest({ ...yolact(), defaults: {} });
    expect(check.ok ? [] : check.errors).toEqual([
      'defaults.confThreshold: expected a number ≥ 0 and ≤ 1, got undefined',
      'defaults.scoreThreshold: expected a number ≥ 0 and ≤ 1, got undefined',
      'defaults.topK: expected an integer ≥ 1 and ≤ 512, got undefined',
      'defaults.nmsIou: expected a number ≥ 0 and ≤ 1, got undefined',
      'defaults.nmsKind: expected one of "fast", "greedy", got undefined',
      'defaults.maxDetections: expected an integer ≥ 1 and ≤ 300, got undefined',
    ]);
  });

  it('checks the input layout and the outputs of a one-file Mask R-CNN export', () => {
    const m = yolact();
    m.input.layout = 'nhwc';
    expect(validateManifest(m)).toEqual({ ok: false, errors: ['input.layout: expected one of "nchw", "chw", got "nhwc"'] });
    const exported = { ...yolact(), family: 'maskrcnn', outputs: { boxes: 'boxes', scores: 'scores' } };
    const check = validateManifest(exported);
    expect(check.ok ? [] : check.errors).toEqual([
      'outputs: a one-file maskrcnn export needs “labels” (or a “twoStage” block)',
      'outputs: a one-file maskrcnn export needs “pastedMasks” or “roiMasks” (or a “twoStage” block)',
    ]);
    expect(validateManifest({ ...exported, outputs: { boxes: 'b', labels: 'l', scores: 's', roiMasks: 'm' } }).ok).toBe(true);
  });

  it('requires bytes and sha256 of a remote model, and of remote two-stage heads', () => {
    const remote: Record<string, any> = { ...yolact(), url: 'https://models.example.org/m.onnx' };
    delete remote.sha256;
    const check = validateManifest(remote);
    expect(check.ok ? [] : check.errors).toEqual([
      'bytes: a remote model (http/https url) must give its size in bytes',
      'sha256: a remote model (http/https url) must give the sha256 of its ONNX file',
    ]);
    expect(validateManifest({ ...remote, bytes: 10, sha256: 'a'.repeat(64) }).ok).toBe(true);

    const two = JSON.parse(readFileSync('models/maskrcnn/maskrcnn-512.json', 'utf8')) as Record<string, any>;
    two.twoStage.maskHeadUrl = 'https://models.example.org/mask-head.onnx';
    delete two.twoStage.maskHeadSha256;
    const headCheck = validateManifest(two);
    expect(headCheck.ok ? [] : headCheck.errors).toEqual([
      'twoStage.maskHeadBytes: a remote head (http/https url) must give its size in bytes',
      'twoStage.maskHeadSha256: a remote head (http/https url) must give the sha256 of its ONNX file',
    ]);
    two.twoStage.boxHeadSha256 = 'nope';
    const bad = validateManifest(two);
    expect(bad.ok ? [] : bad.errors).toContain('twoStage.boxHeadSha256: expected 64 hex digits');
  });
});

describe('validateManifest: bounds on what a manifest may ask the GPU for', () => {
  const yolact = () => JSON.parse(readFileSync('models/yolact/yolact-384.json', 'utf8')) as Record<string, any>;

  it('refuses maxDetections 10000, naming the bit-mask buffer it would need', () => {
    const m = yolact();
    m.defaults.maxDetections = 10000;
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual([
      'defaults.maxDetections: expected an integer ≥ 1 and ≤ 300, got 10000',
      'defaults.maxDetections: 10000 masks of the largest frame need 1953 MiB of bit masks, above the 128 MiB one GPU buffer may hold',
    ]);
  });

  it('refuses a huge input, topK above the sort capacity, too many classes, an impossible size', () => {
    const m = yolact();
    m.input.width = 4096;
    m.defaults.topK = 513;
    m.classes = Array.from({ length: 1001 }, (_, i) => `c${i}`);
    delete m.categoryIds;
    m.bytes = 2 ** 32;
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual([
      `bytes: expected an integer ≥ 1 and ≤ ${MAX_MODEL_BYTES}, got ${2 ** 32}`,
      'input.width: expected an integer ≥ 1 and ≤ 2048, got 4096',
      'classes: at most 1000 classes, got 1001',
      'defaults.topK: expected an integer ≥ 1 and ≤ 512, got 513',
    ]);
  });

  it('sizes the bit masks as the runners do: maskBitsBytes of the runner mask size', () => {
    // 1280x720: 720 rows of 40 words — the 1.15 GB that 10000 detections asked for.
    expect(maskBufferBytes(10000, 1280, 720)).toBe(10000 * 720 * 40 * 4);
    for (const [d, w, h] of [
      [100, 640, 480],
      [300, 4096, 4096],
      [1, 1, 1],
      [57, 1921, 1079],
      [300, 4096, 3],
    ] as const) {
      expect(maskBufferBytes(d, w, h)).toBe(maskBitsBytes(maskSize(w, h), d));
    }
    expect(MAX_TOP_K).toBe(KERNEL_MAX_TOP_K);
  });

  it('keeps the limits consistent: the most detections allowed fit the budget on the largest frame', () => {
    expect(maskBudgetFits(MAX_DETECTIONS)).toBe(true);
    expect(maskBufferBytes(MAX_DETECTIONS, MAX_FRAME_SIDE, MAX_FRAME_SIDE)).toBeLessThanOrEqual(MAX_MASK_BUFFER_BYTES);
    expect(maskBudgetFits(1000)).toBe(false);
  });
});
