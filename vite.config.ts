import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The app lives in app/, shaders in shaders/ (imported with `?raw`), models in models/
// (served by `serveStaticTree` under /models/), static assets in public/, and
// onnxruntime-web's wasm runtimes under /ort/ (see app/pipeline/ort.ts).

const ROOT = import.meta.dirname;
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');

/** The ORT runtime files the app loads at run time: the JSEP build (WebGPU EP) and the asyncify build (wasm EP). */
const ORT_FILES = [
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

const MIME: Record<string, string> = {
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

/**
 * Model weights that ship with the app (ONNX, not data or training runs). Manifests are
 * bundled by app/models/registry.ts (import.meta.glob), and Vite requests them as modules,
 * so they must not be answered here.
 */
function isShippedModelFile(path: string): boolean {
  return /\.onnx$/.test(path) && !path.split(sep).some((part) => part === 'data' || part === 'runs');
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * Cross-origin isolation, so that ORT's wasm EP can use threads (SharedArrayBuffer): the
 * page and everything it loads come from this origin (the CSP above), and remote models are
 * fetched with CORS, so `require-corp` costs nothing. The same headers are in
 * public/_headers for a static host serving the build.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Serves `urlPrefix` + file from `dir` in dev, and copies the same files into the build.
 * `accept` filters which files are exposed (relative path → boolean).
 */
function serveStaticTree(name: string, urlPrefix: string, dir: string, accept: (rel: string) => boolean): Plugin {
  return {
    name,
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0]!;
        if (!url.startsWith(urlPrefix)) return next();
        const rel = decodeURIComponent(url.slice(urlPrefix.length));
        const path = resolve(dir, rel);
        if (!path.startsWith(dir + sep) || !accept(relative(dir, path)) || !existsSync(path) || !statSync(path).isFile()) {
          return next();
        }
        const ext = path.slice(path.lastIndexOf('.'));
        // Vite's `server.headers` do not reach this middleware: ORT's thread workers load
        // these files, and an isolated page refuses a worker script without them.
        for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
        res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(path).size));
        createReadStream(path).pipe(res);
      });
    },
    generateBundle() {
      for (const path of listFiles(dir)) {
        const rel = relative(dir, path);
        if (!accept(rel)) continue;
        this.emitFile({ type: 'asset', fileName: urlPrefix.slice(1) + rel.split(sep).join('/'), source: readFileSync(path) });
      }
    },
  };
}

/**
 * Content-Security-Policy meta. wasm needs 'wasm-unsafe-eval'. Connections: this origin, and
 * https: for remote models (app/models/catalog.ts: checked by size and sha256). The dev
 * server's React refresh preamble is an inline script, HMR uses a websocket, and the e2e
 * model host listens on http://127.0.0.1, so the dev policy adds 'unsafe-inline' for
 * scripts and the local origins for connections; the built app gets neither (a page served
 * to users must not reach services on their own machine).
 */
export function contentSecurityPolicyText(dev: boolean): string {
  const script = dev ? "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'" : "script-src 'self' 'wasm-unsafe-eval'";
  const connect = dev
    ? "connect-src 'self' data: blob: ws://localhost:* ws://127.0.0.1:* http://127.0.0.1:* http://localhost:* https:"
    : "connect-src 'self' data: blob: https:";
  return [
    "default-src 'self'",
    script,
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    connect,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');
}

function contentSecurityPolicy(): Plugin {
  let dev = false;
  return {
    name: 'segarena-csp',
    configResolved(config) {
      dev = config.command === 'serve';
    },
    transformIndexHtml() {
      return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicyText(dev) }, injectTo: 'head-prepend' }];
    },
  };
}

export default defineConfig({
  plugins: [
    react(),
    contentSecurityPolicy(),
    serveStaticTree('segarena-ort-runtime', '/ort/', ORT_DIST, (rel) => ORT_FILES.includes(rel)),
    serveStaticTree('segarena-models', '/models/', join(ROOT, 'models'), isShippedModelFile),
  ],
  server: { port: 5173, strictPort: false, fs: { allow: ['.'] }, headers: ISOLATION_HEADERS },
  preview: { port: 4173, headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  assetsInclude: ['**/*.onnx'],
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // Only the app itself. The kernel conformance page (test/kernels/kernel-tests.html) and
    // bench.html are served by the dev server alone; test/buildBoundary.test.ts checks that
    // no build input and nothing the app imports reaches into test/.
    rollupOptions: {
      input: { index: join(ROOT, 'index.html') },
    },
  },
});
