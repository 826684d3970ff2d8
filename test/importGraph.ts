/**
 * The files a Vite build would pull in, found by reading the sources (no bundler run):
 * from an HTML page's `<script type="module" src>` through every relative or root-absolute
 * `import … from`, `export … from`, side-effect `import '…'`, `import('…')` and
 * `import.meta.glob(…)` (negated patterns honoured). Bare specifiers (npm packages) are
 * not followed. Used by test/buildBoundary.test.ts to keep test code out of dist/.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Suffixes tried, in Vite's order for our sources, when a specifier names no file. */
const RESOLVE_SUFFIXES = ['', '.ts', '.tsx', '.js', '.mjs', '/index.ts', '/index.tsx'];

/** Source files whose text is read for further imports (the rest — wgsl, json, css — are leaves). */
const SCRIPT = /\.(ts|tsx|js|mjs)$/;

const IMPORT_SPECIFIERS = [/\bfrom\s*(['"])([^'"]+)\1/g, /\bimport\s*(['"])([^'"]+)\1/g, /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g];
const GLOB_CALL = /import\.meta\.glob(?:<[^>]*>)?\(\s*(\[[^\]]*\]|'[^']*'|"[^"]*")/g;
const SCRIPT_SRC = /<script\b[^>]*\bsrc\s*=\s*(['"])([^'"]+)\1/g;

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** `spec` as written in `fromFile` → the file it names, or null for packages and unresolvable paths. */
export function resolveSpecifier(root: string, fromFile: string, spec: string): string | null {
  const path = spec.split('?')[0]!;
  let base: string;
  if (path.startsWith('./') || path.startsWith('../')) base = resolve(dirname(fromFile), path);
  else if (path.startsWith('/')) base = join(root, path);
  else return null;
  for (const suffix of RESOLVE_SUFFIXES) if (isFile(base + suffix)) return base + suffix;
  return null;
}

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === '.git') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** The files an `import.meta.glob` call in `fromFile` matches (patterns relative to it). */
export function expandGlob(fromFile: string, patterns: string[]): string[] {
  const dir = dirname(fromFile);
  const toPosix = (p: string) => p.split(sep).join('/');
  const positive = patterns.filter((p) => !p.startsWith('!'));
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => globToRegExp(toPosix(resolve(dir, p.slice(1)))));
  const found = new Set<string>();
  for (const pattern of positive) {
    const absolute = toPosix(resolve(dir, pattern));
    const fixed = absolute.slice(0, absolute.search(/[*?]/) === -1 ? absolute.length : absolute.search(/[*?]/));
    const walkFrom = fixed.endsWith('/') ? fixed : dirname(fixed);
    const re = globToRegExp(absolute);
    for (const file of listFiles(walkFrom)) {
      const posix = toPosix(file);
      if (re.test(posix) && !negative.some((n) => n.test(posix))) found.add(file);
    }
  }
  return [...found];
}

/** Every relative / root-absolute file `file` names (imports and globs). */
export function directDependencies(root: string, file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const deps: string[] = [];
  if (file.endsWith('.html')) {
    for (const m of text.matchAll(SCRIPT_SRC)) {
      const dep = resolveSpecifier(root, file, m[2]!);
      if (dep) deps.push(dep);
    }
    return deps;
  }
  if (!SCRIPT.test(file)) return deps;
  for (const re of IMPORT_SPECIFIERS) {
    for (const m of text.matchAll(re)) {
      const dep = resolveSpecifier(root, file, m[2]!);
      if (dep) deps.push(dep);
    }
  }
  for (const m of text.matchAll(GLOB_CALL)) {
    const patterns = [...m[1]!.matchAll(/(['"])([^'"]+)\1/g)].map((p) => p[2]!);
    deps.push(...expandGlob(file, patterns));
  }
  return deps;
}

/** All files reachable from `entries` (absolute paths), entries included. */
export function reachableFiles(root: string, entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...directDependencies(root, file));
  }
  return seen;
}

/** Why `file` must not be in a production build, or null when it may be. */
export function testCodeReason(root: string, file: string): string | null {
  const rel = relative(root, file).split(sep).join('/');
  if (rel === 'test' || rel.startsWith('test/')) return 'under test/';
  if (/\.(test|spec)\.tsx?$/.test(rel)) return 'a test file';
  if (rel.split('/').some((part) => part === 'conformance' || part === 'fixtures')) return 'a conformance or fixtures folder';
  return null;
}
