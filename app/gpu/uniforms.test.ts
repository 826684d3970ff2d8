import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withIncludes } from './shaderSource';
import { offsetOf, packUniforms, setUniforms, structLayout, uniformLayout } from './uniforms';

const SHADERS = path.join(__dirname, '..', '..', 'shaders');

describe('structLayout: offsets written out by hand', () => {
  it('scalars pack on 4 bytes; the struct size rounds up to its alignment', () => {
    const l = structLayout('struct P { a: u32, b: f32, c: i32, }', 'P');
    expect(l.offsets).toEqual({ a: 0, b: 4, c: 8 });
    expect([l.align, l.size]).toEqual([4, 12]);
  });

  it('vec2 aligns on 8, vec3 and vec4 on 16; a scalar fits in the 4 bytes after a vec3', () => {
    const code = `
      struct P {
        a: u32,          // 0
        b: vec2<f32>,    // 8 (not 4)
        c: f32,          // 16
        d: vec3<f32>,    // 32 (not 20)
        e: u32,          // 44: in vec3's tail
        f: vec3u,        // 48
        g: vec4f,        // 64
        h: vec2i,        // 80
      }`;
    const l = structLayout(code, 'P');
    expect(l.offsets).toEqual({ a: 0, b: 8, c: 16, d: 32, e: 44, f: 48, g: 64, h: 80 });
    expect([l.align, l.size]).toEqual([16, 96]);
  });

  it('arrays: stride = element size rounded to its alignment (vec3 → 16), named const lengths', () => {
    const code = `
      const LEVELS: u32 = 3u;
      const N = 2;
      struct P {
        n: u32,                         // 0
        s: array<f32, 5>,               // 4, stride 4, 20 bytes
        v: array<vec3<f32>, LEVELS>,    // 32 (vec3 aligns 16), stride 16, 48 bytes
        w: array<vec2<u32>, N>,         // 80, stride 8
        last: u32,                      // 96
      }`;
    const l = structLayout(code, 'P');
    expect(l.offsets).toEqual({ n: 0, s: 4, v: 32, w: 80, last: 96 });
    expect(l.size).toBe(112);
    expect(offsetOf(l, 's[4]')).toBe(20);
    expect(offsetOf(l, 'v[2]')).toBe(64);
    expect(offsetOf(l, 'w[1]')).toBe(88);
  });

  it('nested structs align to their largest member; arrays of structs stride by the struct size', () => {
    const code = `
      struct Box { lo: vec2<f32>, hi: vec2<f32>, }   // align 8, size 16
      struct Item { box: Box, score: f32, }         // align 8, size 24
      struct Inner { v: vec3<f32>, k: u32, }        // align 16, size 16
      struct P {
        count: u32,               // 0
        item: Item,               // 8
        items: array<Item, 2>,    // 32, stride 24
        inner: Inner,             // 80
        tail: f32,                // 96
      }`;
    const l = structLayout(code, 'P');
    expect(l.offsets).toEqual({ count: 0, item: 8, items: 32, inner: 80, tail: 96 });
    expect([l.align, l.size]).toEqual([16, 112]);
    expect(offsetOf(l, 'item.score')).toBe(24);
    expect(offsetOf(l, 'items[1].box.hi')).toBe(32 + 24 + 8);
    expect(offsetOf(l, 'inner.k')).toBe(92);
  });

  it('@align and @size move and widen a field; comments are ignored', () => {
    const code = `
      /* struct Fake { x: vec4<f32> } /* nested */ */
      struct P {
        a: u32,                  // b: vec4<f32>,
        @align(32) b: f32,       // 32
        @size(12) c: u32,        // 36, next at 48
        d: u32,                  // 48
      }`;
    const l = structLayout(code, 'P');
    expect(l.offsets).toEqual({ a: 0, b: 32, c: 36, d: 48 });
    expect([l.align, l.size]).toEqual([32, 64]);
  });

  it('refuses what it cannot lay out', () => {
    expect(() => structLayout('struct P { a: array<f32>, }', 'P')).toThrow(/no fixed length/);
    expect(() => structLayout('struct P { a: mat2x2<f16>, }', 'P')).toThrow(/unsupported type/);
    expect(() => structLayout('struct P { a: u32, }', 'Q')).toThrow(/no struct Q/);
    expect(() => structLayout('struct P { a: array<u32, M>, }', 'P')).toThrow(/not an integer literal or a const/);
  });

  it('uniformLayout refuses array strides and nested structs that a uniform cannot hold', () => {
    expect(() => uniformLayout('struct P { a: array<f32, 4>, }', 'P')).toThrow(/multiple of 16/);
    expect(() => uniformLayout('struct S { x: f32, } struct P { s: S, b: f32, }', 'P')).toThrow(/16 bytes/);
    expect(uniformLayout('struct P { a: array<vec4<u32>, 4>, b: vec4<f32>, }', 'P').offsets).toEqual({ a: 0, b: 64 });
  });
});

