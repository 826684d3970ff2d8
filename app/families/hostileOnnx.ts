/**
 * Hostile ONNX headers for the fuzz test of the dropped-model reader (hostileOnnx.test.ts)
 * and the e2e spec (e2e/hostile-onnx.spec.ts). Deterministic: the same seed gives the same
 * cases, so a failure names a case that can be rebuilt.
 *
 * A header is a ModelProto with only what app/families/detect.ts reads: producer_name (2),
 * graph (7) with initializer names (5), inputs (11) and outputs (12), and metadata_props
 * (14). Tensors have no weights and the graph no nodes: ORT would refuse these files, the
 * reader must refuse (or accept) them first.
 *
 *   onnxHeader(spec)      → bytes, plus the offset of every field's start and end
 *   hostileCases(seed)    → several hundred named cases: huge / negative / > 2^53 dims,
 *                           wrong element types, truncation at every field boundary, lengths
 *                           past their parent, deep nesting, giant metadata, random damage
 */
import { seededRandom } from '../util/random';

/** A dim: a number (negative ones are written as protobuf writes int64), a bigint, a symbolic name. */
export type HostileDim = number | bigint | string;

export interface TensorSpec {
  name: string;
  elemType: number | bigint;
  dims: HostileDim[];
}

export interface HeaderSpec {
  producer?: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  initializers?: string[];
  metadata?: Array<[string, string]>;
}

// ---------------------------------------------------------------- protobuf writing

/** A field to write: a varint, raw bytes, or a nested message; `lengthDelta` lies about the length. */
type Field =
  { no: number; varint: number | bigint } | { no: number; bytes: Uint8Array; lengthDelta?: number } | { no: number; fields: Field[]; lengthDelta?: number };

