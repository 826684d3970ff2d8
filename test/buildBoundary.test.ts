/**
 * Test code stays out of the production build (`npm run build` → dist/): no build input of
 * vite.config.ts is a test page, nothing reachable from the build inputs is under test/, a
 * test file, or a conformance / fixtures folder, and no source file of app/ other than its
 * own *.test.ts imports from test/. The first block shows the checker catching each of
 * these on a small tree written for the purpose.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import viteConfig from '../vite.config';
import { directDependencies, reachableFiles, testCodeReason } from './importGraph';

const ROOT = resolve(__dirname, '..');

/** vite.config.ts's `build.rollupOptions.input`, as absolute paths. */
function buildInputs(): string[] {
  const input = viteConfig.build?.rollupOptions?.input;
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : Object.values(input ?? {});
  return list.map((p) => resolve(ROOT, p));
}

/** `files` under `root` that are test code, each with why. */
function violations(root: string, files: Iterable<string>): string[] {
  return [...files].flatMap((f) => {
    const why = testCodeReason(root, f);
    return why ? [`${relative(root, f)} (${why})`] : [];
  });
}

function listSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listSources(path) : /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

describe('the checker itself, on a tree written for the test', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'segarena-boundary-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    writeFileSync(join(tmp, rel), text);
  };
  write('index.html', '<script type="module" src="/app/main.ts"></script>');
  write('app/main.ts', "import { a } from './a';\nimport 'react';\nconst lazy = () => import('./lazy');\n");
  write('app/a.ts', "export { b } from '../test/helpers';\nexport const a = 1;\n");
  write('app/lazy.ts', "const m = import.meta.glob(['./kernels/*.ts', '!./kernels/skip.ts']);\n");
  write('app/kernels/one.ts', "import src from '../../shaders/one.wgsl?raw';\n");
  write('app/kernels/one.test.ts', '');
  write('app/kernels/skip.ts', "import '../../test/skipped';\n");
  write('app/kernels/conformance/cases.ts', '');
  write('shaders/one.wgsl', '');
  write('test/helpers.ts', 'export const b = 2;');
  write('test/skipped.ts', '');

  it('follows html scripts, re-exports, dynamic imports, globs (with negations) and ?raw', () => {
    const reached = [...reachableFiles(tmp, [join(tmp, 'index.html')])].map((f) => relative(tmp, f)).sort();
    expect(reached).toEqual([
      'app/a.ts',
      'app/kernels/one.test.ts',
      'app/kernels/one.ts',
      'app/lazy.ts',
      'app/main.ts',
      'index.html',
      'shaders/one.wgsl',
      'test/helpers.ts',
    ]);
  });

  it('names test code: under test/, *.test.ts, conformance and fixtures folders', () => {
    const reached = reachableFiles(tmp, [join(tmp, 'index.html')]);
    expect(violations(tmp, reached).sort()).toEqual(['app/kernels/one.test.ts (a test file)', 'test/helpers.ts (under test/)']);
    expect(testCodeReason(tmp, join(tmp, 'app/kernels/conformance/cases.ts'))).toBe('a conformance or fixtures folder');
    expect(testCodeReason(tmp, join(tmp, 'app/kernels/one.ts'))).toBeNull();
  });
});

describe('the production build holds no test code', () => {
  const inputs = buildInputs();

  it('builds only index.html, not the kernel conformance page', () => {
    expect(inputs.map((p) => relative(ROOT, p))).toEqual(['index.html']);
  });

  it('reaches no test code from its inputs', () => {
    const reached = reachableFiles(ROOT, inputs);
    // The walk must be real: the app, a kernel, its WGSL and a bundled manifest are reached.
    for (const rel of ['app/main.tsx', 'app/gpu/kernels/fastNms.ts', 'shaders/fast_nms.wgsl']) {
      expect(reached.has(join(ROOT, rel)), rel).toBe(true);
    }
    expect([...reached].some((f) => relative(ROOT, f).startsWith('models/') && f.endsWith('.json'))).toBe(true);
    expect(violations(ROOT, reached)).toEqual([]);
  });

  it('has no app/ source file (tests aside) importing from test/', () => {
    const offenders = listSources(join(ROOT, 'app'))
      .filter((f) => testCodeReason(ROOT, f) === null)
      .flatMap((f) =>
        directDependencies(ROOT, f)
          .filter((d) => testCodeReason(ROOT, d) !== null)
          .map((d) => `${relative(ROOT, f)} → ${relative(ROOT, d)}`),
      );
    expect(offenders).toEqual([]);
  });
});
