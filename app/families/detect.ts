/**
 * Recognising a dropped ONNX model: read its interface straight from the ONNX protobuf
 * (no ORT session needed), match it against the families we run, and make a ModelManifest.
 *
 *   readOnnxInfo(bytes)      → inputs / outputs (names, element types, shapes) + metadata_props
 *   detectModel(info, file)  → { manifest, missing, notes }   (throws UnrecognisedModelError)
 *   parseClassNames(text)    → class names from a pasted list, a .txt or a .yaml / Ultralytics `names`
 *
 * Families recognised (MODELS.md):
 *   YOLACT        5 outputs loc [1,N,4], conf [1,N,C+1], mask [1,N,K], priors [N,4], proto [1,P,P,K]
 *   YOLO-seg      output0 [1, 4+nc+32, N] + protos [1, 32, H/4, W/4]
 *   YOLO-seg e2e  output0 [1, R, 6+32] (NMS in the graph) + protos [1, 32, H/4, W/4]
 *   Mask R-CNN    public single-file exports with NMS and RoiAlign in the graph (MODELS.md §3),
 *                 input [3, H, W] (no batch axis; [1, 3, H, W] accepted too), four outputs
 *                 recognised by rank, type and order, never by name:
 *                   boxes [N, 4] f32, labels [N] int64 (or int32), scores [N] f32, masks [N, 1, h, w] f32
 *                 masks [N, 1, 28, 28] → ONNX-zoo MaskRCNN-10 (BGR 0–255 minus its means,
 *                 contiguous labels 1..80, unpasted masks); any other [N, 1, H, W] →
 *                 torchvision (RGB 0–1, COCO category ids, masks pasted at the input size).
 *                 Class names are COCO's 80 (no dialog). See families/maskRcnn/exported.ts.
 * What the file cannot tell (class names when there is no Ultralytics `names` metadata) is
 * listed in `missing`, with placeholder names in the manifest, so the UI can ask for them.
 *
 * Protobuf reading: only the fields needed, by number (onnx.proto3): ModelProto 2 producer_name,
 * 7 graph, 14 metadata_props {1 key, 2 value}; GraphProto 5 initializer (TensorProto 8 name),
 * 11 input, 12 output; ValueInfoProto 1 name, 2 type; TypeProto 1 tensor_type {1 elem_type,
 * 2 shape}; TensorShapeProto 1 dim {1 dim_value, 2 dim_param}. Other fields are skipped by
 * their wire type, so a 100 MB model is walked without copying its weights.
 */
import type { ModelManifest } from '../types';
import { anchorCount, END_TO_END_ROWS, PROTO_STRIDE, YOLO_SEG_PROTOTYPES } from './yoloSeg/manifest';
import { COCO_CATEGORIES, EXPORTED_CPU_NOTE, ROI_MASK_SIDE } from './maskRcnn/exported';

/** One dimension: a number, or the symbolic name / null of a dynamic one. */
export type Dim = number | string | null;

export interface OnnxTensorInfo {
  name: string;
  /** ONNX TensorProto.DataType (1 = float32, 10 = float16, 7 = int64). */
  elemType: number;
  dims: Dim[];
}

export interface OnnxInfo {
  producer: string;
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
  metadata: Record<string, string>;
}

