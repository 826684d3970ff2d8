import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app lives in app/, shaders in shaders/ (imported with `?raw`), models in models/
// (served by the plugin below under /models/), static assets in public/.
export default defineConfig({
  plugins: [react()],
  server: { port: 5173, strictPort: false, fs: { allow: ['.'] } },
  preview: { port: 4173 },
  assetsInclude: ['**/*.onnx'],
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
