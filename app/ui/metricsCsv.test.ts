import { describe, expect, it } from 'vitest';
import type { PaneEvaluation, PaneState } from '../state/store';
import type { FrameResult, RecordedAccuracy } from '../types';
import { STAGES } from './format';
import { csvField, metricsCsv, metricsRows, toCsv } from './metricsCsv';
import { parseCsv } from '../../test/csv';

function pane(over: Partial<PaneState>): PaneState {
  return {
    key: 1,
    modelId: 'm',
    path: 'wasm',
    activePath: null,
    pathNote: '',
    settings: { scoreThreshold: 0.3, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
    status: 'idle',
    message: '',
    result: null,
    resultFrameId: 0,
    overlay: null,
    overlayOnCanvas: false,
    hiddenClasses: [],
    highlight: null,
    fps: 0,
    frames: 0,
    evaluation: null,
    ...over,
  } as PaneState;
}

const result: FrameResult = {
  imageWidth: 100,
  imageHeight: 80,
  maskWidth: 100,
  maskHeight: 80,
  bytesReadBack: 2048,
  path: 'wasm+gpu',
  detections: [
    { box: [0, 0, 10, 10], score: 0.9, classIndex: 0, maskArea: 50 },
    { box: [5, 5, 20, 20], score: 0.8, classIndex: 1, maskArea: 60 },
    { box: [1, 1, 9, 9], score: 0.7, classIndex: 1, maskArea: 40 },
  ],
  timings: { source: 'gpu', upload: 1.234, preprocess: 12.34, inference: 123.4, decode: 0.5, nms: 0.25, masks: 3, total: 141 },
};

const evaluation: PaneEvaluation = {
  source: 'samples',
  images: 3,
  of: 4,
  instances: 9,
  modelId: 'm',
  path: 'wasm',
  nmsKind: 'fast',
  scoreThreshold: 0.05,
  maskAP: 0.4567,
  maskAP50: -1,
  maskAP75: 0.3,
  boxAP: 0.5,
  boundaryAP: 0.2,
};

describe('csvField', () => {
  it('leaves plain text as it is and quotes what RFC 4180 needs quoted', () => {
    expect(csvField('yolact-550')).toBe('yolact-550');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded ')).toBe('" padded "');
  });

  it('writes missing values as empty fields and numbers as they are', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(3)).toBe('3');
    expect(csvField(0)).toBe('0');
  });
});

describe('toCsv', () => {
  it('ends every row with CRLF and parses back to the same fields', () => {
    const rows = [
      ['name', 'note'],
      ['Mask R-CNN, R50', 'a "quoted"\r\nnote'],
      ['', null],
    ];
    const text = toCsv(rows);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n')[0]).toBe('name,note');
    expect(parseCsv(text)).toEqual([
      ['name', 'note'],
      ['Mask R-CNN, R50', 'a "quoted"\r\nnote'],
      ['', ''],
    ]);
  });
});

describe('metricsCsv', () => {
  const columns = STAGES;
  const modelName = (id: string) => (id === 'm' ? 'YOLACT, "tiny"' : id);
  const none = () => undefined;
  const record = { maskAP: 0.3251, boxAP: -1, maskAP50: 0.5, maskAP75: 0.3, images: 300, split: 'val' } as RecordedAccuracy;

  it('has a header row and one row per pane with the figures as the table formats them', () => {
    const panes = [
      pane({ key: 1, status: 'done', activePath: 'wasm+gpu', result, fps: 7.25, hiddenClasses: [1] }),
      pane({ key: 2, modelId: 'other', status: 'idle' }),
    ];
    const rows = parseCsv(metricsCsv({ panes, columns, modelName, recorded: none }));
    expect(rows[0]).toEqual([
      'pane',
      'model',
      'path',
      'status',
      'instances',
      'fps',
      'upload ms',
      'preprocess ms',
      'inference ms',
      'decode ms',
      'NMS ms',
      'masks ms',
      'read-back ms',
      'draw ms',
      'total ms',
      'read-back',
    ]);
    // Hidden classes do not count as instances, as in the table; readback/draw were not measured: empty.
    expect(rows[1]).toEqual(['1', 'YOLACT, "tiny"', 'wasm+gpu', 'done', '1', '7.3', '1.23', '12.3', '123', '0.50', '0.25', '3.00', '', '', '141', '2.0 KB']);
    // A pane without a result: every figure empty, never "–".
    expect(rows[2]).toEqual(['2', 'other', 'wasm', 'idle', '', '', '', '', '', '', '', '', '', '', '', '']);
    expect(rows).toHaveLength(3);
  });

  it('adds the evaluation columns once a pane was evaluated; an undefined AP is empty', () => {
    const panes = [pane({ key: 1, result, evaluation }), pane({ key: 2 })];
    const [header, first, second] = metricsRows({ panes, columns, modelName, recorded: none });
    expect(header!.slice(6, 10)).toEqual(['mask AP', 'AP50', 'box AP', 'evaluated on']);
    expect(first!.slice(6, 10)).toEqual(['0.457', null, '0.500', 'samples (3 of 4 images)']);
    expect(second!.slice(6, 10)).toEqual([null, null, null, null]);
  });

  it("adds the recorded accuracy columns when a pane's model has a record; an undefined AP is empty", () => {
    const panes = [pane({ key: 1, modelId: 'm' }), pane({ key: 2, modelId: 'other' })];
    const rows = parseCsv(metricsCsv({ panes, columns, modelName, recorded: (id) => (id === 'm' ? record : undefined) }));
    expect(rows[0]!.slice(6, 8)).toEqual(['recorded mask AP', 'recorded box AP']);
    expect(rows[1]!.slice(6, 8)).toEqual(['0.325', '']);
    expect(rows[2]!.slice(6, 8)).toEqual(['', '']);
    expect(rows.every((r) => r.length === rows[0]!.length)).toBe(true);
  });
});
