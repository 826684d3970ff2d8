import { expect, it } from 'vitest';
import { create } from 'webgpu';
import '../../test/gpu'; // sets VK_ICD_FILENAMES for SwiftShader and the WebGPU globals
import { acquireGpuDevice, WebGpuUnavailableError, wrapGpuDevice } from './device';

it('acquires a device with raised limits, timestamps when offered, and adapter info', async () => {
  const gpu = create([]) as unknown as GPU;
  const adapter = (await gpu.requestAdapter())!;
  let lost = 0;
  const ctx = await acquireGpuDevice({ gpu, onLost: () => lost++ });
  console.log('adapter:', ctx.adapter, 'timestamps:', ctx.timestamps, 'f16:', ctx.f16);
  expect(ctx.device.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
  expect(ctx.device.limits.maxBufferSize).toBe(adapter.limits.maxBufferSize);
  expect(ctx.device.limits.maxStorageBuffersPerShaderStage).toBe(adapter.limits.maxStorageBuffersPerShaderStage);
  expect(ctx.timestamps).toBe(adapter.features.has('timestamp-query'));
  expect(ctx.device.features.has('timestamp-query')).toBe(ctx.timestamps);
  // SwiftShader is a CPU emulation: reported as a fallback adapter.
  if (/swiftshader/i.test(ctx.adapter.architecture + ctx.adapter.description)) {
    expect(ctx.adapter.isFallbackAdapter).toBe(true);
  }
  // Destroying the device ourselves is not a loss to report.
  ctx.device.destroy();
  await ctx.device.lost;
  await new Promise((r) => setTimeout(r, 10));
  expect(lost).toBe(0);
});

it('wraps a device made elsewhere (e.g. by ORT) in the same context', async () => {
  const gpu = create([]) as unknown as GPU;
  const adapter = (await gpu.requestAdapter())!;
  const device = await adapter.requestDevice();
  const ctx = wrapGpuDevice(device, adapter.info, adapter);
  expect(ctx.device).toBe(device);
  expect(ctx.timestamps).toBe(false); // not requested on this device
  device.destroy();
});

it('reports uncaptured errors', async () => {
  const gpu = create([]) as unknown as GPU;
  const errors: string[] = [];
  const ctx = await acquireGpuDevice({ gpu, onUncapturedError: (m) => errors.push(m) });
  // MAP_READ may only be combined with COPY_DST: a validation error outside any scope.
  ctx.device.createBuffer({ label: 'device.test.invalid', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
  await ctx.device.queue.onSubmittedWorkDone();
  for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(errors.length).toBe(1);
  expect(errors[0]).toMatch(/usage/i);
  ctx.device.destroy();
});

it('reports a missing WebGPU clearly', async () => {
  const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
  await expect(acquireGpuDevice({ gpu: noAdapter })).rejects.toBeInstanceOf(WebGpuUnavailableError);
});
