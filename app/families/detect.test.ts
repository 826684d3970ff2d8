import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ClassNamesError,
  detectModel,
  dynamicInputNote,
  MAX_CLASSES,
  MAX_INPUT_SIDE,
  manifestFromOnnx,
  parseClassNames,
  readClassNames,
  readOnnxInfo,
  UnrecognisedModelError,
  type OnnxInfo,
} from './detect';
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

  const fake = (
    outputs: Array<[string, Array<number | string | null>]>,
    metadata: Record<string, string> = {},
    input: Array<number | string | null> = [1, 3, 640, 640],
  ): OnnxInfo => ({
    producer: 'test',
    inputs: [{ name: 'images', elemType: 1, dims: input }],
    outputs: outputs.map(([name, dims]) => ({ name, elemType: 1, dims })),
    metadata,
  });

  it('YOLACT recognised by shapes when its outputs have other names', () => {
    const outputs: Array<[string, number[]]> = [
      ['a', [1, 19248, 4]],
      ['b', [19248, 4]],
      ['c', [1, 19248, 81]],
      ['d', [1, 19248, 32]],
      ['e', [1, 138, 138, 32]],
    ];
    const { manifest } = detectModel(fake(outputs, {}, [1, 3, 550, 550]), opts('x.onnx'));
    expect(manifest.outputs).toEqual({ loc: 'a', priors: 'b', conf: 'c', mask: 'd', proto: 'e' });
  });

  it('dynamic input: size from imgsz metadata; COCO-sized head; names in a Python dict with quotes', () => {
    const { manifest, notes } = detectModel(
      fake(
        [
          ['output0', [1, 38, 'anchors']],
          ['output1', [1, 32, 160, 160]],
        ],
        { imgsz: '[640, 640]', names: `{0: "it's", 1: 'b'}` },
        [1, 3, 'height', 'width'],
      ),
      opts('dyn.onnx'),
    );
    expect(manifest.input).toMatchObject({ width: 640, height: 640 });
    expect(manifest.classes).toEqual(["it's", 'b']);
    expect(notes.join(' ')).toMatch(
      /dynamic input \[1, 3, height, width\]: runs at 640x640 \(imgsz metadata 640, a multiple of the stride; stride 32: no stride metadata/,
    );
    expect(manifest.notes).toMatch(/runs at 640x640/);
  });

  it('a raw head with nc = 2 ([1, 38, 8400]) is not mistaken for an end-to-end export', () => {
    const { manifest } = detectModel(
      fake([
        ['output0', [1, 38, 8400]],
        ['output1', [1, 32, 160, 160]],
      ]),
      opts('nc2.onnx'),
    );
    expect(manifest.outputs).toEqual({ output0: 'output0', protos: 'output1' });
    expect(manifest.classes).toHaveLength(2);
  });

  it('unknown layouts name what was expected', () => {
    expect(() => detectModel(fake([['logits', [1, 1000]]]), opts('resnet.onnx'))).toThrow(
      /match no supported family.*YOLO-seg \(Ultralytics\): output0 \[1,4\+nc\+32,N\]/,
    );
    expect(() =>
      detectModel(
        fake([
          ['output0', [1, 116, 8000]],
          ['output1', [1, 32, 160, 160]],
        ]),
        opts('x.onnx'),
      ),
    ).toThrow(/8000 anchors; .* has 8400/);
    expect(() =>
      detectModel(
        {
          ...fake([
            ['output0', [1, 116, 8400]],
            ['output1', [1, 32, 160, 160]],
          ]),
          inputs: [],
        },
        opts('x.onnx'),
      ),
    ).toThrow(/0 inputs/);
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

  it('YAML comments are comments, not parts of names', () => {
    const dataYaml = ['# Ultralytics data.yaml', 'path: ../datasets/pets  # root', 'names:', '  0: cat   # the first class', '  1: dog', '# end'].join('\n');
    expect(parseClassNames(dataYaml)).toEqual(['cat', 'dog']);
    expect(parseClassNames('names:\n  - cat # small\n  # - not a class\n  - dog\n')).toEqual(['cat', 'dog']);
    expect(parseClassNames("names: ['a', 'b'] # two")).toEqual(['a', 'b']);
  });

  it('quoted names keep their commas (flow lists, maps, one-line comma lists)', () => {
    expect(parseClassNames(`names: ['a, b', "c"]`)).toEqual(['a, b', 'c']);
    expect(parseClassNames(`['hot dog, with mustard', plain]`)).toEqual(['hot dog, with mustard', 'plain']);
    expect(parseClassNames(`{0: 'person, adult', 1: "it's"}`)).toEqual(['person, adult', "it's"]);
    expect(parseClassNames(`'a, b', c`)).toEqual(['a, b', 'c']);
    expect(parseClassNames('names:\n  - "x, y"\n  - z\n')).toEqual(['x, y', 'z']);
  });

  it('both Ultralytics forms of names (a map of indices, a list), block and flow style', () => {
    expect(parseClassNames('names:\n  0: person\n  1: bicycle\n  2: traffic light\n')).toEqual(['person', 'bicycle', 'traffic light']);
    expect(parseClassNames('names:\n  - person\n  - bicycle\n')).toEqual(['person', 'bicycle']);
    expect(parseClassNames('names: {0: person, 1: bicycle}')).toEqual(['person', 'bicycle']);
    expect(parseClassNames('names: [person, bicycle]')).toEqual(['person', 'bicycle']);
    expect(parseClassNames('nc: 2\nnames: [person, bicycle]\n')).toEqual(['person', 'bicycle']);
    // Every scalar is a name (no YAML 1.1 booleans, numbers or nulls).
    expect(parseClassNames('names: [yes, no, null, 1e3, on]')).toEqual(['yes', 'no', 'null', '1e3', 'on']);
    // A YAML document without names (a data.yaml missing them) has none.
    expect(parseClassNames('path: data\nnc: 2\n')).toEqual([]);
  });

  it('plain text stays plain: one name a line (YAML would fold them), one comma line', () => {
    expect(parseClassNames('traffic light\nstop sign\nfire hydrant\n')).toEqual(['traffic light', 'stop sign', 'fire hydrant']);
    expect(parseClassNames('"quoted one"\nplain\n')).toEqual(['quoted one', 'plain']);
    expect(parseClassNames('person: a human\ncar\n')).toEqual(['person: a human', 'car']); // not YAML: taken line by line
    expect(parseClassNames('a,b,c')).toEqual(['a', 'b', 'c']);
  });

  it('hostile texts give no names rather than a huge list; readClassNames says why', () => {
    expect(parseClassNames('{99999999: "x"}')).toEqual([]);
    expect(() => readClassNames('{99999999: "x"}')).toThrow(new RegExp(`class index 99999999 is past the ${MAX_CLASSES} classes`));
    expect(() => readClassNames("{0: 'a', 2: 'c'}", { dense: true })).toThrow(ClassNamesError);
    expect(() => readClassNames("{0: 'a', 2: 'c'}", { dense: true })).toThrow(/not 0 to 1/);
    expect(() => readClassNames(Array.from({ length: 3000 }, (_, i) => `c${i}`).join('\n'))).toThrow(new RegExp(`at most ${MAX_CLASSES} classes`));
    expect(() => readClassNames('names: [a, [b]]')).toThrow(/class 1 is not a name/);
    expect(() => readClassNames('names: [a, b')).toThrow(/not valid YAML/);
    expect(() => readClassNames('x'.repeat(70000))).toThrow(/at most 64 kB/);
  });
});

describe('detectModel: bounds and validation (issue 14)', () => {
  const yolo = (
    input: Array<number | string | null>,
    metadata: Record<string, string> = {},
    head: Array<number | string | null> = [1, 39, 2100],
  ): OnnxInfo => ({
    producer: 'test',
    inputs: [{ name: 'images', elemType: 1, dims: input }],
    outputs: [
      { name: 'output0', elemType: 1, dims: head },
      { name: 'output1', elemType: 1, dims: [1, 32, 80, 80] },
    ],
    metadata,
  });

  it("refuses input sides past the validator's MAX_INPUT_SIDE, from the file, from imgsz or from options", () => {
    expect(() => detectModel(yolo([1, 3, 100000, 100000]), opts('x.onnx'))).toThrow(
      new RegExp(`“images” \\[1, 3, 100000, 100000\\]: the height is 100000; SegArena runs 1 to ${MAX_INPUT_SIDE}`),
    );
    expect(() => detectModel(yolo([1, 3, 'h', 'w']), { ...opts('x.onnx'), inputSize: 100000 })).toThrow(UnrecognisedModelError);
    // imgsz out of bounds is ignored (noted), the default size is used.
    const { manifest, notes } = detectModel(yolo([1, 3, 'h', 'w'], { imgsz: '[100000, 100000]' }, [1, 39, 'n']), opts('x.onnx'));
    expect(manifest.input).toMatchObject({ width: 640, height: 640 });
    expect(notes.join(' ')).toMatch(/imgsz metadata “\[100000, 100000\]” ignored/);
  });

  it('refuses class counts past MAX_CLASSES before sizing anything by them', () => {
    expect(() => detectModel(yolo([1, 3, 320, 320], {}, [1, 4 + 32 + 100000000, 2100]), opts('x.onnx'))).toThrow(UnrecognisedModelError);
    const conf = [
      ['loc', [1, 100, 4]],
      ['conf', [1, 100, 100000001]],
      ['mask', [1, 100, 32]],
      ['priors', [100, 4]],
      ['proto', [1, 96, 96, 32]],
    ] as Array<[string, number[]]>;
    expect(() => detectModel(fakeInfo(conf), opts('x.onnx'))).toThrow(
      new RegExp(`YOLACT output “conf” \\[1, 100, 100000001\\]: 100000000 classes; SegArena runs at most ${MAX_CLASSES}`),
    );
  });

  it('names metadata with sparse or huge keys is ignored with a note; the model keeps its class count', () => {
    const { manifest, missing, notes } = detectModel(yolo([1, 3, 320, 320], { names: '{99999999: "x"}' }), opts('x.onnx'));
    expect(manifest.classes).toEqual(['class0', 'class1', 'class2']);
    expect(missing).toEqual(['classes']);
    expect(notes.join(' ')).toMatch(/names metadata ignored: class index 99999999/);
    const sparse = detectModel(yolo([1, 3, 320, 320], { names: "{0: 'a', 1: 'b', 3: 'd'}" }), opts('x.onnx'));
    expect(sparse.missing).toEqual(['classes']);
  });

  it("runs the full manifest validation on what it made, refusing with the validator's errors", () => {
    const unnamed = yolo([1, 3, 320, 320]);
    unnamed.inputs[0]!.name = '';
    unnamed.outputs[0]!.name = '';
    expect(() => detectModel(unnamed, opts('x.onnx'))).toThrow(
      /the manifest made from it is not valid: input\.name: expected a non-empty string; outputs\.output0: expected a non-empty string/,
    );
  });
});

describe('readOnnxInfo: a hostile protobuf is refused, never over-read', () => {
  const header = () => read(`${TEST_MODELS}/yoloseg-tiny-320-nc3.onnx`);

  it('a length past its parent, and truncation inside the header', () => {
    // ModelProto field 7 (graph) claiming 2^31 bytes in a small file.
    const lying = new Uint8Array([0x3a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00]);
    expect(() => readOnnxInfo(lying)).toThrow(/a field of 2147483648 bytes runs past its message \(1 bytes left\)/);
    expect(() => readOnnxInfo(header().subarray(0, 300))).toThrow(UnrecognisedModelError);
  });

  it('dims that are negative or past int32 are refused, -1 is read as dynamic', () => {
    // Graph with one output “o” whose one dim has the given varint bytes.
    const withDim = (varint: number[]) => {
      const dim = [0x0a, varint.length + 1, 0x08, ...varint];
      const shape = [0x12, dim.length, ...dim];
      const tensor = [0x0a, shape.length + 2, 0x08, 0x01, ...shape];
      const type = [0x12, tensor.length, ...tensor];
      const output = [0x0a, 0x01, 0x6f, ...type];
      const graph = [0x62, output.length, ...output];
      return new Uint8Array([0x3a, graph.length, ...graph]);
    };
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    expect(readOnnxInfo(withDim(minusOne)).outputs[0]!.dims).toEqual([null]);
    expect(readOnnxInfo(withDim([0x05])).outputs[0]!.dims).toEqual([5]);
    expect(() => readOnnxInfo(withDim([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/output “o”: a negative dimension \(-2\)/);
    expect(() => readOnnxInfo(withDim([0x80, 0x80, 0x80, 0x80, 0x08]))).toThrow(/a dimension of 2147483648, past 2147483647/);
    // 2^53 + 1: exact, not rounded to 2^53.
    expect(() => readOnnxInfo(withDim([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]))).toThrow(/a dimension of 9007199254740993/);
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
  const zooOutputs = () => [tensor('6568', 1, ['N', 4]), tensor('6570', 7, ['N']), tensor('6572', 1, ['N']), tensor('6887', 1, ['N', 1, 28, 28])];

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
    expect(() => detectModel(mrcnn([tensor('b', 1, [5, 4]), labels!, tensor('s', 1, [6]), masks!]), opts('x.onnx'))).toThrow(
      /first dimensions \(N\) differ: 5, 6/,
    );
    expect(() => detectModel(mrcnn(zooOutputs(), [1, 4, 'h', 'w']), opts('x.onnx'))).toThrow(/takes an image \[3, H, W\]/);
    expect(() => detectModel({ ...mrcnn(zooOutputs()), inputs: [] }, opts('x.onnx'))).toThrow(/0 inputs/);
    // Not a detection export at all: the general message, which names Mask R-CNN among the families.
    expect(() => detectModel(fakeInfo([['logits', [1, 1000]]]), opts('resnet.onnx'))).toThrow(
      /match no supported family.*Mask R-CNN \(torchvision \/ ONNX zoo\)/,
    );
  });
});

const REAL_TORCHVISION = '/tmp/maskrcnn_resnet50_fpn.onnx';
function fakeInfo(outputs: Array<[string, Array<number | string | null>]>): OnnxInfo {
  return {
    producer: 'test',
    inputs: [{ name: 'images', elemType: 1, dims: [1, 3, 640, 640] }],
    outputs: outputs.map(([name, dims]) => ({ name, elemType: 1, dims })),
    metadata: {},
  };
}

describe('detectModel: every YOLO-seg export layout (issue 18)', () => {
  const info = (
    outputs: Array<[string, Array<number | string | null>]>,
    {
      metadata = {},
      input = [1, 3, 640, 640],
      elemType = 1,
    }: { metadata?: Record<string, string>; input?: Array<number | string | null>; elemType?: number } = {},
  ): OnnxInfo => ({
    producer: 'test',
    inputs: [{ name: 'images', elemType, dims: input }],
    outputs: outputs.map(([name, dims]) => ({ name, elemType, dims })),
    metadata,
  });
  const valid = (m: ReturnType<typeof detectModel>['manifest']) => {
    const check = validateManifest(m);
    expect(check.ok ? [] : check.errors).toEqual([]);
  };

  it('transposed raw head [1, N, 4+nc+32] (the test file made from nc80 weights): read anchors-first, COCO names', () => {
    const { manifest, missing, notes } = manifestFromOnnx(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80-transposed.onnx`), opts('t.onnx'));
    expect(missing).toEqual([]);
    expect(manifest.outputs).toEqual({ output0: 'output0', protos: 'output1' });
    expect(manifest.classes).toHaveLength(80);
    expect(manifest.classes[0]).toBe('person');
    expect(yoloSegLayout(manifest)).toMatchObject({ head: 'raw', numAnchors: 2100, numClasses: 80 });
    expect(notes.join(' ')).toMatch(/transposed/);
    expect(manifest.notes).toMatch(/output0 transposed \[1, N, 4\+nc\+32\]/);
    valid(manifest);
  });

  it('transposed heads: 3 classes at 640, dynamic anchors, nc = 2 (38 rows) at its anchor count; wrong anchor counts refused', () => {
    const three = detectModel(
      info([
        ['output0', [1, 8400, 39]],
        ['output1', [1, 32, 160, 160]],
      ]),
      opts('t3.onnx'),
    );
    expect(three.manifest.classes).toHaveLength(3);
    expect(three.manifest.notes).toMatch(/transposed/);
    const dyn = detectModel(
      info(
        [
          ['output0', ['batch', 'anchors', 116]],
          ['output1', ['batch', 32, 'h', 'w']],
        ],
        { input: ['batch', 3, 'height', 'width'] },
      ),
      opts('td.onnx'),
    );
    expect(dyn.manifest.classes).toHaveLength(80);
    expect(dyn.manifest.notes).toMatch(/transposed/);
    // 38 = 4 + 2 + 32 is also an end-to-end row: [1, 8400, 38] at 640 is the transposed nc = 2 head, [1, 300, 38] end-to-end.
    const two = detectModel(
      info([
        ['output0', [1, 8400, 38]],
        ['output1', [1, 32, 160, 160]],
      ]),
      opts('t2.onnx'),
    );
    expect(two.manifest.outputs).toEqual({ output0: 'output0', protos: 'output1' });
    expect(two.manifest.classes).toHaveLength(2);
    const e2e = detectModel(
      info([
        ['output0', [1, 300, 38]],
        ['output1', [1, 32, 160, 160]],
      ]),
      opts('e.onnx'),
    );
    expect(e2e.manifest.outputs).toEqual({ detections: 'output0', protos: 'output1' });
    expect(() =>
      detectModel(
        info([
          ['output0', [1, 8000, 116]],
          ['output1', [1, 32, 160, 160]],
        ]),
        opts('x.onnx'),
      ),
    ).toThrow(/8000 anchors; .* has 8400/);
  });

  it('dynamic input (the test file): Ultralytics axes, runs at imgsz 320 and says so in the pane notes', () => {
    const bytes = read(`${TEST_MODELS}/yoloseg-tiny-dynamic-nc80.onnx`);
    expect(readOnnxInfo(bytes).inputs[0]!.dims).toEqual(['batch', 3, 'height', 'width']);
    expect(readOnnxInfo(bytes).outputs.map((o) => o.dims)).toEqual([
      ['batch', 116, 'anchors'],
      ['batch', 32, 'mask_height', 'mask_width'],
    ]);
    const { manifest, missing } = manifestFromOnnx(bytes, opts('dyn.onnx'));
    expect(missing).toEqual([]);
    expect(manifest.input).toMatchObject({ width: 320, height: 320 });
    // The sentence the “Model added” step shows as a notice; none for a fixed-size file.
    expect(dynamicInputNote(manifest)).toBe(
      'dynamic input [batch, 3, height, width]: runs at 320x320 (imgsz metadata 320, a multiple of the stride; stride 32 from the metadata)',
    );
    expect(dynamicInputNote(manifestFromOnnx(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80.onnx`), opts('n.onnx')).manifest)).toBeNull();
    expect(manifest.notes).toContain(
      'dynamic input [batch, 3, height, width]: runs at 320x320 (imgsz metadata 320, a multiple of the stride; stride 32 from the metadata)',
    );
    valid(manifest);
  });

  it('dynamic input: sizes rounded up to the stride; the stride metadata, the default 640, an asked-for size', () => {
    const head: Array<[string, Array<number | string | null>]> = [
      ['output0', [1, 116, 'anchors']],
      ['output1', [1, 32, 'mh', 'mw']],
    ];
    const input = [1, 3, '?', '?'];
    const odd = detectModel(info(head, { input, metadata: { imgsz: '[300, 500]', stride: '32' } }), opts('a.onnx')).manifest;
    expect(odd.input).toMatchObject({ height: 320, width: 512 });
    expect(odd.notes).toMatch(/runs at 512x320 \(height: imgsz metadata 300, rounded to a multiple of the stride; width: imgsz metadata 500, rounded/);
    const none = detectModel(info(head, { input }), opts('b.onnx')).manifest;
    expect(none.input).toMatchObject({ height: 640, width: 640 });
    expect(none.notes).toMatch(/runs at 640x640 \(no imgsz metadata: the default 640, a multiple of the stride; stride 32: no stride metadata/);
    const s64 = detectModel(info(head, { input, metadata: { imgsz: '[640, 640]', stride: '[8, 16, 32, 64]' } }), opts('c.onnx')).manifest;
    expect(s64.input).toMatchObject({ height: 640, width: 640 });
    expect(s64.notes).toMatch(/stride 64 from the metadata/);
    const asked = detectModel(info(head, { input, metadata: { imgsz: '[640, 640]' } }), { ...opts('d.onnx'), inputSize: 400 }).manifest;
    expect(asked.input).toMatchObject({ height: 416, width: 416 });
    expect(asked.notes).toMatch(/asked for 400, rounded/);
    const badStride = detectModel(info(head, { input, metadata: { stride: 'big' } }), opts('e.onnx'));
    expect(badStride.notes.join(' ')).toMatch(/stride metadata “big” ignored/);
    // One side fixed, one dynamic: only the dynamic one is chosen.
    const half = detectModel(info(head, { input: [1, 3, 480, 'w'], metadata: { imgsz: '[480, 600]' } }), opts('f.onnx')).manifest;
    expect(half.input).toMatchObject({ height: 480, width: 608 });
    for (const m of [odd, none, s64, asked, half]) valid(m);
  });

  it('float16 export (the test file): input and outputs float16, recognised with its names; the note says where it runs', () => {
    const bytes = read(`${TEST_MODELS}/yoloseg-tiny-320-nc80-fp16.onnx`);
    const raw = readOnnxInfo(bytes);
    expect([raw.inputs[0]!.elemType, ...raw.outputs.map((o) => o.elemType)]).toEqual([10, 10, 10]);
    const { manifest, missing, notes } = manifestFromOnnx(bytes, opts('h.onnx'));
    expect(missing).toEqual([]);
    expect(manifest.classes[79]).toBe('toothbrush');
    expect(manifest.outputs).toEqual({ output0: 'output0', protos: 'output1' });
    expect(notes.join(' ')).toMatch(/float16 export/);
    expect(manifest.notes).toMatch(/float16 input and outputs/);
    valid(manifest);
  });

  it('float16 is read for YOLO-seg only; other element types are refused with the type named', () => {
    const half = (outputs: Array<[string, number[]]>) => info(outputs, { elemType: 10, input: [1, 3, 550, 550] });
    expect(() =>
      detectModel(
        half([
          ['loc', [1, 19248, 4]],
          ['conf', [1, 19248, 81]],
          ['mask', [1, 19248, 32]],
          ['priors', [19248, 4]],
          ['proto', [1, 138, 138, 32]],
        ]),
        opts('y.onnx'),
      ),
    ).toThrow(/float16; SegArena reads YOLACT outputs as float32 only/);
    const double = {
      ...info([
        ['output0', [1, 116, 8400]],
        ['output1', [1, 32, 160, 160]],
      ]),
    };
    double.outputs[0]!.elemType = 11;
    expect(() => detectModel(double, opts('d.onnx'))).toThrow(/not float32 or float16 \(ONNX type 11\)/);
    const int8Input = info([
      ['output0', [1, 116, 8400]],
      ['output1', [1, 32, 160, 160]],
    ]);
    int8Input.inputs[0]!.elemType = 3;
    expect(() => detectModel(int8Input, opts('i.onnx'))).toThrow(/not float32 or float16 \(ONNX type 3\)/);
  });

  it('the end-to-end test file is laid out as Ultralytics writes it: [1, 300, 38], rows by score, class indices as floats', () => {
    const raw = readOnnxInfo(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80-e2e.onnx`));
    expect(raw.outputs.map((o) => o.dims)).toEqual([
      [1, 300, 38],
      [1, 32, 80, 80],
    ]);
    const { manifest } = manifestFromOnnx(read(`${TEST_MODELS}/yoloseg-tiny-320-nc80-e2e.onnx`), opts('e2e.onnx'));
    expect(manifest.notes).toMatch(/end-to-end export, NMS in the graph/);
  });
});