/** Varint of an unsigned value, or of a negative one as int64 two's complement (10 bytes). */
export function varintBytes(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  // Values past 2^64 (hostile): keep their extra bits by not wrapping.
  if (typeof value === 'bigint' && value >= 2n ** 64n) v = value;
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Serialises fields into chunks (no per-byte copies: some payloads are MBs). */
class Writer {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  /** Offsets where a field starts or ends, at every depth. */
  readonly boundaries: number[] = [];

  private push(bytes: Uint8Array | number[]): void {
    const chunk = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  write(fields: Field[]): void {
    for (const f of fields) {
      this.boundaries.push(this.length);
      if ('varint' in f) {
        this.push(varintBytes(f.no * 8));
        this.push(varintBytes(f.varint));
      } else {
        const inner = new Writer();
        if ('fields' in f) inner.write(f.fields);
        const payloadLength = 'bytes' in f ? f.bytes.length : inner.length;
        this.push(varintBytes(f.no * 8 + 2));
        this.push(varintBytes(Math.max(0, payloadLength + (f.lengthDelta ?? 0))));
        const start = this.length;
        for (const b of inner.boundaries) this.boundaries.push(start + b);
        if ('bytes' in f) this.push(f.bytes);
        else for (const c of inner.chunks) this.push(c);
      }
      this.boundaries.push(this.length);
    }
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function dimField(d: HostileDim): Field {
  return { no: 1, fields: [typeof d === 'string' ? { no: 2, bytes: text(d) } : { no: 1, varint: d }] };
}

function valueInfo(no: number, t: TensorSpec): Field {
  const tensorType: Field = {
    no: 1,
    fields: [
      { no: 1, varint: t.elemType },
      { no: 2, fields: t.dims.map(dimField) },
    ],
  };
  return {
    no,
    fields: [
      { no: 1, bytes: text(t.name) },
      { no: 2, fields: [tensorType] },
    ],
  };
}

function modelFields(spec: HeaderSpec): Field[] {
  const graph: Field[] = [
    ...(spec.initializers ?? []).map((name): Field => ({ no: 5, fields: [{ no: 8, bytes: text(name) }] })),
    ...spec.inputs.map((t) => valueInfo(11, t)),
    ...spec.outputs.map((t) => valueInfo(12, t)),
  ];
  return [
    { no: 1, varint: 8 }, // ir_version
    { no: 2, bytes: text(spec.producer ?? 'hostile') },
    { no: 7, fields: graph },
    ...(spec.metadata ?? []).map(([k, v]): Field => ({
      no: 14,
      fields: [
        { no: 1, bytes: text(k) },
        { no: 2, bytes: text(v) },
      ],
    })),
  ];
}

function serialise(fields: Field[]): { bytes: Uint8Array; boundaries: number[] } {
  const w = new Writer();
  w.write(fields);
  return { bytes: w.bytes(), boundaries: [...new Set(w.boundaries)].sort((a, b) => a - b) };
}

/** The ModelProto bytes of a header, and the offsets of its field boundaries (all depths). */
export function onnxHeader(spec: HeaderSpec): { bytes: Uint8Array; boundaries: number[] } {
  return serialise(modelFields(spec));
}

// ---------------------------------------------------------------- valid small headers

const FLOAT = 1;
const INT64 = 7;
const image = (dims: HostileDim[] = [1, 3, 320, 320]): TensorSpec => ({ name: 'images', elemType: FLOAT, dims });

/** Small valid headers of each family detect.ts recognises. */
export const VALID_HEADERS: Record<string, HeaderSpec> = {
  yolact: {
    inputs: [image([1, 3, 384, 384])],
    outputs: [
      { name: 'loc', elemType: FLOAT, dims: [1, 9207, 4] },
      { name: 'conf', elemType: FLOAT, dims: [1, 9207, 81] },
      { name: 'mask', elemType: FLOAT, dims: [1, 9207, 32] },
      { name: 'priors', elemType: FLOAT, dims: [9207, 4] },
      { name: 'proto', elemType: FLOAT, dims: [1, 96, 96, 32] },
    ],
  },
  yoloSeg: {
    inputs: [image()],
    outputs: [
      { name: 'output0', elemType: FLOAT, dims: [1, 39, 2100] },
      { name: 'output1', elemType: FLOAT, dims: [1, 32, 80, 80] },
    ],
    metadata: [
      ['task', 'segment'],
      ['imgsz', '[320, 320]'],
      ['names', "{0: 'cat', 1: 'dog', 2: 'bird'}"],
    ],
  },
  yoloSegEndToEnd: {
    inputs: [image([1, 3, 'height', 'width'])],
    outputs: [
      { name: 'output0', elemType: FLOAT, dims: [1, 300, 38] },
      { name: 'output1', elemType: FLOAT, dims: [1, 32, 80, 80] },
    ],
    metadata: [['imgsz', '[320, 320]']],
  },
  maskRcnn: {
    inputs: [{ name: 'image', elemType: FLOAT, dims: [3, 'height', 'width'] }],
    outputs: [
      { name: 'boxes', elemType: FLOAT, dims: ['N', 4] },
      { name: 'labels', elemType: INT64, dims: ['N'] },
      { name: 'scores', elemType: FLOAT, dims: ['N'] },
      { name: 'masks', elemType: FLOAT, dims: ['N', 1, 28, 28] },
    ],
    initializers: ['backbone.weight'],
  },
};

/** The reproduction of issue 14: a YOLACT header whose conf claims 100,000,000 classes. */
export function hugeClassCountYolact(): Uint8Array {
  const spec = structuredClone(VALID_HEADERS.yolact!);
  spec.outputs[1]!.dims = [1, 100, 100000001];
  return onnxHeader(spec).bytes;
}

// ---------------------------------------------------------------- hostile cases

export interface HostileCase {
  name: string;
  bytes: Uint8Array;
}

/** Dims no family allows somewhere: zero, negative, past int32, past 2^53, past int64. */
export const HOSTILE_DIMS: HostileDim[] = [
  0,
  -1,
  -2,
  -(2 ** 31),
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 + 1,
  100000001,
  8193,
  100000,
  2 ** 53 - 1,
  2n ** 53n + 1n,
  2n ** 62n,
  2n ** 63n - 1n,
  2n ** 64n - 2n,
  2n ** 70n,
];

/** Element types other than the float32 / int64 the families use, some not types at all. */
const HOSTILE_ELEM_TYPES: Array<number | bigint> = [0, 2, 6, 10, 11, 16, 9999, -1, 2 ** 32, 2n ** 53n + 1n];

function mapTensors(spec: HeaderSpec, fn: (t: TensorSpec, where: string) => void): void {
  spec.inputs.forEach((t) => fn(t, `input ${t.name}`));
  spec.outputs.forEach((t) => fn(t, `output ${t.name}`));
}

/** Every case: name (family, what was done) and bytes. */
export function hostileCases(seed = 14): HostileCase[] {
  const rand = seededRandom(seed);
  const cases: HostileCase[] = [];
  const add = (name: string, bytes: Uint8Array) => cases.push({ name, bytes });
  const fromSpec = (name: string, spec: HeaderSpec) => add(name, onnxHeader(spec).bytes);

  add('issue 14: YOLACT conf [1, 100, 100000001]', hugeClassCountYolact());

  for (const [family, valid] of Object.entries(VALID_HEADERS)) {
    fromSpec(`${family}: valid`, valid);

    // Each dim of each tensor in turn set to each hostile value.
    let tensorIndex = 0;
    mapTensors(valid, (t, where) => {
      const index = tensorIndex++;
      t.dims.forEach((_, axis) => {
        for (const value of HOSTILE_DIMS) {
          const spec = structuredClone(valid);
          const target = index < spec.inputs.length ? spec.inputs[index]! : spec.outputs[index - spec.inputs.length]!;
          target.dims[axis] = value;
          fromSpec(`${family}: ${where} dim ${axis} = ${String(value)}`, spec);
        }
      });
      for (const elemType of HOSTILE_ELEM_TYPES) {
        const spec = structuredClone(valid);
        const target = index < spec.inputs.length ? spec.inputs[index]! : spec.outputs[index - spec.inputs.length]!;
        target.elemType = elemType;
        fromSpec(`${family}: ${where} element type ${String(elemType)}`, spec);
      }
      // Rank far past any tensor's.
      const spec = structuredClone(valid);
      const target = index < spec.inputs.length ? spec.inputs[index]! : spec.outputs[index - spec.inputs.length]!;
      target.dims = Array.from({ length: 5000 }, () => 1);
      fromSpec(`${family}: ${where} rank 5000`, spec);
    });

    // Truncated at every field boundary, at every depth.
    const { bytes, boundaries } = onnxHeader(valid);
    for (const at of boundaries) if (at < bytes.length) add(`${family}: truncated at field boundary ${at} of ${bytes.length}`, bytes.slice(0, at));
    // … and inside fields (one byte into the outermost ones).
    for (const at of boundaries.filter((_, i) => i % 4 === 1)) if (at + 1 < bytes.length) add(`${family}: truncated at byte ${at + 1}`, bytes.slice(0, at + 1));

    // Length-delimited fields that claim to run past their parent.
    const fields = modelFields(valid);
    const lengthPaths: number[][] = [];
    const walk = (fs: Field[], path: number[]) =>
      fs.forEach((f, i) => {
        if (!('varint' in f)) lengthPaths.push([...path, i]);
        if ('fields' in f) walk(f.fields, [...path, i]);
      });
    walk(fields, []);
    for (const path of lengthPaths) {
      for (const delta of [1, 2 ** 31, 2 ** 53]) {
        const copy = structuredCloneFields(fields);
        let f = copy[path[0]!]!;
        for (const i of path.slice(1)) f = (f as { fields: Field[] }).fields[i]!;
        (f as { lengthDelta?: number }).lengthDelta = delta;
        add(`${family}: field at ${path.join('.')} claims ${delta} more bytes`, serialise(copy).bytes);
      }
    }

    // Random damage: bytes overwritten with random values (1 to 4 of them).
    for (let n = 0; n < 40; n++) {
      const damaged = bytes.slice();
      const count = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < count; k++) damaged[Math.floor(rand() * damaged.length)] = Math.floor(rand() * 256);
      add(`${family}: random damage ${n} (seed ${seed})`, damaged);
    }
  }

  const yolo = VALID_HEADERS.yoloSeg!;
  const withMetadata = (name: string, metadata: Array<[string, string]>) => fromSpec(name, { ...yolo, metadata });
  const dynamicInput = { ...yolo, inputs: [image([1, 3, 'h', 'w'])] };

  // Giant or hostile metadata.
  withMetadata('names {99999999: "x"}', [['names', '{99999999: "x"}']]);
  withMetadata('names {0: a, 5000000: b}', [['names', "{0: 'a', 5000000: 'b'}"]]);
  withMetadata('names {-1: a}', [['names', "{-1: 'a', 0: 'b', 1: 'c'}"]]);
  withMetadata('names {1.5: a}', [['names', "{0: 'a', 1.5: 'b', 2: 'c'}"]]);
  withMetadata('names with 100000 entries', [['names', `{${Array.from({ length: 100000 }, (_, i) => `${i}: 'c${i}'`).join(', ')}}`]]);
  withMetadata('names as a list of 100000', [['names', `[${Array.from({ length: 100000 }, (_, i) => `'c${i}'`).join(', ')}]`]]);
  withMetadata('names: 2 MB of one name', [['names', `{0: '${'x'.repeat(2 ** 21)}'}`]]);
  withMetadata('names: YAML alias bomb', [
    [
      'names',
      'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nnames: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    ],
  ]);
  withMetadata('names: nested 10000 deep', [['names', `${'['.repeat(10000)}${']'.repeat(10000)}`]]);
  withMetadata('names not text', [['names', '{0: [1, 2], 1: {a: b}, 2: c}']]);
  withMetadata(
    '10000 metadata entries',
    Array.from({ length: 10000 }, (_, i): [string, string] => [`k${i}`, 'v']),
  );
  withMetadata('a 3 MB metadata value', [['description', 'd'.repeat(3 * 2 ** 20)]]);
  withMetadata('a 100 kB metadata key', [['k'.repeat(100000), 'v']]);
  for (const imgsz of ['[100000, 100000]', '[0, 0]', '[-1, 640]', '1e300', '[320.5, 320]', `[${'9'.repeat(400)}]`, '[8193]']) {
    fromSpec(`dynamic input, imgsz ${imgsz.slice(0, 20)}`, { ...dynamicInput, metadata: [['imgsz', imgsz]] });
  }

  // Input sides past any the app runs.
  for (const side of [100000, 8193, 65536, 2 ** 31 - 1]) {
    fromSpec(`yoloSeg: input ${side}x${side}`, { ...yolo, inputs: [image([1, 3, side, side])] });
    fromSpec(`maskRcnn: input ${side}x${side}`, { ...VALID_HEADERS.maskRcnn!, inputs: [{ name: 'image', elemType: FLOAT, dims: [3, side, side] }] });
  }

  // Many tensors, and long names.
  fromSpec('20000 outputs', { ...yolo, outputs: Array.from({ length: 20000 }, (_, i) => ({ name: `o${i}`, elemType: FLOAT, dims: [1, 2] })) });
  fromSpec('an output name of 1 MB', { ...yolo, outputs: [{ ...yolo.outputs[0]!, name: 'n'.repeat(2 ** 20) }, yolo.outputs[1]!] });
  fromSpec('200000 initializers', { ...yolo, initializers: Array.from({ length: 200000 }, (_, i) => `w${i}`) });

  // Deep nesting: an unknown field 10000 messages deep, inside the graph and at the top.
  const deep: Field = { no: 99, bytes: nestedBytes(99, 10000, text('x')) };
  add('unknown field nested 10000 deep at the top', serialise([deep, ...modelFields(yolo)]).bytes);
  add(
    'unknown field nested 10000 deep in the graph',
    serialise(modelFields(yolo).map((f) => (f.no === 7 && 'fields' in f ? { ...f, fields: [deep, ...f.fields] } : f))).bytes,
  );

  // Malformed varints and wire types.
  const head = onnxHeader(yolo).bytes;
  const join = (...parts: Array<Uint8Array | number[]>) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
  add('an 11-byte varint tag', join(Array(11).fill(0xff), head));
  add('a field number past 2^53', join(varintBytes(2n ** 60n), [0], head));
  add('field number 0', join([0x00, 0x00], head));
  for (const wire of [3, 4, 6, 7]) add(`wire type ${wire}`, join(varintBytes(99 * 8 + wire), [0, 0, 0, 0, 0, 0, 0, 0], head));
  add('a fixed64 field cut short', join(head, varintBytes(99 * 8 + 1), [1, 2, 3]));
  add('a length of 2^64 − 1', join(head, varintBytes(99 * 8 + 2), varintBytes(2n ** 64n - 1n)));
  add('only a tag', Uint8Array.from([0x3a]));
  add('empty', new Uint8Array(0));
  return cases;
}

function structuredCloneFields(fields: Field[]): Field[] {
  return fields.map((f) => ('fields' in f ? { ...f, fields: structuredCloneFields(f.fields) } : { ...f }));
}

/** `depth` messages, each the one field `no` of the one outside it, around `core` (built outside-in, without recursion). */
function nestedBytes(no: number, depth: number, core: Uint8Array): Uint8Array {
  const lengths = [core.length];
  for (let i = 1; i < depth; i++) lengths.push(varintBytes(no * 8 + 2).length + varintBytes(lengths[i - 1]!).length + lengths[i - 1]!);
  const out: number[] = [];
  for (let i = depth - 1; i >= 1; i--) out.push(...varintBytes(no * 8 + 2), ...varintBytes(lengths[i - 1]!));
  for (const b of core) out.push(b);
  return Uint8Array.from(out);
}
