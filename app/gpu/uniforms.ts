/**
 * Uniform layouts read from the WGSL itself: `structLayout(code, 'Params')` parses the
 * `struct` declarations of a shader and places each field by WGSL's alignment and size
 * rules, so a kernel host writes its params by field name (`setUniforms`) instead of by
 * hand-counted offsets.
 *
 * Types (WGSL § memory layout; the host-shareable ones our kernels use):
 *   type                   align        size
 *   u32, i32, f32 (atomic)     4            4
 *   vec2<T>                    8            8
 *   vec3<T>                   16           12   (the next field may sit in its last 4 bytes)
 *   vec4<T>                   16           16
 *   array<E, N>        align(E)     N · stride, stride = roundUp(align(E), size(E))
 *   struct S          max(align)   roundUp(align(S), end of last field)
 * `@align(n)` / `@size(n)` on a field override its own. Shorthands (`vec4f`, `vec2u`,
 * `vec3i`) and named `const` array lengths are understood. `uniformLayout` also checks the
 * uniform address space's extra rules (array strides and nested structs on 16 bytes), which
 * change no offset but make a struct unusable as a uniform.
 */

export type ScalarType = 'u32' | 'i32' | 'f32';

export type WgslType =
  | { kind: 'scalar'; scalar: ScalarType; align: number; size: number }
  | { kind: 'vector'; scalar: ScalarType; count: 2 | 3 | 4; align: number; size: number }
  | { kind: 'array'; element: WgslType; length: number; stride: number; align: number; size: number }
  | StructLayout;

export interface FieldLayout {
  name: string;
  type: WgslType;
  /** Byte offset from the start of the enclosing struct. */
  offset: number;
  /** Bytes the field occupies (its type's size, or its `@size`). */
  size: number;
}

export interface StructLayout {
  kind: 'struct';
  name: string;
  align: number;
  size: number;
  fields: FieldLayout[];
  /** Byte offset of each top-level field, by name. */
  offsets: Readonly<Record<string, number>>;
}

const roundUp = (alignment: number, n: number): number => Math.ceil(n / alignment) * alignment;

/** Removes line comments and (nested) block comments. */
function stripComments(code: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const two = code.slice(i, i + 2);
    if (depth === 0 && two === '//') {
      while (i < code.length && code[i] !== '\n') i++;
      out += '\n';
    } else if (two === '/*') {
      depth++;
      i++;
    } else if (depth > 0 && two === '*/') {
      depth--;
      i++;
      out += ' ';
    } else if (depth === 0) {
      out += code[i];
    }
  }
  return out;
}

/** Splits at top-level commas (not inside <> or ()). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const SCALARS: Record<string, ScalarType> = { u32: 'u32', i32: 'i32', f32: 'f32' };
const SHORT_SUFFIX: Record<string, ScalarType> = { u: 'u32', i: 'i32', f: 'f32' };

/** The parsed declarations of one shader: struct bodies and integer constants. */
class Declarations {
  private readonly bodies = new Map<string, string>();
  private readonly constants = new Map<string, string>();
  private readonly resolved = new Map<string, StructLayout>();

  constructor(code: string) {
    const text = stripComments(code);
    for (const m of text.matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) this.bodies.set(m[1]!, m[2]!);
    for (const m of text.matchAll(/\bconst\s+(\w+)\s*(?::\s*\w+\s*)?=\s*([^;]+);/g)) this.constants.set(m[1]!, m[2]!.trim());
  }

  private integer(expr: string, seen: Set<string> = new Set()): number {
    const literal = /^(0x[0-9a-fA-F]+|\d+)[ui]?$/.exec(expr);
    if (literal) return Number(literal[1]);
    const named = this.constants.get(expr);
    if (named !== undefined && !seen.has(expr)) return this.integer(named, new Set([...seen, expr]));
    throw new Error(`WGSL layout: array length “${expr}” is not an integer literal or a const`);
  }

