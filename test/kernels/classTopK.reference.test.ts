import { expect, it } from 'vitest';
import { classTopKReference, kthLargest } from '../../app/reference/classTopK';
import { rng } from './conformance/common';

/** The definition, written the slow obvious way: full sort by (score desc, prior asc). */
function bruteForce(conf: Float32Array, numClasses: number, candidates: number[], topK: number) {
  const indices: number[][] = [];
  const scores: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const s = (p: number) => conf[p * (numClasses + 1) + c + 1]!;
    const top = [...candidates].sort((a, b) => (s(a) !== s(b) ? s(b) - s(a) : a - b)).slice(0, topK);
    indices.push(top);
    scores.push(top.map(s));
  }
  return { indices, scores };
}

it('kthLargest matches a sort, with and without ties', () => {
  const r = rng(1);
  for (const levels of [0, 3, 50]) {
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(r() * 300);
      const values = Float32Array.from({ length: n }, () => (levels ? Math.floor(r() * levels) : r()));
      const sorted = [...values].sort((a, b) => b - a);
      const k = 1 + Math.floor(r() * n);
      expect(kthLargest(values.slice(), k)).toBe(sorted[k - 1]);
    }
  }
});

it('classTopKReference equals the full-sort definition (ties, k > M, k = 0)', () => {
  const r = rng(2);
  for (const [n, classes, topK, levels] of [
    [500, 7, 50, 4],
    [300, 3, 400, 0],
    [200, 5, 0, 2],
    [1000, 4, 200, 1000],
  ] as const) {
    const conf = Float32Array.from({ length: n * (classes + 1) }, () => (levels ? Math.floor(r() * levels) / levels : r()));
    const candidates = [...Array(n).keys()].filter(() => r() < 0.6).sort(() => r() - 0.5);
    expect(classTopKReference(conf, classes, candidates, topK)).toEqual(bruteForce(conf, classes, candidates, topK));
  }
});