describe('setUniforms', () => {
  const code = `
    struct Inner { v: vec3<f32>, k: i32, }
    struct P {
      n: u32,
      x: f32,
      flag: u32,
      levels: array<vec4<u32>, 2>,
      inner: Inner,
    }`;
  const l = structLayout(code, 'P');

  it('writes each field at its offset, little-endian, with its scalar type; unnamed fields stay 0', () => {
    const data = packUniforms(l, {
      n: 7,
      x: 0.5,
      flag: true,
      levels: [
        [1, 2],
        [3, 4, 5, 6],
      ],
      inner: { v: [1.5, -2], k: -3 },
    });
    expect(data.byteLength).toBe(l.size);
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    const i32 = new Int32Array(data);
    expect([u32[0], f32[1], u32[2], u32[3]]).toEqual([7, 0.5, 1, 0]);
    expect([...u32.slice(4, 12)]).toEqual([1, 2, 0, 0, 3, 4, 5, 6]);
    expect([f32[12], f32[13], f32[14], i32[15]]).toEqual([1.5, -2, 0, -3]);
  });

  it('converts as the typed arrays do (u32 wraps, f32 rounds)', () => {
    const data = packUniforms(l, { n: -1, x: 0.1 });
    expect(new Uint32Array(data)[0]).toBe(0xffffffff);
    expect(new Float32Array(data)[1]).toBe(Math.fround(0.1));
  });

  it('writes at an offset into a larger buffer', () => {
    const data = new ArrayBuffer(l.size + 16);
    setUniforms(data, l, { n: 9 }, 16);
    expect(new Uint32Array(data)[4]).toBe(9);
    expect(() => setUniforms(new ArrayBuffer(l.size), l, { n: 1 }, 4)).toThrow(/needs/);
  });

  it('refuses unknown names, wrong shapes and too many values', () => {
    expect(() => packUniforms(l, { m: 1 })).toThrow(/no field “m”/);
    expect(() => packUniforms(l, { n: [1] })).toThrow(/P\.n is a u32/);
    expect(() => packUniforms(l, { levels: [[1, 2, 3, 4, 5]] })).toThrow(/holds 4 values/);
    expect(() => packUniforms(l, { levels: [[], [], []] })).toThrow(/holds 2 values/);
    expect(() => packUniforms(l, { inner: 3 })).toThrow(/struct Inner/);
  });
});

describe("every shader's Params is a valid uniform layout", () => {
  const files = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl'));
  for (const file of files) {
    const code = withIncludes(readFileSync(path.join(SHADERS, file), 'utf8'));
    if (!/\bstruct\s+Params\b/.test(code)) continue;
    it(file, () => {
      const l = uniformLayout(code, 'Params');
      expect(l.size % 4).toBe(0);
      // The offsets the WGSL comments give (`//  12: …`), where it gives them.
      for (const m of code.matchAll(/^\s*(\w+)\s*:[^,]+,\s*\/\/\s*(\d+)\b/gm)) {
        if (m[1]! in l.offsets) expect([m[1], l.offsets[m[1]!]]).toEqual([m[1], Number(m[2])]);
      }
    });
  }
});