  type(text: string, stack: readonly string[]): WgslType {
    const t = text.replace(/\s+/g, '');
    const scalar = SCALARS[t];
    if (scalar) return { kind: 'scalar', scalar, align: 4, size: 4 };
    const atomic = /^atomic<(u32|i32)>$/.exec(t);
    if (atomic) return { kind: 'scalar', scalar: atomic[1] as ScalarType, align: 4, size: 4 };
    const vec = /^vec([234])(?:<(u32|i32|f32)>|([uif]))$/.exec(t);
    if (vec) {
      const count = Number(vec[1]) as 2 | 3 | 4;
      const s = vec[2] ? SCALARS[vec[2]]! : SHORT_SUFFIX[vec[3]!]!;
      return { kind: 'vector', scalar: s, count, align: count === 2 ? 8 : 16, size: 4 * count };
    }
    const arr = /^array<(.+)>$/.exec(t);
    if (arr) {
      const args = splitTopLevel(arr[1]!);
      if (args.length !== 2) throw new Error(`WGSL layout: “${text}” has no fixed length (runtime-sized arrays cannot be uniforms)`);
      const element = this.type(args[0]!, stack);
      const length = this.integer(args[1]!);
      const stride = roundUp(element.align, element.size);
      return { kind: 'array', element, length, stride, align: element.align, size: length * stride };
    }
    if (this.bodies.has(t)) return this.struct(t, stack);
    throw new Error(`WGSL layout: unsupported type “${text}”`);
  }

  struct(name: string, stack: readonly string[] = []): StructLayout {
    const done = this.resolved.get(name);
    if (done) return done;
    const body = this.bodies.get(name);
    if (body === undefined) throw new Error(`WGSL layout: no struct ${name}`);
    if (stack.includes(name)) throw new Error(`WGSL layout: struct ${name} contains itself`);
    const fields: FieldLayout[] = [];
    let end = 0;
    let align = 1;
    for (const member of splitTopLevel(body)) {
      const m = /^((?:@\w+(?:\([^)]*\))?\s*)*)(\w+)\s*:\s*(.+)$/s.exec(member);
      if (!m) throw new Error(`WGSL layout: cannot read member “${member}” of struct ${name}`);
      const attributes = m[1]!;
      const type = this.type(m[3]!, [...stack, name]);
      const alignAttr = /@align\(\s*([^)]+?)\s*\)/.exec(attributes);
      const sizeAttr = /@size\(\s*([^)]+?)\s*\)/.exec(attributes);
      const fieldAlign = alignAttr ? this.integer(alignAttr[1]!) : type.align;
      const fieldSize = sizeAttr ? this.integer(sizeAttr[1]!) : type.size;
      if (sizeAttr && fieldSize < type.size) throw new Error(`WGSL layout: @size(${fieldSize}) of ${name}.${m[2]} is below its type's ${type.size}`);
      const offset = roundUp(fieldAlign, end);
      fields.push({ name: m[2]!, type, offset, size: fieldSize });
      end = offset + fieldSize;
      align = Math.max(align, fieldAlign);
    }
    if (fields.length === 0) throw new Error(`WGSL layout: struct ${name} has no members`);
    const layout: StructLayout = {
      kind: 'struct',
      name,
      align,
      size: roundUp(align, end),
      fields,
      offsets: Object.fromEntries(fields.map((f) => [f.name, f.offset])),
    };
    this.resolved.set(name, layout);
    return layout;
  }
}

/** The layout of struct `name` declared in `code` (WGSL after includes). */
export function structLayout(code: string, name: string): StructLayout {
  return new Declarations(code).struct(name);
}

/** Throws unless `type` may sit in the uniform address space (16-byte array strides and nested structs). */
function checkUniform(type: WgslType, path: string): void {
  if (type.kind === 'array') {
    if (type.stride % 16 !== 0) throw new Error(`WGSL layout: ${path} is an array of stride ${type.stride}; a uniform array's stride must be a multiple of 16`);
    checkUniform(type.element, `${path}[]`);
  } else if (type.kind === 'struct') {
    type.fields.forEach((f, i) => {
      const at = `${path}.${f.name}`;
      if (f.type.kind === 'array' || f.type.kind === 'struct') {
        if (f.offset % 16 !== 0) throw new Error(`WGSL layout: ${at} at offset ${f.offset}; in a uniform it must start on 16 bytes`);
      }
      if (f.type.kind === 'struct') {
        const next = type.fields[i + 1];
        if (next && next.offset - f.offset < roundUp(16, f.type.size))
          throw new Error(`WGSL layout: the member after ${at} must start ${roundUp(16, f.type.size)} bytes after it in a uniform`);
      }
      checkUniform(f.type, at);
    });
  }
}

const uniformLayouts = new Map<string, StructLayout>();

/** `structLayout`, checked against the uniform address space's rules (parsed once per shader and struct). */
export function uniformLayout(code: string, name: string): StructLayout {
  const key = `${name}\0${code}`;
  let layout = uniformLayouts.get(key);
  if (!layout) {
    layout = structLayout(code, name);
    checkUniform(layout, name);
    uniformLayouts.set(key, layout);
  }
  return layout;
}

