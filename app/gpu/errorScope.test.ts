import { expect, it } from 'vitest';
import { createTestDevice } from '../../test/gpu';
import { GpuError, gpuScoped } from './errorScope';

it('a valid section resolves and returns its value', async () => {
  const device = await createTestDevice();
  const { value, checked } = gpuScoped(device, 'test.valid', () => {
    const b = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    return b.size;
  });
  expect(value).toBe(64);
  await expect(checked).resolves.toBeUndefined();
  device.destroy();
});

it('a buffer over the device limit is a GpuError naming the section, not a silent zero read-back', async () => {
  const device = await createTestDevice();
  const { checked } = gpuScoped(device, 'pane.masks', () => {
    device.createBuffer({ size: device.limits.maxBufferSize + 4, usage: GPUBufferUsage.STORAGE });
  });
  const err = await checked.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GpuError);
  expect((err as GpuError).message).toMatch(/pane\.masks/);
  // Nothing leaked out of the scopes to the device's uncaptured-error handler.
  let uncaptured = 0;
  device.addEventListener('uncapturederror', () => uncaptured++);
  const again = gpuScoped(device, 'after', () => device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }));
  await again.checked;
  expect(uncaptured).toBe(0);
  device.destroy();
});

it('a throw inside the section leaves no scope open', async () => {
  const device = await createTestDevice();
  expect(() =>
    gpuScoped(device, 'throws', () => {
      throw new Error('boom');
    }),
  ).toThrow('boom');
  // Were a scope left open, this pop would succeed; with none left it rejects.
  await expect(device.popErrorScope()).rejects.toBeTruthy();
  device.destroy();
});
