/**
 * The box-side kernels chained as a frame runs them — yolactDecode → classTopK →
 * fastNms | greedyNms → detectionCap — in one command encoder, against the references
 * chained the same way. The references take the GPU's decoded boxes (read back) so that a
 * near-threshold IoU cannot differ by the decode's last-ulp exp differences; the decoded
 * boxes themselves are compared with the decode tolerance.
 */
import { boxesBytes, candidatesBytes, createYolactDecode, CANDIDATES_HEADER_WORDS } from '../../../app/gpu/kernels/yolactDecode';
import { createClassTopK, topKBytes } from '../../../app/gpu/kernels/classTopK';
import { createFastNms, keepBytes } from '../../../app/gpu/kernels/fastNms';
import { createGreedyNms } from '../../../app/gpu/kernels/greedyNms';
import { createDetectionCap } from '../../../app/gpu/kernels/detectionCap';
import { decodeRecords, recordsBufferBytes } from '../../../app/gpu/layout';
import { createReadbackBuffer, createStorageBuffer, readBuffer, readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { createGpuTimer, type GpuTimer } from '../../../app/gpu/timing';
import { yolactDecodeReference } from '../../../app/reference/yolactDecode';
import { classTopKReference } from '../../../app/reference/classTopK';
import { fastNmsReference } from '../../../app/reference/fastNms';
import { greedyNmsReference } from '../../../app/reference/greedyNms';
import { detectionCapReference } from '../../../app/reference/detectionCap';
import { firstMismatch, maxAbsDiff, runCases, sharedKernel, type CaseResult } from './common';
import { randomHeads, yolactPriors } from './yolactData';
import { compareRecords } from './detectionCap';

interface ChainSettings {
  confThreshold: number;
  topK: number;
  nmsIou: number;
  nmsKind: 'fast' | 'greedy';
  maxDetections: number;
  scoreThreshold: number;
}

const YOLACT_DEFAULTS: ChainSettings = {
  confThreshold: 0.05,
  topK: 200,
  nmsIou: 0.5,
  nmsKind: 'fast',
  maxDetections: 100,
  scoreThreshold: 0,
};

async function runChain(
  device: GPUDevice,
  loc: Float32Array,
  conf: Float32Array,
  priors: Float32Array,
  numClasses: number,
  s: ChainSettings,
): Promise<Omit<CaseResult, 'kernel' | 'name'>> {
  const n = priors.length / 4;
  const sizes = topKBytes(numClasses, s.topK);
  const bufs = {
    loc: uploadStorage(device, 'chain.loc', loc),
    conf: uploadStorage(device, 'chain.conf', conf),
    priors: uploadStorage(device, 'chain.priors', priors),
    boxes: createStorageBuffer(device, 'chain.boxes', boxesBytes(n)),
    candidates: createStorageBuffer(device, 'chain.candidates', candidatesBytes(n)),
    topIndices: createStorageBuffer(device, 'chain.topIndices', sizes.rows),
    topScores: createStorageBuffer(device, 'chain.topScores', sizes.rows),
    topCounts: createStorageBuffer(device, 'chain.topCounts', sizes.counts),
    keep: createStorageBuffer(device, 'chain.keep', keepBytes(numClasses, s.topK)),
    records: createStorageBuffer(device, 'chain.records', recordsBufferBytes(s.maxDetections)),
  };
  const decode = sharedKernel(device, 'yolactDecode', createYolactDecode);
  const topK = sharedKernel(device, 'classTopK', createClassTopK);
  const nms = s.nmsKind === 'fast' ? sharedKernel(device, 'fastNms', createFastNms) : sharedKernel(device, 'greedyNms', createGreedyNms);
  const cap = sharedKernel(device, 'detectionCap', createDetectionCap);

  const encode = (timer?: GpuTimer) => {
    const encoder = device.createCommandEncoder({ label: 'chain' });
    decode.run(encoder, bufs, { numPriors: n, numClasses, confThreshold: s.confThreshold }, timer?.passDescriptor('decode'));
    topK.run(encoder, bufs, { numPriors: n, numClasses, topK: s.topK }, timer?.passDescriptor('topK'));
    nms.run(encoder, bufs, { numClasses, topK: s.topK, nmsIou: s.nmsIou }, timer?.passDescriptor('nms'));
    cap.run(encoder, bufs, { numClasses, topK: s.topK, maxDetections: s.maxDetections, scoreThreshold: s.scoreThreshold }, timer?.passDescriptor('cap'));
    return encoder;
  };
  // First run (cold: includes the driver's shader compilation), checked below.
  const t0 = performance.now();
  device.queue.submit([encode().finish()]);
  const got = decodeRecords(await readBuffer(device, bufs.records));
  const ms = performance.now() - t0;
  // Second run, warm, timed per stage with the GpuTimer (timestamps after the records, as a frame does).
  const timer = createGpuTimer(device, ['decode', 'topK', 'nms', 'cap'], 'chain.timer');
  const recordsBytes = recordsBufferBytes(s.maxDetections);
  const staging = createReadbackBuffer(device, 'chain.staging', recordsBytes + timer.bytes);
  const encoder = encode(timer);
  encoder.copyBufferToBuffer(bufs.records, 0, staging, 0, recordsBytes);
  timer.resolve(encoder, staging, recordsBytes);
  const t1 = performance.now();
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const warmMs = performance.now() - t1;
  const mapped = staging.getMappedRange();
  const stages = timer.read(mapped, recordsBytes);
  const again = decodeRecords(mapped.slice(0, recordsBytes));
  staging.unmap();
  staging.destroy();
  timer.destroy();
  const gpuBoxes = await readF32(device, bufs.boxes, 4 * n);
  const words = await readU32(device, bufs.candidates);
  const gpuCandidates = Array.from(words.subarray(CANDIDATES_HEADER_WORDS, CANDIDATES_HEADER_WORDS + words[0]!)).sort((a, b) => a - b);
  Object.values(bufs).forEach((b) => b.destroy());

  const ref = yolactDecodeReference(loc, conf, priors, numClasses, s.confThreshold);
  const top = classTopKReference(conf, numClasses, ref.candidates, s.topK);
  const keep = (s.nmsKind === 'fast' ? fastNmsReference : greedyNmsReference)(gpuBoxes, top.indices, s.nmsIou);
  const want = detectionCapReference(gpuBoxes, top.indices, top.scores, keep, s.maxDetections, s.scoreThreshold);

  const boxErr = maxAbsDiff(gpuBoxes, ref.boxes);
  const candBad = firstMismatch(gpuCandidates, ref.candidates);
  const recs = compareRecords(got.records, want);
  const countOk = got.candidateCount === ref.candidates.length;
  const repeat = compareRecords(again.records, got.records);
  const pass = boxErr <= 4e-6 * 4 && candBad < 0 && recs.pass && countOk && repeat.pass;
  const stageText = Object.entries(stages)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  return {
    pass,
    maxAbsError: boxErr,
    ms,
    detail:
      `${ref.candidates.length} candidates (header ${got.candidateCount}), ${recs.detail}` +
      `${candBad >= 0 ? `; candidates differ at ${candBad}` : ''}${repeat.pass ? '' : `; second run differs: ${repeat.detail}`}` +
      `; warm run ${warmMs.toFixed(1)} ms (${timer.source}: ${stageText})`,
  };
}

export async function boxChainConformance(device: GPUDevice): Promise<CaseResult[]> {
  const priors = yolactPriors();
  return runCases('boxChain', device, [
    [
      'YOLACT-550, 80 classes, Fast NMS, defaults (0.05, 200, 0.5, 100)',
      async () => {
        const { loc, conf } = randomHeads(priors, 80, 0.4, 51);
        return runChain(device, loc, conf, priors, 80, YOLACT_DEFAULTS);
      },
    ],
    [
      'YOLACT-550, 80 classes, greedy NMS, score threshold 0.3',
      async () => {
        const { loc, conf } = randomHeads(priors, 80, 0.4, 52);
        return runChain(device, loc, conf, priors, 80, { ...YOLACT_DEFAULTS, nmsKind: 'greedy', scoreThreshold: 0.3 });
      },
    ],
    [
      'no candidates: zero records, candidateCount 0',
      async () => {
        const { loc, conf } = randomHeads(priors, 80, 0, 53);
        return runChain(device, loc, conf, priors, 80, YOLACT_DEFAULTS);
      },
    ],
    [
      'small model: 300 priors, 3 classes, top-k 5, max 4 detections',
      async () => {
        const small = priors.slice(0, 4 * 300);
        const { loc, conf } = randomHeads(small, 3, 0.8, 54);
        return runChain(device, loc, conf, small, 3, { ...YOLACT_DEFAULTS, topK: 5, maxDetections: 4 });
      },
    ],
  ]);
}
