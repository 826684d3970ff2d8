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
 *   YOLO-seg      output0 [1, 4+nc+32, N] + protos [1, 32, H/4, W/4]; also transposed
 *                 output0 [1, N, 4+nc+32], a dynamic input [?, 3, ?, ?] (run at a multiple
 *                 of the `stride` metadata) and float16 input / outputs (fp16 exports)
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
 *
 * A dropped file is untrusted (issue 14): its size, every length, count, name and dim, the
 * class count, input size, prototype and candidate counts, and the `names` text are bounded
 * (see "bounds" below) before anything is sized by them; the manifest made is then put
 * through the full validation (models/manifestSchema.ts). Every refusal is an
 * UnrecognisedModelError with a message for the user. Fuzzed by hostileOnnx.test.ts.
 */
import YAML from 'yaml';
import type { ModelManifest } from '../types';
import { MAX_CLASSES, MAX_INPUT_SIDE, validateManifest } from '../models/manifestSchema';
import { MAX_PROTOTYPES } from '../reference/maskAssembly';
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

// ---------------------------------------------------------------- bounds
//
// A dropped file is untrusted: every number it gives that something is sized by is checked
// against these before use, and every refusal is an UnrecognisedModelError with a message.

/**
 * Largest .onnx file read. The bytes are held twice while a model loads (the file and ORT's
 * wasm copy, whose heap is at most 4 GB), and stored models share 1 GiB of IndexedDB; the
 * largest public export we run (torchvision Mask R-CNN) is 178 MB.
 */
export const MAX_ONNX_BYTES = 512 * 2 ** 20;
/**
 * Largest input side and most classes: the manifest schema's bounds (what the GPU buffers
 * are sized for), applied here already so that nothing is sized by a bigger number.
 */
export { MAX_CLASSES, MAX_INPUT_SIDE };
/**
 * Most candidates (priors, anchors, detections) an output may have: YOLACT's 5 levels × 3
 * priors at an 8192² input are 4,194,048 (YOLO-seg's 3 levels there: 1,376,256).
 */
export const MAX_CANDIDATES = 2 ** 22;
/** Longest class-names text read: 2048 names of ~30 characters (LVIS' 1203 take 24 kB as Ultralytics writes them). */
export const MAX_CLASS_NAMES_TEXT = 64 * 1024;
/**
 * YAML costs some 100–250 bytes a character to parse: before it, the text may hold at most this
 * many separators (commas, lines: the names and a data.yaml's other keys and comments) …
 */
const MAX_YAML_SEPARATORS = 2 * MAX_CLASSES + 256;
/** … and nest lists / maps at most this deep (names need two levels: a map in a document). */
const MAX_YAML_NESTING = 8;
/** Largest dim read at all; past it a file is refused before any family looks at it. */
const MAX_DIM = 2 ** 31 - 1;
/** Highest tensor rank read (ONNX tensors in practice have at most 6 axes). */
const MAX_RANK = 16;
/** Most inputs + outputs + initializer names read from a graph. */
const MAX_GRAPH_ENTRIES = 100_000;
/** Longest tensor name read. */
const MAX_NAME_BYTES = 4096;
/** Most metadata_props entries, and their total size (Ultralytics writes ~13 entries, ~3 kB). */
const MAX_METADATA_ENTRIES = 1024;
const MAX_METADATA_BYTES = 4 * 2 ** 20;
/** Deepest message nesting read: the deepest field read (a dim) is 7 messages down. */
const MAX_DEPTH = 16;