// ---------------------------------------------------------------- protobuf reading

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class ProtoReader {
  pos: number;
  constructor(private readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a Number (exact below 2^53); negative int64 values (10 bytes) come out ≥ 2^63. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** Next field: number and wire type (call `skip`, `varint`, `sub` or `string` after). */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  /** A length-delimited field as a sub-reader. */
  sub(): ProtoReader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error('length-delimited field runs past its message');
    this.pos += len;
    return new ProtoReader(this.bytes, start, start + len);
  }

  string(): string {
    const r = this.sub();
    return new TextDecoder().decode(this.bytes.subarray(r.pos, r.end));
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_LEN) this.sub();
    else if (wire === WIRE_I32) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) throw new Error('field runs past its message');
  }

  /** Calls `on(field, wire)` for every field; `on` returns false to skip the field. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const { field, wire } = this.tag();
      if (!on(field, wire)) this.skip(wire);
    }
  }
}

function dimValue(v: number): number | null {
  return v >= 2 ** 62 ? null : v;
}

function readDim(r: ProtoReader): Dim {
  let dim: Dim = null;
  r.fields((f, w) => {
    if (f === 1 && w === WIRE_VARINT) dim = dimValue(r.varint());
    else if (f === 2 && w === WIRE_LEN) dim = r.string();
    else return false;
    return true;
  });
  return dim;
}

function readTensorShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  r.fields((f, w) => {
    if (f !== 1 || w !== WIRE_LEN) return false;
    dims.push(readDim(r.sub()));
    return true;
  });
  return dims;
}

function readValueInfo(r: ProtoReader): OnnxTensorInfo {
  const info: OnnxTensorInfo = { name: '', elemType: 0, dims: [] };
  r.fields((f, w) => {
    if (f === 1 && w === WIRE_LEN) info.name = r.string();
    else if (f === 2 && w === WIRE_LEN) {
      const type = r.sub();
      type.fields((tf, tw) => {
        if (tf !== 1 || tw !== WIRE_LEN) return false; // tensor_type only
        const tensor = type.sub();
        tensor.fields((xf, xw) => {
          if (xf === 1 && xw === WIRE_VARINT) info.elemType = tensor.varint();
          else if (xf === 2 && xw === WIRE_LEN) info.dims = readTensorShape(tensor.sub());
          else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return info;
}

/** The interface and metadata of an ONNX model (ModelProto bytes). */
export function readOnnxInfo(bytes: Uint8Array): OnnxInfo {
  const info: OnnxInfo = { producer: '', inputs: [], outputs: [], metadata: {} };
  let sawGraph = false;
  try {
    const model = new ProtoReader(bytes);
    const initializers = new Set<string>();
    model.fields((field, wire) => {
      if (field === 2 && wire === WIRE_LEN) info.producer = model.string();
      else if (field === 14 && wire === WIRE_LEN) {
        const entry = model.sub();
        let key = '';
        let value = '';
        entry.fields((f, w) => {
          if (w !== WIRE_LEN || (f !== 1 && f !== 2)) return false;
          if (f === 1) key = entry.string();
          else value = entry.string();
          return true;
        });
        info.metadata[key] = value;
      } else if (field === 7 && wire === WIRE_LEN) {
        sawGraph = true;
        const graph = model.sub();
        graph.fields((f, w) => {
          if (w !== WIRE_LEN) return false;
          if (f === 11) info.inputs.push(readValueInfo(graph.sub()));
          else if (f === 12) info.outputs.push(readValueInfo(graph.sub()));
          else if (f === 5) {
            const tensor = graph.sub();
            tensor.fields((tf, tw) => (tf === 8 && tw === WIRE_LEN ? (initializers.add(tensor.string()), true) : false));
          } else return false;
          return true;
        });
      } else return false;
      return true;
    });
    // Before IR 4, initializers were also listed as graph inputs.
    info.inputs = info.inputs.filter((i) => !initializers.has(i.name));
  } catch (e) {
    throw new UnrecognisedModelError(`not a readable ONNX file (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!sawGraph || info.outputs.length === 0) throw new UnrecognisedModelError('not an ONNX model: no graph with outputs found');
  return info;
}

// ---------------------------------------------------------------- class names

/**
 * Class names from text: Ultralytics' `names` metadata (`{0: 'person', 1: 'bicycle'}`), a
 * YAML `names:` block (list `- person` or map `0: person`) or inline list, or plain text
 * (one name a line, or comma-separated on one line). Empty result when nothing is found.
 */
export function parseClassNames(text: string): string[] {
  const unquote = (s: string) => {
    const t = s.trim();
    return (t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"')) ? t.slice(1, -1) : t;
  };
  const trimmed = text.trim();
  if (!trimmed) return [];
  // Python dict repr: {0: 'a', 1: "b's"}
  if (trimmed.startsWith('{')) {
    const entries = [...trimmed.matchAll(/(\d+)\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,}]+)/g)];
    const out: string[] = [];
    for (const m of entries) out[Number(m[1])] = unquote(m[2]!);
    return Array.from(out, (v, i) => v ?? `class${i}`);
  }
  // Inline list: ['a', 'b'] or [a, b]
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
    return trimmed.slice(1, -1).split(',').map(unquote).filter(Boolean);
  }
  // YAML with a names: key
  const lines = trimmed.split(/\r?\n/);
  const at = lines.findIndex((l) => /^names\s*:/.test(l));
  if (at >= 0) {
    const rest = lines[at]!.replace(/^names\s*:/, '').trim();
    if (rest) return parseClassNames(rest);
    const out: string[] = [];
    for (const line of lines.slice(at + 1)) {
      if (!/^\s/.test(line) && line.trim()) break; // next top-level key
      const item = line.match(/^\s+-\s*(.+)$/);
      const pair = line.match(/^\s+(\d+)\s*:\s*(.+)$/);
      if (item) out.push(unquote(item[1]!));
      else if (pair) out[Number(pair[1])] = unquote(pair[2]!);
    }
    return Array.from(out, (v, i) => v ?? `class${i}`);
  }
  if (lines.length === 1 && trimmed.includes(',')) return trimmed.split(',').map(unquote).filter(Boolean);
  return lines.map(unquote).filter(Boolean);
}

// ---------------------------------------------------------------- family recognition

export class UnrecognisedModelError extends Error {
  override name = 'UnrecognisedModelError';
}

export interface DetectedModel {
  manifest: ModelManifest;
  /** What the file could not tell; the UI asks for it ('classes': names are placeholders). */
  missing: Array<'classes'>;
  /** Human-readable remarks (assumptions made). */
  notes: string[];
}

export interface DetectOptions {
  /** File name (id and display name come from it). */
  fileName: string;
  /** Where the app will load the bytes from (blob: URL, IndexedDB key …). */
  url: string;
  /** Input size to assume when the model's input is dynamic (default: `imgsz` metadata, else 640). */
  inputSize?: number;
}

const shapeText = (d: readonly Dim[]) => `[${d.map((v) => (v === null ? '?' : v)).join(', ')}]`;
const known = (d: Dim): d is number => typeof d === 'number';
const FLOAT32 = 1;
const INT32 = 6;
const INT64 = 7;

const MASK_RCNN_EXPECTED =
  'Mask R-CNN (torchvision / ONNX zoo): input [3,H,W] and outputs boxes [N,4], labels [N] int64, scores [N], masks [N,1,H,W] (pasted) or [N,1,28,28]';

const EXPECTED = [
  'YOLACT: outputs loc [1,N,4], conf [1,N,C+1], mask [1,N,32], priors [N,4], proto [1,P,P,32]',
  'YOLO-seg (Ultralytics): output0 [1,4+nc+32,N] and protos [1,32,H/4,W/4]',
  'YOLO-seg end-to-end: output0 [1,300,38] and protos [1,32,H/4,W/4]',
  MASK_RCNN_EXPECTED,
].join('; ');

function describeOutputs(info: OnnxInfo): string {
  return info.outputs.map((o) => `${o.name} ${shapeText(o.dims)}`).join(', ');
}

function baseName(fileName: string): string {
  return fileName.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'model';
}

/** Input [1, 3, H, W] → its name and size (dynamic sides from `imgsz` metadata or the default). */
function inputOf(info: OnnxInfo, options: DetectOptions, notes: string[]): { name: string; width: number; height: number } {
  if (info.inputs.length !== 1) {
    throw new UnrecognisedModelError(`the model has ${info.inputs.length} inputs (${info.inputs.map((i) => i.name).join(', ')}); expected one image input [1, 3, H, W]`);
  }
  const input = info.inputs[0]!;
  const d = input.dims;
  if (d.length !== 4 || (known(d[1]!) && d[1] !== 3)) {
    throw new UnrecognisedModelError(`input “${input.name}” ${shapeText(d)}: expected an image tensor [1, 3, H, W]`);
  }
  if (input.elemType !== FLOAT32) throw new UnrecognisedModelError(`input “${input.name}” is not float32 (ONNX type ${input.elemType})`);
  let height = d[2];
  let width = d[3];
  if (!known(height) || !known(width)) {
    const imgsz = parseClassNames(info.metadata.imgsz ?? '').map(Number).filter((v) => v > 0);
    const size = options.inputSize ?? imgsz[0] ?? 640;
    height = known(height) ? height : (imgsz[0] ?? size);
    width = known(width) ? width : (imgsz[1] ?? imgsz[0] ?? size);
    notes.push(`dynamic input size: using ${width}x${height}`);
  }
  return { name: input.name, width, height };
}

function classesFrom(info: OnnxInfo, count: number | null, missing: DetectedModel['missing'], notes: string[]): string[] {
  const names = info.metadata.names ? parseClassNames(info.metadata.names) : [];
  if (names.length > 0 && (count === null || names.length === count)) return names;
  if (names.length > 0) notes.push(`metadata lists ${names.length} class names but the outputs hold ${count} classes; names ignored`);
  missing.push('classes');
  return Array.from({ length: count ?? 0 }, (_, i) => `class${i}`);
}

function detectYolact(info: OnnxInfo): Record<string, OnnxTensorInfo> | null {
  if (info.outputs.length !== 5) return null;
  const byName = Object.fromEntries(info.outputs.map((o) => [o.name, o]));
  const names = ['loc', 'conf', 'mask', 'priors', 'proto'];
  if (names.every((n) => byName[n])) return Object.fromEntries(names.map((n) => [n, byName[n]!]));
  // By shape: priors [N,4], loc [1,N,4], proto rank 4, mask [1,N,K] with K = proto's last, conf the other.
  const rank = (o: OnnxTensorInfo) => o.dims.length;
  const priors = info.outputs.find((o) => rank(o) === 2 && o.dims[1] === 4);
  const loc = info.outputs.find((o) => rank(o) === 3 && o.dims[2] === 4);
  const proto = info.outputs.find((o) => rank(o) === 4);
  if (!priors || !loc || !proto) return null;
  const k = proto.dims[3];
  const rest = info.outputs.filter((o) => o !== priors && o !== loc && o !== proto);
  const mask = rest.find((o) => rank(o) === 3 && o.dims[2] === k);
  const conf = rest.find((o) => o !== mask && rank(o) === 3);
  if (!mask || !conf) return null;
  return { loc, conf, mask, priors, proto };
}

/** Default input size of a Mask R-CNN export with a dynamic input (the zoo resizes to 800; smaller for the browser). */
export const MASK_RCNN_DEFAULT_INPUT = 640;
/** The ONNX zoo's input sides must be multiples of 32 (its FPN). */
const ZOO_SIDE_MULTIPLE = 32;
/** The ONNX zoo's BGR means (maskrcnn-benchmark, 0–255). */
export const ZOO_MEAN: [number, number, number] = [102.9801, 115.9465, 122.7717];

const isInteger = (o: OnnxTensorInfo) => o.elemType === INT64 || o.elemType === INT32;
const fits = (d: Dim | undefined, v: number) => d === undefined || !known(d) || d === v;

/**
 * Public Mask R-CNN exports (torchvision, ONNX zoo): four outputs matched by rank, type and
 * order (names are numeric in the zoo): boxes [N,4], labels [N] int, scores [N] f32, masks
 * [N,1,h,w]. Returns null when the model does not look like a detection export at all;
 * throws naming the expected outputs when it looks like one (an integer output, or a
 * [N, 4] + [N, 1, h, w] pair) but does not fit.
 */
function detectMaskRcnn(info: OnnxInfo, options: DetectOptions, id: string, base: string): DetectedModel | null {
  const outs = info.outputs;
  const rank = (o: OnnxTensorInfo) => o.dims.length;
  const looksLike = outs.some(isInteger) || (outs.some((o) => rank(o) === 2 && fits(o.dims[1], 4)) && outs.some((o) => rank(o) === 4 && fits(o.dims[1], 1) && known(o.dims[1]!)));
  if (!looksLike) return null;
  const refuse = (why: string): never => {
    throw new UnrecognisedModelError(`the model's outputs (${describeOutputs(info)}) look like a detection export but ${why}. Expected ${MASK_RCNN_EXPECTED}`);
  };
  if (outs.length !== 4) refuse(`there are ${outs.length} of them, not 4`);
  const boxes = outs.find((o) => rank(o) === 2 && fits(o.dims[1], 4) && o.elemType === FLOAT32);
  const masks = outs.find((o) => rank(o) === 4 && fits(o.dims[1], 1) && o.elemType === FLOAT32);
  const ones = outs.filter((o) => rank(o) === 1);
  // Labels: the integer one; both float (a cast export): the first, as in both layouts.
  const labels = ones.find(isInteger) ?? (ones.length === 2 && ones.every((o) => o.elemType === FLOAT32) ? ones[0] : undefined);
  const scores = ones.find((o) => o !== labels && o.elemType === FLOAT32);
  if (!boxes) refuse('no output is boxes [N, 4] float32');
  if (!masks) refuse('no output is masks [N, 1, H, W] float32');
  if (!labels) refuse('no output is labels [N] int64');
  if (!scores) refuse('no output is scores [N] float32');
  const ns = [boxes!, labels!, scores!, masks!].map((o) => o.dims[0]).filter(known);
  if (new Set(ns).size > 1) refuse(`their first dimensions (N) differ: ${ns.join(', ')}`);
  const notes: string[] = [];
  if (labels!.elemType === FLOAT32) notes.push('labels are float32 here (int64 in torchvision and the zoo); taken as the first [N] output');

  if (info.inputs.length !== 1) throw new UnrecognisedModelError(`the model has ${info.inputs.length} inputs (${info.inputs.map((i) => i.name).join(', ')}); a Mask R-CNN export takes one image [3, H, W]`);
  const input = info.inputs[0]!;
  const d = input.dims;
  const chw = d.length === 3;
  if (!(chw && fits(d[0], 3)) && !(d.length === 4 && fits(d[0], 1) && fits(d[1], 3))) {
    throw new UnrecognisedModelError(`input “${input.name}” ${shapeText(d)}: a Mask R-CNN export takes an image [3, H, W]`);
  }
  if (input.elemType !== FLOAT32) throw new UnrecognisedModelError(`input “${input.name}” is not float32 (ONNX type ${input.elemType})`);
  const zoo = masks!.dims[2] === ROI_MASK_SIDE && masks!.dims[3] === ROI_MASK_SIDE;
  let height = d[d.length - 2];
  let width = d[d.length - 1];
  if (!known(height) || !known(width)) {
    const size = options.inputSize ?? MASK_RCNN_DEFAULT_INPUT;
    height = known(height) ? height : size;
    width = known(width) ? width : size;
    if (zoo) {
      height = Math.ceil(height / ZOO_SIDE_MULTIPLE) * ZOO_SIDE_MULTIPLE;
      width = Math.ceil(width / ZOO_SIDE_MULTIPLE) * ZOO_SIDE_MULTIPLE;
    }
    notes.push(`dynamic input size: using ${width}x${height} (letterboxed)${zoo ? '; the zoo resizes the short side to 800, smaller here for the browser' : '; the graph resizes internally'}`);
  } else if (zoo && (height % ZOO_SIDE_MULTIPLE !== 0 || width % ZOO_SIDE_MULTIPLE !== 0)) {
    notes.push(`input ${width}x${height} is not a multiple of ${ZOO_SIDE_MULTIPLE} as the zoo's model needs`);
  }
  const outputs: Record<string, string> = { boxes: boxes!.name, labels: labels!.name, scores: scores!.name, [zoo ? 'roiMasks' : 'pastedMasks']: masks!.name };
  const layoutText = zoo
    ? 'ONNX-zoo MaskRCNN-10 layout: BGR 0–255 minus (102.98, 115.95, 122.77), labels 1..80, 28x28 masks pasted by SegArena'
    : 'torchvision maskrcnn_resnet50_fpn layout: RGB 0–1 (the graph normalises and resizes), COCO category ids, masks pasted in the graph';
  notes.push(EXPORTED_CPU_NOTE);
  return {
    manifest: {
      id,
      name: base,
      family: 'maskrcnn',
      url: options.url,
      input: {
        name: input.name,
        width,
        height,
        resize: 'letterbox',
        channels: zoo ? 'bgr' : 'rgb',
        scale: zoo ? 1 : 1 / 255,
        mean: zoo ? [...ZOO_MEAN] : [0, 0, 0],
        std: [1, 1, 1],
        padValue: 114,
        ...(chw ? { layout: 'chw' as const } : {}),
      },
      outputs,
      classes: COCO_CATEGORIES.map(([, name]) => name),
      categoryIds: COCO_CATEGORIES.map(([cocoId]) => cocoId),
      defaults: { confThreshold: 0.05, scoreThreshold: 0.3, topK: 100, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
      notes: `Dropped file ${options.fileName} (${layoutText}). ${EXPORTED_CPU_NOTE}; labels outside the 80 COCO classes are dropped.`,
    },
    missing: [],
    notes,
  };
}

/** Matches the model against the families; throws UnrecognisedModelError naming what was expected. */
export function detectModel(info: OnnxInfo, options: DetectOptions): DetectedModel {
  const notes: string[] = [];
  const missing: DetectedModel['missing'] = [];
  const base = baseName(options.fileName);
  const id = `user-${slug(base)}`;
  const maskRcnn = detectMaskRcnn(info, options, id, base);
  if (maskRcnn) return maskRcnn;
  const nonFloat = info.outputs.find((o) => o.elemType !== FLOAT32);
  if (nonFloat) throw new UnrecognisedModelError(`output “${nonFloat.name}” is not float32 (ONNX type ${nonFloat.elemType}); SegArena reads float32 outputs`);

  const yolact = detectYolact(info);
  if (yolact) {
    const input = inputOf(info, options, notes);
    const c = yolact.conf!.dims[2];
    if (!known(c) || c < 2) throw new UnrecognisedModelError(`YOLACT conf ${shapeText(yolact.conf!.dims)}: expected [1, N, C + 1] with a known C`);
    notes.push('YOLACT preprocessing assumed: stretch resize, ImageNet mean/std on 0–255 RGB');
    return {
      manifest: {
        id,
        name: base,
        family: 'yolact',
        url: options.url,
        input: { name: input.name, width: input.width, height: input.height, resize: 'stretch', channels: 'rgb', scale: 1, mean: [123.68, 116.78, 103.94], std: [58.4, 57.12, 57.38] },
        outputs: Object.fromEntries(Object.entries(yolact).map(([k, o]) => [k, o.name])),
        classes: classesFrom(info, c - 1, missing, notes),
        defaults: { confThreshold: 0.05, scoreThreshold: 0.15, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
        notes: `Dropped file ${options.fileName} (YOLACT layout).`,
      },
      missing,
      notes,
    };
  }

  if (info.outputs.length === 2) {
    const protos = info.outputs.find((o) => o.dims.length === 4);
    const head = info.outputs.find((o) => o !== protos && o.dims.length === 3);
    const k = protos?.dims[1];
    if (protos && head && k === YOLO_SEG_PROTOTYPES) {
      const input = inputOf(info, options, notes);
      const [, a, b] = head.dims;
      const [ph, pw] = [protos.dims[2], protos.dims[3]];
      if ((known(ph) && ph !== Math.ceil(input.height / PROTO_STRIDE)) || (known(pw) && pw !== Math.ceil(input.width / PROTO_STRIDE))) {
        notes.push(`protos ${shapeText(protos.dims)} are not at stride ${PROTO_STRIDE} of the ${input.width}x${input.height} input`);
      }
      const anchors = anchorCount(input.width, input.height);
      const defaults = { confThreshold: 0.25, scoreThreshold: 0.25, topK: 300, nmsIou: 0.7, nmsKind: 'greedy' as const, maxDetections: 300 };
      const yoloInput = { name: input.name, width: input.width, height: input.height, resize: 'letterbox' as const, channels: 'rgb' as const, scale: 1 / 255, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], padValue: 114 };
      const endToEnd = b === 6 + k && !(known(a) && a > 4 + k && b === anchors);
      const rawHead = !endToEnd && known(a) && a > 4 + k;
      if (rawHead && known(b) && b !== anchors) {
        throw new UnrecognisedModelError(`output0 ${shapeText(head.dims)} has ${b} anchors; a YOLO-seg head at ${input.width}x${input.height} has ${anchors} (strides 8, 16, 32)`);
      }
      if (rawHead) {
        if (b !== anchors) notes.push(`output0 has a dynamic anchor count; ${anchors} expected at ${input.width}x${input.height}`);
        return {
          manifest: {
            id,
            name: base,
            family: 'yolo-seg',
            url: options.url,
            input: yoloInput,
            outputs: { output0: head.name, protos: protos.name },
            classes: classesFrom(info, a - 4 - k, missing, notes),
            defaults,
            notes: `Dropped file ${options.fileName} (Ultralytics YOLO-seg layout).`,
          },
          missing,
          notes,
        };
      }
      if (endToEnd) {
        if (known(a) && a !== END_TO_END_ROWS) {
          throw new UnrecognisedModelError(`output0 ${shapeText(head.dims)}: end-to-end exports with ${END_TO_END_ROWS} rows are supported, this one has ${a}`);
        }
        const classes = classesFrom(info, null, missing, notes);
        if (missing.includes('classes')) notes.push('end-to-end export: the class count cannot be read from the outputs; give the class names');
        return {
          manifest: {
            id,
            name: base,
            family: 'yolo-seg',
            url: options.url,
            input: yoloInput,
            outputs: { detections: head.name, protos: protos.name },
            classes,
            defaults: { ...defaults, maxDetections: known(a) ? a : 300 },
            notes: `Dropped file ${options.fileName} (YOLO-seg end-to-end export, NMS in the graph).`,
          },
          missing,
          notes,
        };
      }
    }
  }
  throw new UnrecognisedModelError(`the model's outputs (${describeOutputs(info)}) match no supported family. Expected ${EXPECTED}`);
}

/** Bytes of a dropped .onnx → manifest (readOnnxInfo + detectModel). */
export function manifestFromOnnx(bytes: Uint8Array, options: DetectOptions): DetectedModel {
  return detectModel(readOnnxInfo(bytes), options);
}
