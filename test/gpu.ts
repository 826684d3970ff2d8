/**
 * WebGPU in Node for kernel tests: Dawn (npm `webgpu`) on SwiftShader's Vulkan driver
 * (shipped by Debian's chromium). Every GPU test runs inside `withDevice`, which opens a
 * validation error scope and fails the test if anything was reported, then destroys the
 * device. A missing adapter is an error, not a skip: CI installs chromium, so the kernel
 * tests always run there.
 */
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
Object.assign(globalThis, globals);

let gpu: GPU | undefined;

export async function createTestDevice(): Promise<GPUDevice> {
  gpu ??= create([]) as unknown as GPU;
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      "No WebGPU adapter in Node. Dawn needs the Vulkan loader libvulkan.so.1 (apt-get install libvulkan1) and a driver: chromium's SwiftShader (apt-get install chromium) or VK_ICD_FILENAMES. bash scripts/preflight.sh names what is missing.",
    );
  }
  const features: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) features.push('timestamp-query');
  return adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
}

/** Run `fn` on a fresh device; fail on any validation or out-of-memory error. */
export async function withDevice<T>(fn: (device: GPUDevice) => Promise<T>): Promise<T> {
  const device = await createTestDevice();
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  try {
    const result = await fn(device);
    const oom = await device.popErrorScope();
    const validation = await device.popErrorScope();
    if (oom) throw new Error(`WebGPU out-of-memory: ${oom.message}`);
    if (validation) throw new Error(`WebGPU validation error: ${validation.message}`);
    return result;
  } finally {
    device.destroy();
  }
}
