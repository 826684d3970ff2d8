import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withIncludes } from './shaderSource';

const SHADERS = path.join(__dirname, '..', '..', 'shaders');

describe('withIncludes', () => {
  it('puts the named part in place of its include line, and nothing else changes', () => {
    const out = withIncludes('const A = 1u;\n//!include box_iou\nfn main() {}\n');
    expect(out.startsWith('const A = 1u;\n// Boxes as vec4')).toBe(true);
    expect(out).toContain('fn iou(a: vec4<f32>, b: vec4<f32>) -> f32 {');
    expect(out.endsWith('}\nfn main() {}\n')).toBe(true);
    expect(withIncludes('// a comment that mentions //!include records\n')).toBe('// a comment that mentions //!include records\n');
  });

  it('puts the parts a part includes in place too', () => {
    const out = withIncludes('//!include roi_levels\n');
    expect(out).not.toMatch(/^\/\/!include/m);
    expect(out).toContain('atIndex((wid.y * groups.x + wid.x) * WORKGROUP + tid);');
  });

  it('refuses a part that does not exist', () => {
    expect(() => withIncludes('//!include nothing_here\n')).toThrow('shaders/common/nothing_here.wgsl');
  });

  it('resolves every include of every kernel, each part at most once a kernel; every shared part is used', () => {
    const used = new Set<string>();
    for (const file of readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl'))) {
      const code = readFileSync(path.join(SHADERS, file), 'utf8');
      const names = [...code.matchAll(/^\/\/!include (\w+)/gm)].map((m) => m[1]!);
      for (const n of names) used.add(n);
      expect(new Set(names).size, file).toBe(names.length);
      expect(withIncludes(code), file).not.toMatch(/^\/\/!include/m);
    }
    // Parts may include parts: a part counts as used when a used part includes it.
    for (const part of [...used]) {
      const code = readFileSync(path.join(SHADERS, 'common', `${part}.wgsl`), 'utf8');
      for (const m of code.matchAll(/^\/\/!include (\w+)/gm)) used.add(m[1]!);
    }
    const parts = readdirSync(path.join(SHADERS, 'common'))
      .filter((f) => f.endsWith('.wgsl'))
      .map((f) => f.slice(0, -'.wgsl'.length));
    expect([...used].sort()).toEqual(parts.sort());
  });
});
