/**
 * Models the user dropped, kept across visits: the ONNX bytes and the manifest made from
 * them (app/families/detect.ts), in IndexedDB. The logic lives in `UserModels`, written
 * against a small key-value interface, so it is tested in Node with `memoryStore()`;
 * `indexedDbStore()` is the browser's store.
 *
 * Keys: `manifest:<id>` → { manifest, missing, addedAt, bytes } (small, listed at start-up),
 *       `bytes:<id>` → the ONNX file as an ArrayBuffer (read only when a pane loads it).
 * Both keys of a model are written (and deleted) in one transaction: a save that fails
 * (storage full) leaves neither, so no unlisted bytes hold on to the quota.
 * A stored manifest's url is `user-model:<id>`; the session layer resolves it with
 * `UserModels.bytes(id)` (see `userModelId`).
 */
import type { ModelManifest } from '../types';
import { manifestFromOnnx, type DetectedModel } from '../families/detect';
import { validateManifest } from './manifestSchema';

export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  /** Writes every key of `values`, all or none (one transaction). */
  put(values: Readonly<Record<string, unknown>>): Promise<void>;
  /** Deletes the keys, all or none (one transaction). */
  delete(keys: readonly string[]): Promise<void>;
  keys(): Promise<string[]>;
}

export interface UserModelEntry {
  manifest: ModelManifest;
  /** What the UI still has to ask for (class names). */
  missing: DetectedModel['missing'];
  addedAt: number;
  bytes: number;
}

export const USER_MODEL_SCHEME = 'user-model:';

/** The id of a stored model from its manifest url, or null for other urls. */
export function userModelId(url: string): string | null {
  return url.startsWith(USER_MODEL_SCHEME) ? url.slice(USER_MODEL_SCHEME.length) : null;
}

export class UserModelError extends Error {
  override name = 'UserModelError';
}

export class UserModels {
  constructor(
    private readonly store: KeyValueStore,
    /** Refuse a model that would bring the stored total above this (default 1 GiB). */
    private readonly maxTotalBytes = 2 ** 30,
  ) {}

  /** Stored entries, oldest first. */
  async list(): Promise<UserModelEntry[]> {
    const keys = (await this.store.keys()).filter((k) => k.startsWith('manifest:'));
    const entries = (await Promise.all(keys.map((k) => this.store.get(k)))) as UserModelEntry[];
    return entries.filter(Boolean).sort((a, b) => a.addedAt - b.addedAt || a.manifest.id.localeCompare(b.manifest.id));
  }

  async totalBytes(): Promise<number> {
    return (await this.list()).reduce((s, e) => s + e.bytes, 0);
  }

  /**
   * Recognises and stores a dropped ONNX file. Throws UnrecognisedModelError (detect.ts)
   * for unknown layouts, UserModelError when the store is full. `classNames`, when given,
   * replace what the file said (or did not say).
   */
  async add(fileName: string, bytes: Uint8Array, classNames?: string[], now = Date.now()): Promise<UserModelEntry> {
    const total = await this.totalBytes();
    if (total + bytes.byteLength > this.maxTotalBytes) {
      throw new UserModelError(
        `storing “${fileName}” (${(bytes.byteLength / 1e6).toFixed(1)} MB) would exceed ${(this.maxTotalBytes / 1e6).toFixed(0)} MB of stored models; remove one first`,
      );
    }
    const detected = manifestFromOnnx(bytes, { fileName, url: '' });
    const taken = new Set((await this.list()).map((e) => e.manifest.id));
    let id = detected.manifest.id;
    for (let n = 2; taken.has(id); n++) id = `${detected.manifest.id}-${n}`;
    let entry: UserModelEntry = {
      manifest: { ...detected.manifest, id, url: `${USER_MODEL_SCHEME}${id}`, bytes: bytes.byteLength },
      missing: detected.missing,
      addedAt: now,
      bytes: bytes.byteLength,
    };
    if (classNames) entry = withClasses(entry, classNames);
    // A copy: the caller's buffer may be a view into something larger, or be transferred.
    await this.store.put({ [`bytes:${id}`]: bytes.slice().buffer, [`manifest:${id}`]: entry });
    return entry;
  }

  async get(id: string): Promise<UserModelEntry | null> {
    return ((await this.store.get(`manifest:${id}`)) as UserModelEntry | undefined) ?? null;
  }

  async bytes(id: string): Promise<Uint8Array> {
    const buffer = await this.store.get(`bytes:${id}`);
    if (!(buffer instanceof ArrayBuffer)) throw new UserModelError(`no stored ONNX file for model “${id}”`);
    return new Uint8Array(buffer);
  }