/** A name cut for a message (names may be 4 kB). */
const clip = (s: string, n = 80) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** Refuses a file of more than MAX_ONNX_BYTES (call it with the file's size before reading it). */
export function checkOnnxSize(bytes: number): void {
  if (bytes > MAX_ONNX_BYTES) {
    throw new UnrecognisedModelError(`the file is ${(bytes / 2 ** 20).toFixed(1)} MB; SegArena reads ONNX files of at most ${MAX_ONNX_BYTES / 2 ** 20} MB`);
  }
}

// ---------------------------------------------------------------- protobuf reading

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextDecoder();

class ProtoReader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
    private readonly depth = 0,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a Number (exact below 2^53; lengths past that run past any message anyway). */
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

  /** A varint as a signed int64, exactly (dims: negative values take 10 bytes). */
  int64(): bigint {
    let result = 0n;
    for (let i = 0n; i < 10n; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << (7n * i);
      if ((b & 0x80) === 0) return BigInt.asIntN(64, result);
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** Next field: number and wire type (call `skip`, `varint`, `sub` or `string` after). */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    // Field numbers are below 2^29: a larger tag is damage, not a field.
    if (t >= 2 ** 32) throw new Error(`bad field tag ${t}`);
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  /** A length-delimited field as a sub-reader. */
  sub(): ProtoReader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error(`a field of ${len} bytes runs past its message (${this.end - start} bytes left)`);
    if (this.depth + 1 > MAX_DEPTH) throw new Error(`messages nested deeper than ${MAX_DEPTH}`);
    this.pos += len;
    return new ProtoReader(this.bytes, start, start + len, this.depth + 1);
  }

  /** A length-delimited field as text, refused past `maxBytes` before it is decoded. */
  string(maxBytes: number, what: string): string {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error(`a field of ${len} bytes runs past its message (${this.end - start} bytes left)`);
    if (len > maxBytes) throw new Error(`${what} is ${len} bytes long; at most ${maxBytes} are read`);
    this.pos += len;
    return utf8.decode(this.bytes.subarray(start, start + len));
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_LEN) {
      // Skipped by its length, never entered: no nesting bound needed.
      const len = this.varint();
      if (this.pos + len > this.end) throw new Error(`a field of ${len} bytes runs past its message (${this.end - this.pos} bytes left)`);
      this.pos += len;
    } else if (wire === WIRE_I32) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) throw new Error('a field runs past its message');
  }

  /** Calls `on(field, wire)` for every field; `on` returns false to skip the field. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const { field, wire } = this.tag();
      if (!on(field, wire)) this.skip(wire);
    }
  }
}

/** dim_value: a size in 0..MAX_DIM; -1 (some converters' “dynamic”) is read as dynamic. */
function dimValue(v: bigint): number | null {
  if (v === -1n) return null;
  if (v < 0n) throw new Error(`a negative dimension (${v})`);
  if (v > BigInt(MAX_DIM)) throw new Error(`a dimension of ${v}, past ${MAX_DIM}`);
  return Number(v);
}

function readDim(r: ProtoReader): Dim {
  let dim: Dim = null;
  r.fields((f, w) => {
    if (f === 1 && w === WIRE_VARINT) dim = dimValue(r.int64());
    else if (f === 2 && w === WIRE_LEN) dim = r.string(MAX_NAME_BYTES, 'a dimension name');
    else return false;
    return true;
  });
  return dim;
}

function readTensorShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  r.fields((f, w) => {
    if (f !== 1 || w !== WIRE_LEN) return false;
    if (dims.length === MAX_RANK) throw new Error(`more than ${MAX_RANK} dimensions`);
    dims.push(readDim(r.sub()));
    return true;
  });
  return dims;
}

