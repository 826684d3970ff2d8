import { describe, expect, it, vi } from 'vitest';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from './bindGroups';

/** Stand-ins: the cache only compares buffers by identity. */
const buffer = (label: string) => ({ label }) as unknown as GPUBuffer;

describe('BindGroupCache', () => {
  it('makes the value once while the key is the same buffers', () => {
    const cache = new BindGroupCache<string>();
    const [a, b] = [buffer('a'), buffer('b')];
    const make = vi.fn(() => 'group');
    expect(cache.get([a, b], make)).toBe('group');
    expect(cache.get([a, b], make)).toBe('group');
    expect(make).toHaveBeenCalledTimes(1);
  });

  it('makes it again when one buffer is another object', () => {
    const cache = new BindGroupCache<number>();
    const [a, b, c] = [buffer('a'), buffer('b'), buffer('c')];
    let made = 0;
    const make = () => ++made;
    expect(cache.get([a, b], make)).toBe(1);
    expect(cache.get([a, c], make)).toBe(2);
    expect(cache.get([a, c], make)).toBe(2);
    // Another object with the same contents is another buffer.
    expect(cache.get([a, buffer('c')], make)).toBe(3);
  });

  it('makes it again when the key is longer or shorter, even if it starts the same', () => {
    const cache = new BindGroupCache<number>();
    const [a, b] = [buffer('a'), buffer('b')];
    let made = 0;
    const make = () => ++made;
    expect(cache.get([a], make)).toBe(1);
    expect(cache.get([a, b], make)).toBe(2);
    expect(cache.get([a], make)).toBe(3);
  });

  it('counts an absent optional buffer as part of the key', () => {
    const cache = new BindGroupCache<number>();
    const [a, b] = [buffer('a'), buffer('b')];
    let made = 0;
    const make = () => ++made;
    expect(cache.get([a, undefined], make)).toBe(1);
    expect(cache.get([a, undefined], make)).toBe(1);
    expect(cache.get([a, b], make)).toBe(2);
    expect(cache.get([a, undefined], make)).toBe(3);
  });

  it('makes it again after clear()', () => {
    const cache = new BindGroupCache<number>();
    const a = buffer('a');
    let made = 0;
    const make = () => ++made;
    expect(cache.get([a], make)).toBe(1);
    cache.clear();
    expect(cache.get([a], make)).toBe(2);
    expect(cache.get([a], make)).toBe(2);
  });

  it('keeps its own copy of the key (the caller may reuse the array)', () => {
    const cache = new BindGroupCache<number>();
    const [a, b] = [buffer('a'), buffer('b')];
    let made = 0;
    const make = () => ++made;
    const key = [a];
    expect(cache.get(key, make)).toBe(1);
    key[0] = b;
    expect(cache.get(key, make)).toBe(2);
  });

  it('keeps the last value when make throws', () => {
    const cache = new BindGroupCache<number>();
    const [a, b] = [buffer('a'), buffer('b')];
    expect(cache.get([a], () => 1)).toBe(1);
    expect(() =>
      cache.get([b], () => {
        throw new Error('invalid');
      }),
    ).toThrow('invalid');
    expect(cache.get([a], () => 2)).toBe(1);
  });
});

describe('bind group entries', () => {
  it('binds each buffer whole, at consecutive bindings from the first', () => {
    const [a, b] = [buffer('a'), buffer('b')];
    expect(entry(5, a)).toEqual({ binding: 5, resource: { buffer: a } });
    expect(bufferEntries([a, b])).toEqual([entry(0, a), entry(1, b)]);
    expect(bufferEntries([a, b], 3)).toEqual([entry(3, a), entry(4, b)]);
  });
});

describe('dispatchPass', () => {
  it('records one pipeline, group 0 and one dispatch, then ends the pass', () => {
    const calls: unknown[][] = [];
    const pass = {
      setPipeline: (...args: unknown[]) => calls.push(['setPipeline', ...args]),
      setBindGroup: (...args: unknown[]) => calls.push(['setBindGroup', ...args]),
      dispatchWorkgroups: (...args: unknown[]) => calls.push(['dispatchWorkgroups', ...args]),
      end: () => calls.push(['end']),
    };
    const beginComputePass = (d: GPUComputePassDescriptor) => {
      calls.push(['begin', d]);
      return pass;
    };
    const encoder = { beginComputePass } as unknown as GPUCommandEncoder;
    const pipeline = { label: 'p' } as unknown as GPUComputePipeline;
    const group = { label: 'g' } as unknown as GPUBindGroup;
    dispatchPass(encoder, { label: 'k' }, pipeline, group, [7, 2]);
    dispatchPass(encoder, { label: 'k' }, pipeline, group, [3]);
    expect(calls).toEqual([
      ['begin', { label: 'k' }],
      ['setPipeline', pipeline],
      ['setBindGroup', 0, group],
      ['dispatchWorkgroups', 7, 2],
      ['end'],
      ['begin', { label: 'k' }],
      ['setPipeline', pipeline],
      ['setBindGroup', 0, group],
      // One count given: one argument passed, as the kernels did before.
      ['dispatchWorkgroups', 3],
      ['end'],
    ]);
  });
});
