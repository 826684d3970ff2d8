import { expect, it } from 'vitest';
import { withDevice } from '../../test/gpu';
import { createUniformBuffer, readBuffer, readU32, uploadStorage } from './buffers';

it('uploads typed arrays (any length) and reads them back', async () => {
  await withDevice(async (device) => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7]); // not a multiple of 4
    const a = uploadStorage(device, 'test.bytes', bytes);
    expect(a.size).toBe(8);
    expect(new Uint8Array(await readBuffer(device, a, 0, 7))).toEqual(bytes);
    const words = new Uint32Array([10, 20, 30, 40]);
    const b = uploadStorage(device, 'test.words', words.subarray(1, 3));
    expect(Array.from(await readU32(device, b))).toEqual([20, 30]);
    expect(Array.from(new Uint32Array(await readBuffer(device, b, 4, 4)))).toEqual([30]);
    const empty = uploadStorage(device, 'test.empty', new Float32Array(0));
    expect(empty.size).toBe(4);
    expect(createUniformBuffer(device, 'test.uniform', 20).size).toBe(32);
    for (const buffer of [a, b, empty]) buffer.destroy();
  });
});