function readValueInfo(r: ProtoReader, kind: 'input' | 'output'): OnnxTensorInfo {
  const info: OnnxTensorInfo = { name: '', elemType: 0, dims: [] };
  try {
    r.fields((f, w) => {
      if (f === 1 && w === WIRE_LEN) info.name = r.string(MAX_NAME_BYTES, `an ${kind} name`);
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
  } catch (e) {
    throw new Error(`${kind}${info.name ? ` “${clip(info.name)}”` : ''}: ${(e as Error).message}`, { cause: e });
  }
  return info;
}

/** The interface and metadata of an ONNX model (ModelProto bytes). */
export function readOnnxInfo(bytes: Uint8Array): OnnxInfo {
  const info: OnnxInfo = { producer: '', inputs: [], outputs: [], metadata: {} };
  let sawGraph = false;
  try {
    const model = new ProtoReader(bytes);
    const initializers = new Set<string>();
    let entries = 0;
    let metadataEntries = 0;
    let metadataBytes = 0;
    const count = () => {
      if (++entries > MAX_GRAPH_ENTRIES) throw new Error(`more than ${MAX_GRAPH_ENTRIES} graph inputs, outputs and initializers`);
    };
    model.fields((field, wire) => {
      if (field === 2 && wire === WIRE_LEN) info.producer = model.string(MAX_NAME_BYTES, 'producer_name');
      else if (field === 14 && wire === WIRE_LEN) {
        if (++metadataEntries > MAX_METADATA_ENTRIES) throw new Error(`more than ${MAX_METADATA_ENTRIES} metadata entries`);
        const entry = model.sub();
        metadataBytes += entry.end - entry.pos;
        if (metadataBytes > MAX_METADATA_BYTES) throw new Error(`more than ${MAX_METADATA_BYTES / 2 ** 20} MB of metadata`);
        let key = '';
        let value = '';
        entry.fields((f, w) => {
          if (w !== WIRE_LEN || (f !== 1 && f !== 2)) return false;
          if (f === 1) key = entry.string(MAX_NAME_BYTES, 'a metadata key');
          else value = entry.string(MAX_METADATA_BYTES, 'a metadata value');
          return true;
        });
        info.metadata[key] = value;
      } else if (field === 7 && wire === WIRE_LEN) {
        sawGraph = true;
        const graph = model.sub();
        graph.fields((f, w) => {
          if (w !== WIRE_LEN) return false;
          if (f === 11) {
            count();
            info.inputs.push(readValueInfo(graph.sub(), 'input'));
          } else if (f === 12) {
            count();
            info.outputs.push(readValueInfo(graph.sub(), 'output'));
          } else if (f === 5) {
            count();
            const tensor = graph.sub();
            tensor.fields((tf, tw) => (tf === 8 && tw === WIRE_LEN ? (initializers.add(tensor.string(MAX_NAME_BYTES, 'an initializer name')), true) : false));
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

/** YAML as class names need it: every scalar a string (`yes`, `1e3`, `null` are names too), no aliases (no expansion bombs). */
const YAML_OPTIONS = { schema: 'failsafe', maxAliasCount: 0 } as const;

/** Why a class-names text could not be read; the message is for the user. */
export class ClassNamesError extends Error {
  override name = 'ClassNamesError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (k: string) => /^\d+$/.test(k);
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
const kB = (n: number) => `${Math.ceil(n / 1024)} kB`;

/** Refuses, before YAML parses it, a text with more entries or deeper nesting than class names have. */
function checkYamlShape(text: string): void {
  let depth = 0;
  let deepest = 0;
  let separators = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[' || ch === '{') deepest = Math.max(deepest, ++depth);
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' || ch === '\n') separators++;
  }
  // `- - - x` nests block lists on one line.
  if (deepest > MAX_YAML_NESTING || new RegExp(`(?:-[ \t]+){${MAX_YAML_NESTING + 1}}`).test(text)) {
    throw new ClassNamesError(`lists or maps nested deeper than ${MAX_YAML_NESTING}`);
  }
  if (separators > MAX_YAML_SEPARATORS)
    throw new ClassNamesError(`more than ${MAX_YAML_SEPARATORS} lines or entries; SegArena runs at most ${MAX_CLASSES} classes`);
}

function tooMany(n: number): never {
  throw new ClassNamesError(`${n} class names; SegArena runs at most ${MAX_CLASSES} classes`);
}

/** A YAML list of names; empty entries become placeholders (their index still counts). */
function namesOfList(list: unknown[]): string[] {
  if (list.length > MAX_CLASSES) tooMany(list.length);
  return list.map((v, i) => {
    if (typeof v !== 'string') throw new ClassNamesError(`class ${i} is not a name (a nested list or map)`);
    return v || `class${i}`;
  });
}

/**
 * A YAML map index → name ({0: person, 1: bicycle}). `dense`: the keys must be exactly 0..n-1
 * (a model's metadata); otherwise gaps get placeholders (a user's list with a class left out).
 */
function namesOfMap(map: Record<string, unknown>, dense: boolean): string[] {
  const keys = Object.keys(map);
  if (keys.length > MAX_CLASSES) tooMany(keys.length);
  const bad = keys.find((k) => !isIndex(k));
  if (bad !== undefined) throw new ClassNamesError(`“${clip(bad)}” is not a class index (0, 1, 2, …)`);
  const past = keys.find((k) => Number(k) >= MAX_CLASSES);
  if (past !== undefined) throw new ClassNamesError(`class index ${clip(past)} is past the ${MAX_CLASSES} classes SegArena runs`);
  const top = Math.max(...keys.map(Number));
  if (dense && top !== keys.length - 1) throw new ClassNamesError(`the class indices are not 0 to ${keys.length - 1} (the highest is ${top})`);
  return Array.from({ length: top + 1 }, (_, i) => {
    const v = map[String(i)];
    if (v !== undefined && typeof v !== 'string') throw new ClassNamesError(`class ${i} is not a name (a nested list or map)`);
    return v || `class${i}`;
  });
}

/** Not YAML: one name a line, or one line of comma-separated names (quoted ones may hold commas). */
function namesOfPlainText(text: string): string[] {
  const unquote = (s: string) => (/^(['"]).*\1$/.test(s) ? s.slice(1, -1) : s);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 1 && lines[0]!.includes(',')) {
    let list: unknown;
    try {
      list = YAML.parse(`[${lines[0]}]`, YAML_OPTIONS); // `'a, b', c` → ['a, b', 'c']
    } catch {
      list = lines[0]!.split(',').map((s) => s.trim());
    }
    if (Array.isArray(list)) return namesOfList(list.filter((v) => v !== ''));
  }
  if (lines.length > MAX_CLASSES) tooMany(lines.length);
  return lines.map(unquote);
}

/**
 * Class names from text, or a ClassNamesError saying why not. Read as YAML (a maintained
 * parser: comments, quoting and both collection styles as YAML means them): Ultralytics'
 * `names` metadata (`{0: 'person', 1: 'bicycle'}`), a data.yaml's `names:` (list or map,
 * block or flow style), a bare list or map; text that is not YAML collections is one name
 * a line, or comma-separated on one line. Empty result when nothing is found.
 * `dense`: map keys must be exactly 0..n-1 (a model's own metadata).
 */
export function readClassNames(text: string, { dense = false } = {}): string[] {
  if (text.length > MAX_CLASS_NAMES_TEXT)
    throw new ClassNamesError(`the text is ${kB(text.length)}; at most ${kB(MAX_CLASS_NAMES_TEXT)} of class names is read`);
  const trimmed = text.trim();
  if (!trimmed) return [];
  // Text that can only be meant as YAML gets YAML's error rather than being taken line by line.
  const structured = /^[[{-]/.test(trimmed) || /^names\s*:/m.test(trimmed);
  checkYamlShape(trimmed);
  let doc: unknown;
  try {
    doc = YAML.parse(trimmed, YAML_OPTIONS);
  } catch (e) {
    if (structured) throw new ClassNamesError(`not valid YAML: ${firstLine(e)}`);
    return namesOfPlainText(trimmed);
  }
  if (typeof doc === 'string') return namesOfPlainText(trimmed); // plain text: YAML folds its lines into one
  if (isRecord(doc) && 'names' in doc) {
    const names = doc.names;
    if (typeof names === 'string') return namesOfPlainText(names); // names: a, b
    doc = names;
  }
  if (Array.isArray(doc)) return namesOfList(doc);
  if (isRecord(doc) && Object.keys(doc).length > 0) {
    // A map of indices is class names; any other map (a data.yaml without names) has none.
    return Object.keys(doc).some(isIndex) ? namesOfMap(doc, dense) : [];
  }
  return [];
}

/** readClassNames for the class-names dialog: never throws; an unreadable text gives no names. */
export function parseClassNames(text: string): string[] {
  try {
    return readClassNames(text);
  } catch {
    return [];
  }
}

/** Ultralytics' `imgsz` metadata ('[640, 640]' = [h, w], or '640') → [height, width]; null when not that. */
function metadataImgsz(text: string): [number, number] | null {
  const m = /^\s*\[?\s*(\d{1,5})\s*(?:,\s*(\d{1,5})\s*)?\]?\s*$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const w = m[2] === undefined ? h : Number(m[2]);
  return h >= 1 && w >= 1 && h <= MAX_INPUT_SIDE && w <= MAX_INPUT_SIDE ? [h, w] : null;
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
const FLOAT16 = 10;
const INT32 = 6;
const INT64 = 7;

const MASK_RCNN_EXPECTED =
  'Mask R-CNN (torchvision / ONNX zoo): input [3,H,W] and outputs boxes [N,4], labels [N] int64, scores [N], masks [N,1,H,W] (pasted) or [N,1,28,28]';

const EXPECTED = [
  'YOLACT: outputs loc [1,N,4], conf [1,N,C+1], mask [1,N,32], priors [N,4], proto [1,P,P,32]',
  'YOLO-seg (Ultralytics): output0 [1,4+nc+32,N] (or transposed [1,N,4+nc+32]) and protos [1,32,H/4,W/4], float32 or float16',
  'YOLO-seg end-to-end: output0 [1,300,38] and protos [1,32,H/4,W/4]',
  MASK_RCNN_EXPECTED,
].join('; ');

/** Tensors for a message: at most 8, names cut (a hostile file may have thousands). */
function describeTensors(tensors: readonly OnnxTensorInfo[], withShapes = true): string {
  const shown = tensors.slice(0, 8).map((o) => (withShapes ? `${clip(o.name)} ${shapeText(o.dims)}` : clip(o.name)));
  return shown.join(', ') + (tensors.length > 8 ? `, … ${tensors.length - 8} more` : '');
}

function describeOutputs(info: OnnxInfo): string {
  return describeTensors(info.outputs);
}

/**
 * Refuses a known dim of `o` outside lo..hi (what is sized by it must not be sized by a
 * hostile number), naming the tensor and what the axis means.
 */
function bound(o: OnnxTensorInfo, axis: number, what: string, lo: number, hi: number): void {
  const v = o.dims[axis];
  if (known(v) && !(Number.isInteger(v) && v >= lo && v <= hi)) {
    throw new UnrecognisedModelError(`“${clip(o.name)}” ${shapeText(o.dims)}: ${what} is ${v}; SegArena runs ${lo} to ${hi}`);
  }
}

/** A class count read from an output, refused past MAX_CLASSES before anything is sized by it. */
function boundClasses(o: OnnxTensorInfo, count: number, family: string): number {
  if (!(Number.isInteger(count) && count >= 1 && count <= MAX_CLASSES)) {
    throw new UnrecognisedModelError(`${family} output “${clip(o.name)}” ${shapeText(o.dims)}: ${count} classes; SegArena runs at most ${MAX_CLASSES}`);
  }
  return count;
}

/** A side taken from options or metadata rather than the file's dims. */
function boundSide(v: number, what: string): number {
  if (!(Number.isInteger(v) && v >= 1 && v <= MAX_INPUT_SIDE))
    throw new UnrecognisedModelError(`${what} ${v}: SegArena runs input sides of 1 to ${MAX_INPUT_SIDE}`);
  return v;
}

function baseName(fileName: string): string {
  return fileName.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'model'
  );
}

/**
 * What a float16 export means where it runs: the app converts at the ORT seam (the image
 * tensor written as float16, the outputs read as float16) on 'wasm' and 'wasm+gpu'; the
 * 'webgpu' path refuses it with a message (app/families/yoloSeg/layout.ts `float16WebgpuMessage`).
 */
export const FLOAT16_NOTE = "the image is fed as float16 and the outputs read as float16 on 'wasm+gpu' and 'wasm'; not on 'webgpu'";

/** Default side of a dynamic YOLO-seg input without `imgsz` metadata (Ultralytics' default imgsz). */
export const YOLO_SEG_DEFAULT_INPUT = 640;
/** Ultralytics' largest stride, the default of the `stride` metadata. */
export const YOLO_SEG_DEFAULT_STRIDE = 32;

/** The `stride` metadata ('32', '[8, 16, 32]' → the largest); null when absent or not that. */
function metadataStride(text: string | undefined): number | null {
  if (text === undefined) return null;
  const values = text.match(/\d{1,4}/g)?.map(Number) ?? [];
  if (!/^\s*\[?\s*\d{1,4}(\s*,\s*\d{1,4})*\s*\]?\s*$/.test(text) || values.length === 0) return null;
  const s = Math.max(...values);
  return s >= 1 && s <= 256 ? s : null;
}

/**
 * How a dynamic input side is chosen (YOLO-seg): `requested` (options.inputSize, else
 * imgsz, else 640) rounded up to a multiple of the stride, as Ultralytics' check_imgsz does;
 * `why` says so, for the pane.
 */
function strideSide(requested: number, stride: number, from: string): { side: number; why: string } {
  const side = Math.max(stride, Math.min(Math.ceil(requested / stride) * stride, Math.floor(MAX_INPUT_SIDE / stride) * stride));
  return { side, why: side === requested ? `${from} ${requested}, a multiple of the stride` : `${from} ${requested}, rounded to a multiple of the stride` };
}

/**
 * Input [1, 3, H, W] → its name and size (dynamic sides from `imgsz` metadata or the default).
 * `yoloSeg`: float16 accepted, and dynamic sides made multiples of the `stride` metadata.
 */
function inputOf(
  info: OnnxInfo,
  options: DetectOptions,
  notes: string[],
  yoloSeg = false,
): { name: string; width: number; height: number; float16: boolean; dynamic: string | null } {
  if (info.inputs.length !== 1) {
    throw new UnrecognisedModelError(
      `the model has ${info.inputs.length} inputs (${describeTensors(info.inputs, false)}); expected one image input [1, 3, H, W]`,
    );
  }
  const input = info.inputs[0]!;
  const d = input.dims;
  if (d.length !== 4 || (known(d[1]!) && d[1] !== 3)) {
    throw new UnrecognisedModelError(`input “${clip(input.name)}” ${shapeText(d)}: expected an image tensor [1, 3, H, W]`);
  }
  const float16 = yoloSeg && input.elemType === FLOAT16;
  if (input.elemType !== FLOAT32 && !float16)
    throw new UnrecognisedModelError(`input “${clip(input.name)}” is not float32${yoloSeg ? ' or float16' : ''} (ONNX type ${input.elemType})`);
  bound(input, 2, 'the height', 1, MAX_INPUT_SIDE);
  bound(input, 3, 'the width', 1, MAX_INPUT_SIDE);
  let height = d[2];
  let width = d[3];
  if (yoloSeg && (!known(height) || !known(width))) {
    const imgsz = info.metadata.imgsz ? metadataImgsz(info.metadata.imgsz) : null;
    if (info.metadata.imgsz && !imgsz) notes.push(`imgsz metadata “${clip(info.metadata.imgsz)}” ignored: not [height, width] of 1 to ${MAX_INPUT_SIDE}`);
    const stride = metadataStride(info.metadata.stride);
    if (info.metadata.stride !== undefined && stride === null)
      notes.push(`stride metadata “${clip(info.metadata.stride)}” ignored; stride ${YOLO_SEG_DEFAULT_STRIDE} assumed`);
    const s = stride ?? YOLO_SEG_DEFAULT_STRIDE;
    const strideText = stride === null ? `stride ${s}: no stride metadata, Ultralytics' default` : `stride ${s} from the metadata`;
    const pick = (side: Dim, fromMeta: number | undefined) => {
      if (known(side)) return { side, why: `${side} fixed in the file` };
      if (options.inputSize !== undefined) return strideSide(boundSide(options.inputSize, 'input size'), s, 'asked for');
      if (fromMeta !== undefined) return strideSide(fromMeta, s, 'imgsz metadata');
      return strideSide(YOLO_SEG_DEFAULT_INPUT, s, 'no imgsz metadata: the default');
    };
    const h = pick(height, imgsz?.[0]);
    const w = pick(width, imgsz?.[1]);
    height = h.side;
    width = w.side;
    const why = h.why === w.why ? h.why : `height: ${h.why}; width: ${w.why}`;
    const dynamic = `dynamic input ${shapeText(d)}: runs at ${width}x${height} (${why}; ${strideText})`;
    notes.push(dynamic);
    return { name: input.name, width, height, float16, dynamic };
  }
  if (!known(height) || !known(width)) {
    const imgsz = info.metadata.imgsz ? metadataImgsz(info.metadata.imgsz) : null;
    if (info.metadata.imgsz && !imgsz) notes.push(`imgsz metadata “${clip(info.metadata.imgsz)}” ignored: not [height, width] of 1 to ${MAX_INPUT_SIDE}`);
    const size = options.inputSize !== undefined ? boundSide(options.inputSize, 'input size') : (imgsz?.[0] ?? 640);
    height = known(height) ? height : (imgsz?.[0] ?? size);
    width = known(width) ? width : (imgsz?.[1] ?? size);
    notes.push(`dynamic input size: using ${width}x${height}`);
  }
  return { name: input.name, width, height, float16, dynamic: null };
}

/** Class names from the `names` metadata when they fit `count` (bounded by the caller), else placeholders. */
function classesFrom(info: OnnxInfo, count: number | null, missing: DetectedModel['missing'], notes: string[]): string[] {
  let names: string[] = [];
  try {
    if (info.metadata.names) names = readClassNames(info.metadata.names, { dense: true });
  } catch (e) {
    // Unreadable names lose the names, not the model: the user is asked for them.
    notes.push(`names metadata ignored: ${(e as Error).message}`);
  }
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
  const looksLike =
    outs.some(isInteger) ||
    (outs.some((o) => rank(o) === 2 && fits(o.dims[1], 4)) && outs.some((o) => rank(o) === 4 && fits(o.dims[1], 1) && known(o.dims[1]!)));
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
  for (const o of [boxes!, labels!, scores!, masks!]) bound(o, 0, 'the detection count N', 1, MAX_CANDIDATES);
  bound(masks!, 2, 'the mask height', 1, MAX_INPUT_SIDE);
  bound(masks!, 3, 'the mask width', 1, MAX_INPUT_SIDE);
  const notes: string[] = [];
  if (labels!.elemType === FLOAT32) notes.push('labels are float32 here (int64 in torchvision and the zoo); taken as the first [N] output');

  if (info.inputs.length !== 1)
    throw new UnrecognisedModelError(
      `the model has ${info.inputs.length} inputs (${describeTensors(info.inputs, false)}); a Mask R-CNN export takes one image [3, H, W]`,
    );
  const input = info.inputs[0]!;
  const d = input.dims;
  const chw = d.length === 3;
  if (!(chw && fits(d[0], 3)) && !(d.length === 4 && fits(d[0], 1) && fits(d[1], 3))) {
    throw new UnrecognisedModelError(`input “${clip(input.name)}” ${shapeText(d)}: a Mask R-CNN export takes an image [3, H, W]`);
  }
  if (input.elemType !== FLOAT32) throw new UnrecognisedModelError(`input “${clip(input.name)}” is not float32 (ONNX type ${input.elemType})`);
  bound(input, d.length - 2, 'the height', 1, MAX_INPUT_SIDE);
  bound(input, d.length - 1, 'the width', 1, MAX_INPUT_SIDE);
  const zoo = masks!.dims[2] === ROI_MASK_SIDE && masks!.dims[3] === ROI_MASK_SIDE;
  let height = d[d.length - 2];
  let width = d[d.length - 1];
  if (!known(height) || !known(width)) {
    const size = options.inputSize !== undefined ? boundSide(options.inputSize, 'input size') : MASK_RCNN_DEFAULT_INPUT;
    height = known(height) ? height : size;
    width = known(width) ? width : size;
    if (zoo) {
      height = Math.ceil(height / ZOO_SIDE_MULTIPLE) * ZOO_SIDE_MULTIPLE;
      width = Math.ceil(width / ZOO_SIDE_MULTIPLE) * ZOO_SIDE_MULTIPLE;
    }
    notes.push(
      `dynamic input size: using ${width}x${height} (letterboxed)${zoo ? '; the zoo resizes the short side to 800, smaller here for the browser' : '; the graph resizes internally'}`,
    );
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

/**
 * Matches the model against the families and checks the manifest it makes; throws
 * UnrecognisedModelError naming what was expected, or what is out of bounds.
 */
export function detectModel(info: OnnxInfo, options: DetectOptions): DetectedModel {
  return validated(recognise(info, options));
}

function recognise(info: OnnxInfo, options: DetectOptions): DetectedModel {
  const notes: string[] = [];
  const missing: DetectedModel['missing'] = [];
  const base = baseName(options.fileName);
  const id = `user-${slug(base)}`;
  const maskRcnn = detectMaskRcnn(info, options, id, base);
  if (maskRcnn) return maskRcnn;
  const nonFloat = info.outputs.find((o) => o.elemType !== FLOAT32 && o.elemType !== FLOAT16);
  if (nonFloat)
    throw new UnrecognisedModelError(
      `output “${clip(nonFloat.name)}” is not float32 or float16 (ONNX type ${nonFloat.elemType}); SegArena reads float outputs`,
    );
  const half = info.outputs.find((o) => o.elemType === FLOAT16);

  const yolact = detectYolact(info);
  if (yolact) {
    if (half)
      throw new UnrecognisedModelError(
        `output “${clip(half.name)}” is float16; SegArena reads YOLACT outputs as float32 only (float16 is read for YOLO-seg exports)`,
      );
    const input = inputOf(info, options, notes);
    const { loc, conf, mask, priors, proto } = yolact as Record<'loc' | 'conf' | 'mask' | 'priors' | 'proto', OnnxTensorInfo>;
    const c = conf.dims[2];
    if (!known(c) || c < 2) throw new UnrecognisedModelError(`YOLACT conf ${shapeText(conf.dims)}: expected [1, N, C + 1] with a known C`);
    boundClasses(conf, c - 1, 'YOLACT');
    for (const [o, axis] of [
      [loc, 1],
      [conf, 1],
      [mask, 1],
      [priors, 0],
    ] as const)
      bound(o, axis, 'the prior count N', 1, MAX_CANDIDATES);
    bound(mask, 2, 'the prototype count K', 1, MAX_PROTOTYPES);
    bound(proto, 3, 'the prototype count K', 1, MAX_PROTOTYPES);
    bound(proto, 1, 'the prototype height', 1, MAX_INPUT_SIDE);
    bound(proto, 2, 'the prototype width', 1, MAX_INPUT_SIDE);
    notes.push('YOLACT preprocessing assumed: stretch resize, ImageNet mean/std on 0–255 RGB');
    return {
      manifest: {
        id,
        name: base,
        family: 'yolact',
        url: options.url,
        input: {
          name: input.name,
          width: input.width,
          height: input.height,
          resize: 'stretch',
          channels: 'rgb',
          scale: 1,
          mean: [123.68, 116.78, 103.94],
          std: [58.4, 57.12, 57.38],
        },
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
      const input = inputOf(info, options, notes, true);
      const [, a, b] = head.dims;
      const anchors = anchorCount(input.width, input.height);
      // Transposed raw head [1, N, 4+nc+32] (anchors first): the rows last, and the middle axis
      // the anchors (or dynamic, or at least longer than the rows: a wrong anchor count is then
      // named as such). 6 + 32 rows are an end-to-end export's unless the middle axis is N.
      const transposed = known(b) && b > 4 + k && b !== anchors && (b === 6 + k ? a === anchors : !known(a) || a === anchors || a > b);
      bound(head, transposed ? 2 : 1, 'the row count', 1, 4 + YOLO_SEG_PROTOTYPES + MAX_CLASSES);
      bound(head, transposed ? 1 : 2, 'the candidate count', 1, MAX_CANDIDATES);
      bound(protos, 2, 'the prototype height', 1, MAX_INPUT_SIDE);
      bound(protos, 3, 'the prototype width', 1, MAX_INPUT_SIDE);
      const [ph, pw] = [protos.dims[2], protos.dims[3]];
      if ((known(ph) && ph !== Math.ceil(input.height / PROTO_STRIDE)) || (known(pw) && pw !== Math.ceil(input.width / PROTO_STRIDE))) {
        notes.push(`protos ${shapeText(protos.dims)} are not at stride ${PROTO_STRIDE} of the ${input.width}x${input.height} input`);
      }
      const defaults = { confThreshold: 0.25, scoreThreshold: 0.25, topK: 300, nmsIou: 0.7, nmsKind: 'greedy' as const, maxDetections: 300 };
      const yoloInput = {
        name: input.name,
        width: input.width,
        height: input.height,
        resize: 'letterbox' as const,
        channels: 'rgb' as const,
        scale: 1 / 255,
        mean: [0, 0, 0] as [number, number, number],
        std: [1, 1, 1] as [number, number, number],
        padValue: 114,
      };
      const endToEnd = !transposed && b === 6 + k && !(known(a) && a > 4 + k && b === anchors);
      const rawHead = !endToEnd && !transposed && known(a) && a > 4 + k;
      // What the pane says about the file (the model picker's title shows manifest.notes).
      const extra = [
        transposed ? 'output0 transposed [1, N, 4+nc+32]: read anchors-first' : '',
        input.dynamic ?? '',
        input.float16 || half ? `float16 ${input.float16 ? 'input' : ''}${input.float16 && half ? ' and ' : ''}${half ? 'outputs' : ''}: ${FLOAT16_NOTE}` : '',
      ].filter(Boolean);
      const described = (layout: string) => `Dropped file ${options.fileName} (${[layout, ...extra].join('; ')}).`;
      if (input.float16 || half) notes.push(`float16 export: ${FLOAT16_NOTE}`);
      /** The raw head, either way round: `rowsPerAnchor` = 4 + nc + 32. */
      const rawYoloSeg = (rowsPerAnchor: number) => ({
        manifest: {
          id,
          name: base,
          family: 'yolo-seg' as const,
          url: options.url,
          input: yoloInput,
          outputs: { output0: head.name, protos: protos.name },
          classes: classesFrom(info, boundClasses(head, rowsPerAnchor - 4 - k, 'YOLO-seg'), missing, notes),
          defaults,
          notes: described('Ultralytics YOLO-seg layout'),
        },
        missing,
        notes,
      });
      if (transposed) {
        const [na, nr] = [a, b as number];
        if (known(na) && na !== anchors) {
          throw new UnrecognisedModelError(
            `${clip(head.name)} ${shapeText(head.dims)} has ${na} anchors; a YOLO-seg head at ${input.width}x${input.height} has ${anchors} (strides 8, 16, 32)`,
          );
        }
        notes.push(`output0 ${shapeText(head.dims)} is transposed (anchors first); read as [1, N, 4 + nc + 32]`);
        return rawYoloSeg(nr);
      }
      if (rawHead && known(b) && b !== anchors) {
        throw new UnrecognisedModelError(
          `${clip(head.name)} ${shapeText(head.dims)} has ${b} anchors; a YOLO-seg head at ${input.width}x${input.height} has ${anchors} (strides 8, 16, 32)`,
        );
      }
      if (rawHead) {
        if (b !== anchors) notes.push(`output0 has a dynamic anchor count; ${anchors} expected at ${input.width}x${input.height}`);
        return rawYoloSeg(a);
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
            notes: described('YOLO-seg end-to-end export, NMS in the graph'),
          },
          missing,
          notes,
        };
      }
    }
  }
  throw new UnrecognisedModelError(`the model's outputs (${describeOutputs(info)}) match no supported family. Expected ${EXPECTED}`);
}

/**
 * The manifest as the app will run it must pass the full validation (models/manifestSchema.ts);
 * refused with the validator's errors otherwise. Two things are still the caller's to fill in
 * and are checked as if filled: the url (given once the bytes are stored: fromOnnx.ts,
 * userModels.ts) and the names of an end-to-end export without them (the dialog asks).
 */
function validated(detected: DetectedModel): DetectedModel {
  const m = detected.manifest;
  const asRun = { ...m, url: m.url || 'user-model:pending', classes: m.classes.length === 0 && detected.missing.includes('classes') ? ['pending'] : m.classes };
  const check = validateManifest(asRun);
  if (!check.ok) {
    const shown = check.errors.slice(0, 6).join('; ') + (check.errors.length > 6 ? `; … ${check.errors.length - 6} more` : '');
    throw new UnrecognisedModelError(`the manifest made from it is not valid: ${shown}`);
  }
  return detected;
}

/**
 * The sentence on a dynamic input's chosen size that detectModel wrote into a YOLO-seg
 * manifest's notes ("dynamic input [batch, 3, height, width]: runs at 320x320 (imgsz …)"), for
 * the notice shown when the model is added; null for a fixed-size model.
 */
export function dynamicInputNote(manifest: ModelManifest): string | null {
  return /dynamic input \[[^\]]*\]: runs at \d+x\d+ \([^)]*\)/.exec(manifest.notes ?? '')?.[0] ?? null;
}

/** Bytes of a dropped .onnx → manifest (readOnnxInfo + detectModel). */
export function manifestFromOnnx(bytes: Uint8Array, options: DetectOptions): DetectedModel {
  checkOnnxSize(bytes.byteLength);
  return detectModel(readOnnxInfo(bytes), options);
}
