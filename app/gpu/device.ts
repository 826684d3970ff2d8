/**
 * One GPUDevice for both onnxruntime-web (WebGPU EP) and our WGSL kernels, so ORT's output
 * buffers can be bound by our kernels directly.
 *
 * How to hand it to ORT (onnxruntime-web 1.30, checked in node_modules):
 * - `import * as ort from 'onnxruntime-web/webgpu'` loads the native WebGPU EP
 *   (`ort-wasm-simd-threaded.asyncify.*`). That build takes a device **per session**:
 *   `InferenceSession.create(url, { executionProviders: [{ name: 'webgpu', device }] })`
 *   (typed as `WebGpuExecutionProviderOption.device` in onnxruntime-common). This is the
 *   way to use the device returned here.
 * - Setting `ort.env.webgpu.device = device` before the first session is NOT read by that
 *   build (its init only writes `env.webgpu.device` with the device it made itself), so do
 *   not rely on it. The other way round works: with no `device` option, create a session
 *   first, then `await ort.env.webgpu.device` is ORT's device and our kernels can be
 *   built on it (`wrapGpuDevice` below gives it the same `GpuContext`).
 * ORT's own device asks for the adapter's storage / buffer / workgroup limits and the
 * features timestamp-query, shader-f16 and subgroups when present; we ask for the same, so
 * ORT loses nothing by running on ours.
 */

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software / fallback adapters (e.g. SwiftShader): correct but slow. */
  isFallbackAdapter: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GpuAdapterSummary;
  /** 'timestamp-query' was granted: per-pass GPU timings are available. */
  timestamps: boolean;
  /** 'shader-f16' was granted. */
  f16: boolean;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Called once if the device is lost (not when we destroy it ourselves). */
  onLost?: (info: { reason: GPUDeviceLostReason; message: string }) => void;
  /** Errors no error scope caught (validation, out-of-memory), e.g. to show a notice. */
  onUncapturedError?: (message: string) => void;
  /** `navigator.gpu` by default; tests pass Dawn's GPU object. */
  gpu?: GPU;
}

/** Optional features worth having; each is requested only when the adapter has it. */
const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups' as GPUFeatureName];

/** Limits raised to the adapter's maximum (the defaults are too small for 550x550 models). */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
] as const;

export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

function summarize(info: GPUAdapterInfo | undefined, adapter: GPUAdapter): GpuAdapterSummary {
  // `isFallbackAdapter` moved from GPUAdapter to GPUAdapterInfo; read whichever exists.
  const legacy = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const fromInfo = (info as unknown as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
  const architecture = info?.architecture ?? '';
  return {
    vendor: info?.vendor ?? '',
    architecture,
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(fromInfo ?? legacy ?? /swiftshader/i.test(architecture)),
  };
}

/** Requests an adapter and a device with the features and limits above. */
export async function acquireGpuDevice(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new WebGpuUnavailableError('This browser has no WebGPU (navigator.gpu is missing).');
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  if (!adapter) throw new WebGpuUnavailableError('WebGPU is present but no GPU adapter is available.');

  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const device = await adapter.requestDevice({ label: 'segarena.device', requiredFeatures, requiredLimits });
  if (options.onUncapturedError) {
    const report = options.onUncapturedError;
    device.addEventListener('uncapturederror', (event) => report((event as GPUUncapturedErrorEvent).error.message));
  }
  return wrapGpuDevice(device, adapter.info, adapter, options.onLost);
}

/**
 * A GpuContext for a device made elsewhere (e.g. `await ort.env.webgpu.device`).
 * `adapterInfo` defaults to `device.adapterInfo` where the browser has it.
 */
export function wrapGpuDevice(device: GPUDevice, adapterInfo?: GPUAdapterInfo, adapter?: GPUAdapter, onLost?: AcquireOptions['onLost']): GpuContext {
  const info = adapterInfo ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (onLost) {
    void device.lost.then((lost) => {
      if (lost.reason !== 'destroyed') onLost({ reason: lost.reason, message: lost.message });
    });
  }
  return {
    device,
    adapter: summarize(info, adapter ?? ({} as GPUAdapter)),
    timestamps: device.features.has('timestamp-query'),
    f16: device.features.has('shader-f16'),
  };
}
