import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectModel, manifestFromOnnx, parseClassNames, readOnnxInfo, UnrecognisedModelError, type OnnxInfo } from './detect';
import { yoloSegLayout } from './yoloSeg/manifest';
import { validateManifest } from '../models/manifestSchema';
import { yolactLayout } from './yolact/manifest';

const read = (path: string) => new Uint8Array(readFileSync(path));
const TEST_MODELS = 'models/yoloseg/test';
const opts = (fileName: string) => ({ fileName, url: `user-models/${fileName}` });

describe('readOnnxInfo (protobuf reader)', () => {
  it('reads names, shapes and Ultralytics metadata of the tiny YOLO-seg export', () => {
    const info = readOnnxInfo(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80.onnx`));
    expect(info.producer).toBe('pytorch');
    expect(info.inputs).toEqual([{ name: 'images', elemType: 1, dims: [1, 3, 320, 320] }]);
    expect(info.outputs).toEqual([
      { name: 'output0', elemType: 1, dims: [1, 116, 2100] },
      { name: 'output1', elemType: 1, dims: [1, 32, 80, 80] },
    ]);
    expect(info.metadata.task).toBe('segment');
    expect(info.metadata.imgsz).toBe('[320, 320]');
    expect(parseClassNames(info.metadata.names!).slice(0, 3)).toEqual(['person', 'bicycle', 'car']);
  });

  it('rejects bytes that are not an ONNX model', () => {
    expect(() => readOnnxInfo(new TextEncoder().encode('hello, I am a text file'))).toThrow(UnrecognisedModelError);
    expect(() => readOnnxInfo(new Uint8Array(0))).toThrow(/no graph/);
    const truncated = read(`${TEST_MODELS}/yoloseg-tiny-320-nc3.onnx`).subarray(0, 5000);
    expect(() => readOnnxInfo(truncated)).toThrow(UnrecognisedModelError);
  });
});

describe('detectModel', () => {
  it('YOLO-seg raw head, 80 classes with names from metadata', () => {
    const { manifest, missing } = manifestFromOnnx(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80.onnx`), opts('yoloseg-tiny-320-nc80.onnx'));
    expect(missing).toEqual([]);
    expect(manifest).toMatchObject({
      id: 'user-yoloseg-tiny-320-nc80',
      family: 'yolo-seg',
      url: 'user-models/yoloseg-tiny-320-nc80.onnx',
      input: { name: 'images', width: 320, height: 320, resize: 'letterbox', channels: 'rgb', padValue: 114 },
      outputs: { output0: 'output0', protos: 'output1' },
      defaults: { confThreshold: 0.25, nmsIou: 0.7, nmsKind: 'greedy', maxDetections: 300 },
    });
    expect(manifest.input.scale).toBeCloseTo(1 / 255, 12);
    expect(manifest.classes.length).toBe(80);
    expect(manifest.classes[79]).toBe('toothbrush');
    expect(yoloSegLayout(manifest)).toMatchObject({ head: 'raw', numAnchors: 2100, numClasses: 80, protoWidth: 80 });
    const check = validateManifest(manifest);
    expect(check.ok ? [] : check.errors).toEqual([]);
  });

  it('YOLO-seg raw head without DFL, 3 classes', () => {
    const { manifest, missing } = manifestFromOnnx(read(`${TEST_MODELS}/yoloseg-tiny-320-nc3.onnx`), opts('my model.onnx'));
    expect(missing).toEqual([]);
    expect(manifest.id).toBe('user-my-model');
    expect(manifest.classes).toEqual(['cat', 'dog', 'bird']);
  });

  it('YOLO-seg end-to-end export [1, 300, 38]', () => {
    const { manifest } = manifestFromOnnx(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80-e2e.onnx`), opts('e2e.onnx'));
    expect(manifest.outputs).toEqual({ detections: 'output0', protos: 'output1' });
    expect(manifest.classes.length).toBe(80);
    expect(yoloSegLayout(manifest)).toMatchObject({ head: 'end-to-end', numAnchors: 300 });
  });

  it('YOLACT (the bundled 384 export): five outputs, class names missing', () => {
    const { manifest, missing } = manifestFromOnnx(read('models/yolact/yolact-384.onnx'), opts('yolact-384.onnx'));
    expect(manifest.family).toBe('yolact');
    expect(manifest.input).toMatchObject({ name: 'input', width: 384, height: 384, resize: 'stretch' });
    expect(manifest.outputs).toEqual({ loc: 'loc', conf: 'conf', mask: 'mask', priors: 'priors', proto: 'proto' });
    expect(missing).toEqual(['classes']);
    expect(manifest.classes).toHaveLength(80);
    expect(manifest.classes[0]).toBe('class0');
    expect(yolactLayout(manifest).numPriors).toBe(9207);
    expect(validateManifest(manifest).ok).toBe(true);
  });

  const fake = (outputs: Array<[string, Array<number | string | null>]>, metadata: Record<string, string> = {}, input: Array<number | string | null> = [1, 3, 640, 640]): OnnxInfo => ({
    producer: 'test',
    inputs: [{ name: 'images', elemType: 1, dims: input }],
    outputs: outputs.map(([name, dims]) => ({ name, elemType: 1, dims })),
    metadata,
  });

  it('YOLACT recognised by shapes when its outputs have other names', () => {
    const outputs: Array<[string, number[]]> = [['a', [1, 19248, 4]], ['b', [19248, 4]], ['c', [1, 19248, 81]], ['d', [1, 19248, 32]], ['e', [1, 138, 138, 32]]];
    const { manifest } = detectModel(fake(outputs, {}, [1, 3, 550, 550]), opts('x.onnx'));
    expect(manifest.outputs).toEqual({ loc: 'a', priors: 'b', conf: 'c', mask: 'd', proto: 'e' });
  });

  it('dynamic input: size from imgsz metadata; COCO-sized head; names in a Python dict with quotes', () => {
    const { manifest, notes } = detectModel(
      fake([['output0', [1, 38, 'anchors']], ['output1', [1, 32, 160, 160]]], { imgsz: '[640, 640]', names: `{0: "it's", 1: 'b'}` }, [1, 3, 'height', 'width']),
      opts('dyn.onnx'),
    );
    expect(manifest.input).toMatchObject({ width: 640, height: 640 });
    expect(manifest.classes).toEqual(["it's", 'b']);
    expect(notes.join(' ')).toMatch(/dynamic input size/);
  });

  it('a raw head with nc = 2 ([1, 38, 8400]) is not mistaken for an end-to-end export', () => {
    const { manifest } = detectModel(fake([['output0', [1, 38, 8400]], ['output1', [1, 32, 160, 160]]]), opts('nc2.onnx'));
    expect(manifest.outputs).toEqual({ output0: 'output0', protos: 'output1' });
    expect(manifest.classes).toHaveLength(2);
  });

  it('unknown layouts name what was expected', () => {
    expect(() => detectModel(fake([['logits', [1, 1000]]]), opts('resnet.onnx'))).toThrow(/match no supported family.*YOLO-seg \(Ultralytics\): output0 \[1,4\+nc\+32,N\]/);
    expect(() => detectModel(fake([['output0', [1, 116, 8000]], ['output1', [1, 32, 160, 160]]]), opts('x.onnx'))).toThrow(/8000 anchors; .* has 8400/);
    expect(() => detectModel({ ...fake([['output0', [1, 116, 8400]], ['output1', [1, 32, 160, 160]]]), inputs: [] }, opts('x.onnx'))).toThrow(/0 inputs/);
  });
});

describe('parseClassNames', () => {
  it('plain lines, comma lists, YAML lists and maps, inline lists', () => {
    expect(parseClassNames('cat\ndog\r\n\nbird\n')).toEqual(['cat', 'dog', 'bird']);
    expect(parseClassNames('cat, dog, bird')).toEqual(['cat', 'dog', 'bird']);
    expect(parseClassNames('path: data\nnames:\n  - cat\n  - "hot dog"\nnc: 2\n')).toEqual(['cat', 'hot dog']);
    expect(parseClassNames('names:\n  0: person\n  1: bicycle\n')).toEqual(['person', 'bicycle']);
    expect(parseClassNames("names: ['a', 'b']")).toEqual(['a', 'b']);
    expect(parseClassNames("{0: 'person', 2: 'car'}")).toEqual(['person', 'class1', 'car']);
    expect(parseClassNames('  ')).toEqual([]);
  });
});

describe('detectModel: public Mask R-CNN exports', () => {
  const MRCNN = 'models/maskrcnn/test';
  const tensor = (name: string, elemType: number, dims: Array<number | string | null>) => ({ name, elemType, dims });
  const mrcnn = (outputs: OnnxInfo['outputs'], input: Array<number | string | null> = [3, 'height', 'width']): OnnxInfo => ({
    producer: 'test',
    inputs: [{ name: 'image', elemType: 1, dims: input }],
    outputs,
    metadata: {},
  });
  const zooOutputs = () => [
    tensor('6568', 1, ['N', 4]),
    tensor('6570', 7, ['N']),
    tensor('6572', 1, ['N']),
    tensor('6887', 1, ['N', 1, 28, 28]),
  ];

  it('the tiny torchvision-like export: [3, H, W] input, pasted masks, COCO names, no dialog', () => {
    const { manifest, missing, notes } = manifestFromOnnx(read(`${MRCNN}/maskrcnn-torchvision-tiny.onnx`), opts('maskrcnn-torchvision-tiny.onnx'));
    expect(missing).toEqual([]);
    expect(manifest).toMatchObject({
      id: 'user-maskrcnn-torchvision-tiny',
      family: 'maskrcnn',
      input: { name: 'images_tensors', width: 640, height: 640, resize: 'letterbox', channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], layout: 'chw' },
      outputs: { boxes: 'boxes', labels: 'labels', scores: 'scores', pastedMasks: 'masks' },
      defaults: { confThreshold: 0.05, maxDetections: 100 },
    });
    expect(manifest.twoStage).toBeUndefined();
    expect(manifest.input.scale).toBeCloseTo(1 / 255, 12);
    expect(manifest.classes).toHaveLength(80);
    expect(manifest.classes[79]).toBe('toothbrush');
    expect(manifest.categoryIds![11]).toBe(13); // stop sign: id 12 is a gap
    expect(manifest.notes).toMatch(/NMS and RoIAlign inside this model run on the CPU in ORT/);
    expect(notes.join(' ')).toMatch(/dynamic input size: using 640x640/);
    const check = validateManifest(manifest);
    expect(check.ok ? [] : check.errors).toEqual([]);
  });

  it('the tiny ONNX-zoo-like export: numeric output names, 28x28 masks, BGR minus the zoo means', () => {
    const { manifest, missing } = manifestFromOnnx(read(`${MRCNN}/maskrcnn-zoo-tiny.onnx`), { ...opts('MaskRCNN-10.onnx'), inputSize: 500 });
    expect(missing).toEqual([]);
    expect(manifest).toMatchObject({
      family: 'maskrcnn',
      input: { name: 'image', width: 512, height: 512, channels: 'bgr', scale: 1, mean: [102.9801, 115.9465, 122.7717], std: [1, 1, 1], layout: 'chw' },
      outputs: { boxes: '6568', labels: '6570', scores: '6572', roiMasks: '6887' },
    });
    expect(validateManifest(manifest).ok).toBe(true);
  });

  it('the real torchvision maskrcnn_resnet50_fpn export (I/O signature recorded from torch.onnx.export)', () => {
    const sig = JSON.parse(readFileSync(`${MRCNN}/torchvision-maskrcnn-io.json`, 'utf8')) as OnnxInfo & { bytes: number };
    expect(sig.outputs.map((o) => o.name)).toEqual(['boxes', 'labels', 'scores', 'masks']);
    const { manifest } = detectModel(sig, opts('maskrcnn_resnet50_fpn.onnx'));
    expect(manifest.outputs).toEqual({ boxes: 'boxes', labels: 'labels', scores: 'scores', pastedMasks: 'masks' });
    expect(manifest.input).toMatchObject({ name: 'images_tensors', layout: 'chw', channels: 'rgb' });
  });

  it.skipIf(!existsSync(REAL_TORCHVISION))('readOnnxInfo on the real 178 MB export gives the recorded signature', () => {
    const info = readOnnxInfo(read(REAL_TORCHVISION));
    const sig = JSON.parse(readFileSync(`${MRCNN}/torchvision-maskrcnn-io.json`, 'utf8')) as OnnxInfo;
    expect(info.inputs).toEqual(sig.inputs);
    expect(info.outputs).toEqual(sig.outputs);
  });

  it('recognised by rank, type and order, not by name or position in the list', () => {
    const [boxes, labels, scores, masks] = zooOutputs();
    const { manifest } = detectModel(mrcnn([masks!, scores!, boxes!, labels!], [3, 800, 1088]), opts('x.onnx'));
    expect(manifest.outputs).toEqual({ boxes: '6568', labels: '6570', scores: '6572', roiMasks: '6887' });
    expect(manifest.input).toMatchObject({ width: 1088, height: 800 });
    // A batch axis is accepted too (no 'chw' layout then); int32 labels too.
    const batched = detectModel(mrcnn([boxes!, { ...labels!, elemType: 6 }, scores!, tensor('m', 1, ['N', 1, 640, 640])], [1, 3, 640, 640]), opts('y.onnx'));
    expect(batched.manifest.input.layout).toBeUndefined();
    expect(batched.manifest.outputs.pastedMasks).toBe('m');
  });

  it('refuses near-misses with a message naming the Mask R-CNN outputs', () => {
    const [boxes, labels, scores, masks] = zooOutputs();
    const expected = /Expected Mask R-CNN \(torchvision \/ ONNX zoo\): input \[3,H,W\] and outputs boxes \[N,4\], labels \[N\] int64, scores \[N\], masks/;
    expect(() => detectModel(mrcnn([boxes!, labels!, scores!]), opts('x.onnx'))).toThrow(/there are 3 of them, not 4/);
    expect(() => detectModel(mrcnn([boxes!, labels!, scores!]), opts('x.onnx'))).toThrow(expected);
    expect(() => detectModel(mrcnn([boxes!, labels!, scores!, tensor('m', 1, ['N', 2, 28, 28])]), opts('x.onnx'))).toThrow(/no output is masks \[N, 1, H, W\]/);
    expect(() => detectModel(mrcnn([tensor('b', 1, ['N', 5]), labels!, scores!, masks!]), opts('x.onnx'))).toThrow(/no output is boxes \[N, 4\]/);
    expect(() => detectModel(mrcnn([boxes!, labels!, tensor('s', 7, ['N']), masks!]), opts('x.onnx'))).toThrow(/no output is scores/);
    expect(() => detectModel(mrcnn([tensor('b', 1, [5, 4]), labels!, tensor('s', 1, [6]), masks!]), opts('x.onnx'))).toThrow(/first dimensions \(N\) differ: 5, 6/);
    expect(() => detectModel(mrcnn(zooOutputs(), [1, 4, 'h', 'w']), opts('x.onnx'))).toThrow(/takes an image \[3, H, W\]/);
    expect(() => detectModel({ ...mrcnn(zooOutputs()), inputs: [] }, opts('x.onnx'))).toThrow(/0 inputs/);
    // Not a detection export at all: the general message, which names Mask R-CNN among the families.
    expect(() => detectModel(fakeInfo([['logits', [1, 1000]]]), opts('resnet.onnx'))).toThrow(/match no supported family.*Mask R-CNN \(torchvision \/ ONNX zoo\)/);
  });
});

const REAL_TORCHVISION = '/tmp/maskrcnn_resnet50_fpn.onnx';
function fakeInfo(outputs: Array<[string, Array<number | string | null>]>): OnnxInfo {
  return { producer: 'test', inputs: [{ name: 'images', elemType: 1, dims: [1, 3, 640, 640] }], outputs: outputs.map(([name, dims]) => ({ name, elemType: 1, dims })), metadata: {} };
}
