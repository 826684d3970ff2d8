/**
 * No import cycle among the modules of app/pipeline and app/models (static imports,
 * re-exports and dynamic `import()`; `import type` erases at build and is left out). A cycle
 * means neither module can be read, tested or loaded without the other: sessions.ts and
 * models/fromOnnx.ts once imported each other (serializedCreate one way, the saved models'
 * bytes the other); what both need now lives in pipeline/ortQueue.ts, and the saved bytes
 * are handed to sessions.ts by the engine (`setSavedModelBytes`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSpecifier } from '../../test/importGraph';

const ROOT = resolve(__dirname, '../..');
const DIRS = ['app/pipeline', 'app/models'];

/** Runtime imports: `import … from`, `export … from`, bare `import '…'`, `import('…')`; not `import type` / `export type`. */
const RUNTIME_IMPORTS = [/\b(?:import|export)\s+(?!type\b)(?:[^'";]*?\s+from\s+)?(['"])([^'"]+)\1/g, /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Each file's runtime imports among `files`, from the file texts given. */
function importGraph(root: string, files: string[], read: (file: string) => string): Map<string, string[]> {
  const inside = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    // Comments can name imports (`import('…')` in a doc comment): left out.
    const text = read(file)
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const deps = RUNTIME_IMPORTS.flatMap((re) => [...text.matchAll(re)].map((m) => resolveSpecifier(root, file, m[2]!)));
    graph.set(file, [...new Set(deps.filter((d): d is string => d !== null && inside.has(d)))]);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as the files on it (first = last). */
function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') found.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('import cycles', () => {
  it('the walker finds a cycle through a dynamic import and ignores type-only imports', () => {
    const root = ROOT;
    const a = join(root, 'app/pipeline/sessions.ts');
    const b = join(root, 'app/models/fromOnnx.ts');
    const c = join(root, 'app/pipeline/runner.ts');
    const texts: Record<string, string> = {
      [a]: "import { x } from './runner';\nconst m = () => import('../models/fromOnnx');\n",
      [b]: "import { serializedCreate } from '../pipeline/sessions';\n",
      [c]: "import type { Y } from './sessions';\n/* import('./sessions') in a comment */\n",
    };
    const found = cycles(importGraph(root, [a, b, c], (f) => texts[f]!));
    expect(found.map((cycle) => cycle.map((f) => relative(root, f)))).toEqual([
      ['app/pipeline/sessions.ts', 'app/models/fromOnnx.ts', 'app/pipeline/sessions.ts'],
    ]);
  });

  it('none among app/pipeline and app/models', () => {
    const files = DIRS.flatMap((d) => sources(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(20);
    const graph = importGraph(ROOT, files, (f) => readFileSync(f, 'utf8'));
    // The engine's parts are walked too.
    expect(graph.get(join(ROOT, 'app/pipeline/engine.ts'))).toContain(join(ROOT, 'app/pipeline/engine/scheduler.ts'));
    expect(cycles(graph).map((cycle) => cycle.map((f) => relative(ROOT, f)).join(' → '))).toEqual([]);
  });
});