  /** Gives a stored model its class names (pasted list, .txt, .yaml via parseClassNames). */
  async setClasses(id: string, classNames: string[]): Promise<UserModelEntry> {
    const entry = await this.get(id);
    if (!entry) throw new UserModelError(`no stored model “${id}”`);
    const updated = withClasses(entry, classNames);
    await this.store.put({ [`manifest:${id}`]: updated });
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.store.delete([`manifest:${id}`, `bytes:${id}`]);
  }
}

/**
 * The entry with new class names. The count must match what the outputs hold (YOLACT and
 * raw YOLO-seg heads fix it; an end-to-end export takes any count).
 */
function withClasses(entry: UserModelEntry, classNames: string[]): UserModelEntry {
  const names = classNames.map((c) => c.trim());
  const fixedCount = !(entry.manifest.family === 'yolo-seg' && entry.manifest.outputs.detections);
  if (fixedCount && entry.manifest.classes.length > 0 && names.length !== entry.manifest.classes.length) {
    throw new UserModelError(`the model has ${entry.manifest.classes.length} classes; ${names.length} names were given`);
  }
  const manifest: ModelManifest = { ...entry.manifest, classes: names };
  delete manifest.categoryIds;
  const check = validateManifest(manifest);
  if (!check.ok) throw new UserModelError(`class names: ${check.errors.join('; ')}`);
  return { ...entry, manifest, missing: entry.missing.filter((m) => m !== 'classes') };
}

/** In-memory store (tests; a session without IndexedDB). Values are structured-cloned like IndexedDB's. */
export function memoryStore(): KeyValueStore & { readonly size: number } {
  const map = new Map<string, unknown>();
  return {
    async get(key) {
      return map.has(key) ? structuredClone(map.get(key)) : undefined;
    },
    async put(values) {
      // Cloned first, so a value that cannot be cloned writes nothing.
      const cloned = Object.entries(values).map(([key, value]) => [key, structuredClone(value)] as const);
      for (const [key, value] of cloned) map.set(key, value);
    },
    async delete(keys) {
      for (const key of keys) map.delete(key);
    },
    async keys() {
      return [...map.keys()];
    },
    get size() {
      return map.size;
    },
  };
}

/**
 * The browser store: one IndexedDB object store with out-of-line string keys. A failed
 * open (an error, or blocked by another tab) is not kept: the next call tries again.
 * `factory` is the browser's `indexedDB` (a fake in tests).
 */
export function indexedDbStore(dbName = 'segarena', storeName = 'userModels', factory: IDBFactory = indexedDB): KeyValueStore {
  let db: Promise<IDBDatabase> | null = null;
  const connect = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const request = factory.open(dbName, 1);
      let failed = false;
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(storeName)) request.result.createObjectStore(storeName);
      };
      request.onsuccess = () => {
        const database = request.result;
        // Opened after we gave up on it (it was blocked): nobody will use this connection.
        if (failed) return database.close();
        // Another tab upgrades or deletes the database, or the browser closes the connection
        // (storage cleared): let go of it, the next call opens a new one.
        database.onversionchange = () => {
          database.close();
          db = null;
        };
        database.onclose = () => {
          db = null;
        };
        resolve(database);
      };
      request.onerror = () => {
        failed = true;
        reject(request.error ?? new Error('IndexedDB open failed'));
      };
      request.onblocked = () => {
        failed = true;
        reject(new Error('IndexedDB is blocked by another tab of this app; close it and try again'));
      };
    });
  const open = (): Promise<IDBDatabase> => {
    if (!db) {
      const opening = connect();
      db = opening;
      opening.catch(() => {
        if (db === opening) db = null;
      });
    }
    return db;
  };
  /** One transaction: `op` queues its requests; resolves with the last request's result once committed. */
  const run = async <T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T> => {
    const database = await open();
    return new Promise<T>((resolve, reject) => {
      const tx = database.transaction(storeName, mode);
      const request = op(tx.objectStore(storeName));
      tx.oncomplete = () => resolve(request ? request.result : (undefined as T));
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
    });
  };
  return {
    get: (key) => run('readonly', (s) => s.get(key)),
    put: async (values) => {
      await run('readwrite', (s) => {
        for (const [key, value] of Object.entries(values)) s.put(value, key);
      });
    },
    delete: async (keys) => {
      await run('readwrite', (s) => {
        for (const key of keys) s.delete(key);
      });
    },
    keys: async () => (await run('readonly', (s) => s.getAllKeys())).map(String),
  };
}
