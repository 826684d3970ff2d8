import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { indexedDbStore, memoryStore, UserModels, userModelId } from './userModels';
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

/** The parts of an IDBOpenDBRequest that userModels.ts sets and the fake calls back. */
interface FakeRequest {
  result: unknown;
  error: unknown;
  onerror?: () => void;
  onblocked?: () => void;
  onupgradeneeded?: () => void;
  onsuccess?: () => void;
}

/** The parts of an IDBTransaction that userModels.ts uses. */
interface FakeTransaction<Store> {
  error: unknown;
  objectStore: () => Store;
  onabort?: () => void;
  oncomplete?: () => void;
}

/**
 * A fake IndexedDB, enough for indexedDbStore: one database, transactions applied at
 * commit (a macrotask later) or not at all, a storage quota (ArrayBuffers count their
 * bytes, other values their JSON length), and opens that fail as the test says.
 */
class FakeIndexedDb {
  data = new Map<string, unknown>();
  quota = Infinity;
  /** What the next opens do instead of succeeding, in order. */
  failOpens: Array<'error' | 'blocked'> = [];
  opens = 0;
  writeTransactions = 0;
  readonly connections: Array<{ closed: boolean; onversionchange: (() => void) | null }> = [];
  private readonly stores = new Set<string>();

  readonly factory = { open: () => this.open() } as unknown as IDBFactory;

  private open() {
    this.opens++;
    const request: FakeRequest = { result: null, error: null };
    const failure = this.failOpens.shift();
    setTimeout(() => {
      if (failure === 'error') {
        request.error = new Error('the database could not be opened');
        request.onerror?.();
        return;
      }
      if (failure === 'blocked') request.onblocked?.();
      // A blocked open still succeeds once the other tab lets go.
      setTimeout(() => {
        request.result = this.connect();
        if (this.stores.size === 0) request.onupgradeneeded?.();
        request.onsuccess?.();
      });
    });
    return request;
  }

  private connect() {
    const db = {
      closed: false,
      onversionchange: null as (() => void) | null,
      objectStoreNames: { contains: (name: string) => this.stores.has(name) },
      createObjectStore: (name: string) => this.stores.add(name),
      close: () => {
        db.closed = true;
      },
      transaction: (_name: string, mode: IDBTransactionMode) => this.transaction(mode),
    };
    this.connections.push(db);
    return db;
  }

  private transaction(mode: IDBTransactionMode) {
    if (mode === 'readwrite') this.writeTransactions++;
    const ops: Array<(data: Map<string, unknown>) => void> = [];
    const request = (read: (data: Map<string, unknown>) => unknown) => {
      const r = { result: undefined as unknown };
      ops.push((data) => (r.result = read(data)));
      return r;
    };
    const store = {
      get: (key: string) => request((d) => structuredClone(d.get(key))),
      getAllKeys: () => request((d) => [...d.keys()]),
      put: (value: unknown, key: string) => request((d) => d.set(key, structuredClone(value))),
      delete: (key: string) => request((d) => d.delete(key)),
    };
    const tx: FakeTransaction<typeof store> = { error: null, objectStore: () => store };
    setTimeout(() => {
      const next = new Map(this.data);
      for (const op of ops) op(next);
      const used = [...next.values()].reduce<number>((n, v) => n + (v instanceof ArrayBuffer ? v.byteLength : JSON.stringify(v).length), 0);
      if (used > this.quota) {
        tx.error = new Error('QuotaExceededError');
        tx.onabort?.();
        return;
      }
      this.data = next;
      tx.oncomplete?.();
    });
    return tx;
  }
}

describe('UserModels (IndexedDB store)', () => {
  it('a save that exceeds the quota stores nothing (bytes and manifest in one transaction)', async () => {
    const idb = new FakeIndexedDb();
    const models = new UserModels(indexedDbStore('db', 'models', idb.factory));
    const bytes = file('yoloseg-tiny-320-nc3.onnx');
    idb.quota = bytes.byteLength + 10; // room for the file, not for its manifest too
    await expect(models.add('tiny.onnx', bytes)).rejects.toThrow(/Quota/);
    expect([...idb.data.keys()]).toEqual([]);
    idb.quota = Infinity;
    const entry = await models.add('tiny.onnx', bytes);
    expect([...idb.data.keys()].sort()).toEqual(['bytes:user-tiny', 'manifest:user-tiny']);
    expect(Array.from(await models.bytes(entry.manifest.id))).toEqual(Array.from(bytes));
    await models.remove(entry.manifest.id);
    expect([...idb.data.keys()]).toEqual([]);
    expect(idb.writeTransactions).toBe(3); // the failed save, the save, the removal
  });

  it('a failed open is not kept: the next call opens again', async () => {
    const idb = new FakeIndexedDb();
    idb.failOpens = ['error'];
    const models = new UserModels(indexedDbStore('db', 'models', idb.factory));
    await expect(models.list()).rejects.toThrow(/could not be opened/);
    await expect(models.list()).resolves.toEqual([]);
    expect(idb.opens).toBe(2);
    await models.list();
    expect(idb.opens).toBe(2); // a good connection is kept
  });

  it('a blocked open fails with a clear message, its late connection is closed, the next call works', async () => {
    const idb = new FakeIndexedDb();
    idb.failOpens = ['blocked'];
    const store = indexedDbStore('db', 'models', idb.factory);
    await expect(store.keys()).rejects.toThrow(/blocked by another tab/);
    await new Promise((r) => setTimeout(r, 5));
    expect(idb.connections.map((c) => c.closed)).toEqual([true]);
    await expect(store.keys()).resolves.toEqual([]);
    expect(idb.opens).toBe(2);
  });

  it('a version change elsewhere closes the connection; the next call reopens', async () => {
    const idb = new FakeIndexedDb();
    const store = indexedDbStore('db', 'models', idb.factory);
    await store.put({ a: 1 });
    idb.connections[0]!.onversionchange!();
    expect(idb.connections[0]!.closed).toBe(true);
    await expect(store.get('a')).resolves.toBe(1);
    expect(idb.opens).toBe(2);
  });
});
