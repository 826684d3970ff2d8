/**
 * Where a float16 YOLO-seg export runs: the ORT seam of the CPU paths (app/pipeline/stages/onnx.ts:
 * the image fed as float16 when the session takes it, float16 outputs read exactly), and the
 * 'webgpu' path's refusal with a message saying why and which paths run it
 * (app/pipeline/sessions.ts, `float16WebgpuMessage`), both for a GPU without shader-f16 (ORT
 * refuses the session, as on SwiftShader) and for one with it (the path feeds f32 images).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../../app/types';
import { ort } from '../../../app/pipeline/ort';
import { acquireSession, forgetModel, setSessionBackend, type SessionBackend } from '../../../app/pipeline/sessions';
import { asFloat32, feedTensor } from '../../../app/pipeline/stages/onnx';
import { floatToHalfBits } from '../../../app/families/yoloSeg/layout';

const manifest = (id: string) =>
  ({
    id,
    name: id,
    family: 'yolo-seg',
    url: `models/${id}.onnx`,
    input: { name: 'images', width: 32, height: 32, resize: 'letterbox', channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
    outputs: { output0: 'output0', protos: 'output1' },
    classes: ['a'],
  }) as unknown as ModelManifest;

const fakeSession = (inputType: string) =>
  ({
    inputNames: ['images'],
    outputNames: ['output0', 'output1'],
    inputMetadata: [{ name: 'images', isTensor: true, type: inputType, shape: [1, 3, 32, 32] }],
    release: async () => undefined,
  }) as unknown as ort.InferenceSession;

let previous: SessionBackend | null = null;
afterEach(() => {
  if (previous) setSessionBackend(previous);
  previous = null;
});

describe('float16 exports at the ORT seam and on the webgpu path', () => {
  it('feedTensor: float16 for a float16 input (round to nearest even), float32 otherwise; asFloat32 reads float16 exactly', () => {
    const data = Float32Array.from([0, 0.5, 1 / 3, 1, 65504, -2.5e-8]);
    const half = feedTensor(fakeSession('float16'), 'images', { data, dims: [1, 6] });
    expect(half.type).toBe('float16');
    expect(Array.from(half.data as Uint16Array)).toEqual(Array.from(data, floatToHalfBits));
    expect(Array.from(half.data as Uint16Array)).toEqual([0x0000, 0x3800, 0x3555, 0x3c00, 0x7bff, 0x8000]);
    const single = feedTensor(fakeSession('float32'), 'images', { data, dims: [1, 6] });
    expect(single.type).toBe('float32');
    expect(single.data).toBe(data);
    const out = new ort.Tensor('float16', Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7bff]), [4]);
    expect(Array.from(asFloat32(out, 'output0'))).toEqual([1, -2, 2 ** -24, 65504]);
  });

  it("'webgpu' refuses a float16 model with a message naming the paths that run it; 'wasm' opens it", async () => {
    let lacksF16 = true;
    const backend: SessionBackend = {
      load: async () => new Uint8Array([1]),
      create: async (_bytes, options) => {
        const webgpu = JSON.stringify(options.executionProviders).includes('webgpu');
        if (webgpu && lacksF16)
          throw new Error(
            "Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: shader_helper.cc:416 GenerateSourceCode Program Transpose requires f16 but the device does not support it.",
          );
        return fakeSession('float16');
      },
    };
    previous = setSessionBackend(backend);
    const device = {} as GPUDevice;
    await expect(acquireSession(manifest('h1'), 'webgpu', device)).rejects.toThrow(
      /h1 is a float16 export, which runs on the 'wasm\+gpu' and 'wasm' paths here, not on 'webgpu': ORT's WebGPU backend needs the GPU feature shader-f16.*Pick 'wasm\+gpu'.*\(Can't create a session/,
    );
    forgetModel('h1');
    lacksF16 = false;
    await expect(acquireSession(manifest('h2'), 'webgpu', device)).rejects.toThrow(/h2 is a float16 export.*the 'webgpu' path feeds the model a float32 image/);
    forgetModel('h2');
    const cpu = await acquireSession(manifest('h3'), 'wasm');
    expect(cpu.session.inputMetadata[0]).toMatchObject({ isTensor: true, type: 'float16' });
    cpu.release();
    forgetModel('h3');
  });
});