/**
 * Byte offset of a field path in a struct: 'numPriors', 'weights', 'levels[2]',
 * 'inner.box', 'items[1].score'.
 */
export function offsetOf(layout: StructLayout, path: string): number {
  let type: WgslType = layout;
  let offset = 0;
  for (const part of path.split('.')) {
    const m = /^(\w+)((?:\[\d+\])*)$/.exec(part);
    if (!m || type.kind !== 'struct') throw new Error(`WGSL layout: no field “${path}” in ${layout.name}`);
    const field: FieldLayout | undefined = type.fields.find((f) => f.name === m[1]);
    if (!field) throw new Error(`WGSL layout: no field “${path}” in ${layout.name}`);
    offset += field.offset;
    type = field.type;
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) {
      const i = Number(index[1]);
      if (type.kind !== 'array' || i >= type.length) throw new Error(`WGSL layout: “${path}” indexes past ${layout.name}'s array`);
      offset += i * type.stride;
      type = type.element;
    }
  }
  return offset;
}

/** A value for a scalar (booleans are written as 1 / 0), vector, array or struct field. */
export type UniformValue = number | boolean | ArrayLike<number> | ArrayLike<UniformValue> | UniformValues;
export interface UniformValues {
  readonly [field: string]: UniformValue | undefined;
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { length?: unknown }).length === 'number';
}

function writeScalar(view: DataView, offset: number, scalar: ScalarType, value: unknown, path: string): void {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'boolean') n = value ? 1 : 0;
  else throw new Error(`setUniforms: ${path} is a ${scalar}, given ${isArrayLike(value) ? 'an array' : typeof value}`);
  if (scalar === 'f32') view.setFloat32(offset, n, true);
  else if (scalar === 'u32') view.setUint32(offset, n, true);
  else view.setInt32(offset, n, true);
}

function write(view: DataView, offset: number, type: WgslType, value: unknown, path: string): void {
  switch (type.kind) {
    case 'scalar':
      writeScalar(view, offset, type.scalar, value, path);
      return;
    case 'vector':
    case 'array': {
      const length = type.kind === 'vector' ? type.count : type.length;
      if (!isArrayLike(value)) throw new Error(`setUniforms: ${path} takes up to ${length} values, given ${typeof value}`);
      if (value.length > length) throw new Error(`setUniforms: ${path} holds ${length} values, given ${value.length}`);
      for (let i = 0; i < value.length; i++) {
        if (type.kind === 'vector') writeScalar(view, offset + 4 * i, type.scalar, value[i], `${path}[${i}]`);
        else write(view, offset + i * type.stride, type.element, value[i], `${path}[${i}]`);
      }
      return;
    }
    case 'struct': {
      if (typeof value !== 'object' || value === null || isArrayLike(value))
        throw new Error(`setUniforms: ${path} is a struct ${type.name}, given ${typeof value}`);
      for (const [name, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const field = type.fields.find((f) => f.name === name);
        if (!field) throw new Error(`setUniforms: struct ${type.name} has no field “${name}”`);
        write(view, offset + field.offset, field.type, v, `${path}.${name}`);
      }
    }
  }
}

/**
 * Writes `values` by field name into `target` at `byteOffset` (little-endian, as WebGPU
 * reads). Fields not named are left as they are (0 in a fresh buffer: padding); a name the
 * struct does not have, a wrong shape, or more values than a vector / array holds throws.
 */
export function setUniforms(target: ArrayBuffer | DataView, layout: StructLayout, values: UniformValues, byteOffset = 0): void {
  const view = target instanceof DataView ? target : new DataView(target);
  if (byteOffset + layout.size > view.byteLength)
    throw new Error(`setUniforms: ${layout.name} needs ${layout.size} bytes at ${byteOffset}, the target has ${view.byteLength}`);
  write(view, byteOffset, layout, values, layout.name);
}

/** A flat list as the elements of an `array<vec4<T>, N>` that packs it four a vector ([i / 4][i % 4]). */
export function vec4Chunks(flat: ArrayLike<number>): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += 4) out.push(Array.from({ length: Math.min(4, flat.length - i) }, (_, j) => flat[i + j]!));
  return out;
}

/** A fresh ArrayBuffer of the struct's size holding `values`. */
export function packUniforms(layout: StructLayout, values: UniformValues): ArrayBuffer {
  const data = new ArrayBuffer(layout.size);
  setUniforms(data, layout, values);
  return data;
}
