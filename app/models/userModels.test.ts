import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryStore, UserModels, userModelId } from './userModels';
import { UnrecognisedModelError } from '../families/detect';

const file = (name: string) => new Uint8Array(readFileSync(`models/yoloseg/test/${name}`));

describe('UserModels (memory store)', () => {
  it('stores bytes and manifest, lists, reads back, removes', async () => {
    const store = memoryStore();
    const models = new UserModels(store);
    const bytes = file('yoloseg-tiny-320-nc3.onnx');
    const entry = await models.add('tiny.onnx', bytes, undefined, 1000);
    expect(entry.manifest.id).toBe('user-tiny');
    expect(entry.manifest.url).toBe('user-model:user-tiny');
    expect(userModelId(entry.manifest.url)).toBe('user-tiny');
    expect(userModelId('models/yolact/yolact-384.onnx')).toBeNull();
    expect(entry.manifest.classes).toEqual(['cat', 'dog', 'bird']);
    expect(entry.bytes).toBe(bytes.byteLength);
    expect(Array.from(await models.bytes('user-tiny'))).toEqual(Array.from(bytes));
    // Same file name again → a new id, both listed, oldest first.
    const again = await models.add('tiny.onnx', bytes, undefined, 2000);
    expect(again.manifest.id).toBe('user-tiny-2');
    expect((await models.list()).map((e) => e.manifest.id)).toEqual(['user-tiny', 'user-tiny-2']);
    expect(await models.totalBytes()).toBe(2 * bytes.byteLength);
    await models.remove('user-tiny');
    expect((await models.list()).map((e) => e.manifest.id)).toEqual(['user-tiny-2']);
    await expect(models.bytes('user-tiny')).rejects.toThrow(/no stored ONNX/);
    expect(store.size).toBe(2);
  });

  it('class names: given at add or later; the count must match a raw head', async () => {
    const models = new UserModels(memoryStore());
    const entry = await models.add('m.onnx', file('yoloseg-tiny-320-nc3.onnx'), ['a', 'b', 'c']);
    expect(entry.manifest.classes).toEqual(['a', 'b', 'c']);
    await expect(models.setClasses(entry.manifest.id, ['x', 'y'])).rejects.toThrow(/3 classes; 2 names/);
    const updated = await models.setClasses(entry.manifest.id, [' x', 'y ', 'z']);
    expect(updated.manifest.classes).toEqual(['x', 'y', 'z']);
    expect((await models.get(entry.manifest.id))!.manifest.classes).toEqual(['x', 'y', 'z']);
  });

  it('refuses unknown models and a full store, storing nothing', async () => {
    const store = memoryStore();
    const models = new UserModels(store, 150_000);
    await expect(models.add('junk.onnx', new TextEncoder().encode('not onnx'))).rejects.toThrow(UnrecognisedModelError);
    await models.add('a.onnx', file('yoloseg-tiny-320-nc3.onnx'));
    await expect(models.add('b.onnx', file('yoloseg-tiny-320-nc80.onnx'))).rejects.toThrow(/would exceed/);
    expect(store.size).toBe(2);
  });
});
