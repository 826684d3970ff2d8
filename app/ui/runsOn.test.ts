import { describe, expect, it } from 'vitest';
import { runsOnSentence } from './runsOn';

describe('runsOnSentence', () => {
  it('a real GPU on the default path: the GPU, in plain words', () => {
    expect(runsOnSentence({ webgpu: true, fallbackAdapter: false, defaultPath: 'webgpu' })).toBe(
      'Running on your GPU (WebGPU): the model and its post-processing both run there.',
    );
  });

  it('a software GPU: the CPU, and why', () => {
    const s = runsOnSentence({ webgpu: true, fallbackAdapter: true, defaultPath: 'wasm+gpu' });
    expect(s).toMatch(/^Running on your CPU: this browser’s GPU is a software emulation/);
    // No adapter names or ORT jargon in the sentence.
    expect(s).not.toMatch(/SwiftShader|ORT|EP\b|wasm\+gpu/);
  });

  it('no WebGPU at all: the CPU', () => {
    expect(runsOnSentence({ webgpu: false, fallbackAdapter: false, defaultPath: 'wasm' })).toMatch(/^Running on your CPU: this browser offers no WebGPU/);
  });

  it('a path asked in the URL says so', () => {
    expect(runsOnSentence({ webgpu: true, fallbackAdapter: true, defaultPath: 'webgpu' })).toMatch(/emulated GPU, as asked/);
    expect(runsOnSentence({ webgpu: true, fallbackAdapter: false, defaultPath: 'wasm' })).toMatch(/CPU, as asked/);
    expect(runsOnSentence({ webgpu: true, fallbackAdapter: false, defaultPath: 'wasm+gpu' })).toMatch(/as asked/);
  });
});
