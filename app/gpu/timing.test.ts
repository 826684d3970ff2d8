import { expect, it } from 'vitest';
import { withDevice } from '../../test/gpu';
import { createGpuTimer } from './timing';

const BUSY_WGSL = `
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var v = data[g.x];
  for (var i = 0u; i < 2000u; i++) { v = v * 1.0001 + 0.5; }
  data[g.x] = v;
}`;

it('times passes per stage and resolves into a shared staging buffer', async () => {
  await withDevice(async (device) => {
    const timer = createGpuTimer(device, ['first', 'second'], 'test.timer');
    const module = device.createShaderModule({ label: 'timing.test.busy', code: BUSY_WGSL });
    const pipeline = device.createComputePipeline({ label: 'timing.test.pipeline', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const data = device.createBuffer({ label: 'timing.test.data', size: 4 * 64 * 64, usage: GPUBufferUsage.STORAGE });
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] });
    const recordsBytes = 48; // stands in for the DetectionRecords part of the staging buffer
    const staging = device.createBuffer({
      label: 'timing.test.staging',
      size: recordsBytes + Math.max(timer.bytes, 8),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = device.createCommandEncoder();
    // 'second' spans two passes: begin of the first, end of the last.
    for (const stage of ['first', 'second', 'second'] as const) {
      timer.cpuBegin(stage);
      const pass = encoder.beginComputePass(timer.passDescriptor(stage));
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(64);
      pass.end();
      timer.cpuEnd(stage);
    }
    timer.resolve(encoder, staging, recordsBytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ms = timer.read(staging.getMappedRange(), recordsBytes);
    staging.unmap();
    console.log(`timer source ${timer.source}:`, ms);
    expect(Object.keys(ms).sort()).toEqual(['first', 'second']);
    for (const v of Object.values(ms)) expect(v).toBeGreaterThanOrEqual(0);
    expect(timer.source).toBe(device.features.has('timestamp-query') ? 'gpu' : 'cpu');
    expect(() => timer.passDescriptor('third')).toThrow(/unknown stage/);
    timer.destroy();
    data.destroy();
    staging.destroy();
  });
});
