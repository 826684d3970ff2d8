import { resolveObjectURL } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { modelBlobUrl, revokeModelBlobUrl } from './blobUrls';

describe('model blob URLs', () => {
  it('holds the bytes until revoked; revokes only its own URLs', async () => {
    const url = modelBlobUrl(new Uint8Array([1, 2, 3]));
    const blob = resolveObjectURL(url);
    expect(blob && Array.from(new Uint8Array(await blob.arrayBuffer()))).toEqual([1, 2, 3]);
    expect(revokeModelBlobUrl(url)).toBe(true);
    expect(resolveObjectURL(url)).toBeUndefined();
    expect(revokeModelBlobUrl(url)).toBe(false);

    const other = URL.createObjectURL(new Blob(['x']));
    expect(revokeModelBlobUrl(other)).toBe(false);
    expect(resolveObjectURL(other)).toBeDefined();
    expect(revokeModelBlobUrl('models/yolact/yolact-384.onnx')).toBe(false);
    URL.revokeObjectURL(other);
  });
});
