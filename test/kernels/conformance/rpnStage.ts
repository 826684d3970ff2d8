/**
 * Conformance of the whole RPN stage (app/gpu/kernels/rpnStage.ts): synthetic RPN heads and
 * random FPN maps on the bundled model's geometry, all steps on the GPU with no read-back in
 * between, against the CPU chain (rpnProposalsReference → roiAlign / roiPool reference).
 */
import { readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { RECORD_FLOATS, RECORD_HEADER_BYTES } from '../../../app/gpu/layout';
import { createRpnStage, recordsRoiSource, type RpnStageConfig } from '../../../app/gpu/kernels/rpnStage';
import { rpnProposalsReference } from '../../../app/reference/rpnProposals';
import { roiAlignReference, type FeatureLevel } from '../../../app/reference/roiAlign';
import { roiPoolReference } from '../../../app/reference/roiPool';
import { maxAbsDiff, rng, runCases, type CaseResult } from './common';
import { geometry512, INPUT_512, MASKRCNN_512_RPN, normals, syntheticRpnHeads } from './rpnData';

function stageConfig(channels: number, pooler: 'align' | 'pool'): RpnStageConfig {
  return {
    ...MASKRCNN_512_RPN,
    channels,
    canonicalScale: 224,
    canonicalLevel: 4,
    minLevel: 2,
    maxLevel: 5,
    pooler,
    samplingRatio: 2,
    aligned: true,
    boxPool: 7,
    maskPool: 14,
  };
}

async function chainCase(device: GPUDevice, seed: number, channels: number, pooler: 'align' | 'pool') {
  const config = stageConfig(channels, pooler);
  const g = geometry512();
  const { objectness, rpnDeltas } = syntheticRpnHeads(g, seed, 10);
  const r = rng(seed + 1);
  const levels: FeatureLevel[] = g.levels.slice(0, 4).map((l) => ({
    data: normals(r, channels * l.height * l.width),
    height: l.height,
    width: l.width,
    spatialScale: 1 / l.stride,
  }));
  const stage = createRpnStage(device, config, INPUT_512);
  const inputs = {
    objectness: uploadStorage(device, 'test.objectness', objectness),
    rpnDeltas: uploadStorage(device, 'test.rpnDeltas', rpnDeltas),
    features: levels.map((l, i) => uploadStorage(device, `test.p${i + 2}`, l.data)),
  };
  // 12 final detections as DetectionRecords (relative boxes): the mask pooling's input.
  const M = 16;
  const finalBoxes: number[][] = [];
  for (let n = 0; n < 12; n++) {
    const x = r() * 400,
      y = r() * 400;
    finalBoxes.push([x, y, x + 8 + r() * 300, y + 8 + r() * 300]);
  }
  const recordWords = new Float32Array(RECORD_HEADER_BYTES / 4 + M * RECORD_FLOATS);
  new Uint32Array(recordWords.buffer)[0] = finalBoxes.length;
  finalBoxes.forEach((b, n) =>
    recordWords.set(
      b.map((v) => v / 512),
      RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS,
    ),
  );
  const records = uploadStorage(device, 'test.records', recordWords);

  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'rpnStage.test' });
  stage.encode(encoder, inputs);
  stage.encodeMaskFeatures(encoder, inputs.features, recordsRoiSource(records, INPUT_512), M);
  device.queue.submit([encoder.finish()]);
  const R = config.rpnPostNmsTopN;
  const rois = await readF32(device, stage.rois, 4 * R);
  const count = await readU32(device, stage.roiCount, 4);
  const boxFeatures = await readF32(device, stage.boxFeatures);
  const maskFeatures = await readF32(device, stage.maskFeatures, M * channels * 14 * 14);
  const ms = performance.now() - t0;

  const want = rpnProposalsReference(objectness, rpnDeltas, config, INPUT_512);
  const pool = (boxes: ArrayLike<number>, n: number, capacity: number, outSize: number) =>
    pooler === 'align'
      ? roiAlignReference(levels, channels, boxes, n, capacity, { ...config, outSize })
      : roiPoolReference(levels, channels, boxes, n, capacity, { ...config, outSize });
  const roiErr = maxAbsDiff(rois, want.rois);
  // Pooling on the GPU's own RoIs (isolates step 4) and on the reference chain's (end to end).
  const ownErr = maxAbsDiff(boxFeatures, pool(rois, count[0]!, R, 7));
  const chainErr = maxAbsDiff(boxFeatures, pool(want.rois, want.count, R, 7));
  const maskErr = maxAbsDiff(maskFeatures, pool(finalBoxes.flat().concat(new Array(4 * (M - 12)).fill(0)), 12, M, 14));
  let sameAnchors = 0;
  for (let i = 0; i < want.count; i++) {
    if (maxAbsDiff(rois.subarray(4 * i, 4 * i + 4), want.rois.subarray(4 * i, 4 * i + 4)) <= 1e-3) sameAnchors++;
  }
  for (const b of [inputs.objectness, inputs.rpnDeltas, ...inputs.features, records]) b.destroy();
  stage.destroy();
  const countsOk = count[0] === want.count && count[1] === want.keptTotal;
  const featureTol = pooler === 'align' ? 1e-4 : 0;
  return {
    pass: countsOk && roiErr <= 2e-3 && ownErr <= featureTol && chainErr <= 1e-2 && maskErr <= featureTol,
    maxAbsError: roiErr,
    detail:
      `RoIs ${count[0]}/${want.count} (kept ${count[1]}/${want.keptTotal}), ${sameAnchors}/${want.count} rows match, ` +
      `RoI err ${roiErr.toExponential(2)}; box features err ${ownErr.toExponential(2)} on own RoIs, ${chainErr.toExponential(2)} ` +
      `vs the CPU chain; mask features (DetectionRecords) err ${maskErr.toExponential(2)}`,
    ms,
  };
}

export async function rpnStageConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('rpnStage', device, [
    ['chain 1 → 4 on the 512 model geometry, RoIAlign, C 8, R 500', () => chainCase(device, 91, 8, 'align')],
    ['chain 1 → 4, RoIPool, C 4', () => chainCase(device, 92, 4, 'pool')],
  ]);
}
