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

  it('refuses a part that does not exist', () => {
    expect(() => withIncludes('//!include nothing_here\n')).toThrow('shaders/common/nothing_here.wgsl');
  });

  it('resolves every include of every kernel, each part at most once a kernel', () => {
    let includes = 0;
    for (const file of readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl'))) {
      const code = readFileSync(path.join(SHADERS, file), 'utf8');
      const names = [...code.matchAll(/^\/\/!include (\w+)/gm)].map((m) => m[1]);
      includes += names.length;
      expect(new Set(names).size, file).toBe(names.length);
      expect(withIncludes(code), file).not.toMatch(/^\/\/!include/m);
    }
    expect(includes).toBe(33);
  });
});
