/**
 * The model library without IndexedDB or ORT: a fake saved-model store, a fake import, the
 * panes as a recorder. The class-names dialog and saved-model deletion.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelManifest } from '../../types';
import type { UserModelEntry } from '../../models/userModels';
import type { ImportedModel } from '../../models/fromOnnx';
import { catalog, manifest, resetStore } from '../../../test/engine/fakes';
import { appStore } from './ports';
import { ModelLibrary, type SavedModelStore } from './library';

function entry(m: ModelManifest): UserModelEntry {
  return { manifest: m, missing: [], bytes: 1234 } as unknown as UserModelEntry;
}

function rig(opts: { imported?: ImportedModel; saved?: ModelManifest[] } = {}) {
  const models = catalog(manifest('bundled'));
  const stored = new Map((opts.saved ?? []).map((m) => [m.id, entry(m)]));
  const setClasses = vi.fn((id: string, names: string[]) => {
    const e = stored.get(id)!;
    const updated = entry({ ...e.manifest, classes: names });
    stored.set(id, updated);
    return Promise.resolve(updated);
  });
  const saved: SavedModelStore = {
    list: () => Promise.resolve([...stored.values()]),
    setClasses,
    remove: (id: string) => Promise.resolve(void stored.delete(id)),
    bytes: () => Promise.resolve(new Uint8Array()),
  };
  const seats = { addPane: vi.fn(), setModel: vi.fn(), dropRunner: vi.fn() };
  const forgetModel = vi.fn();
  let preferred: string | null = null;
  const library = new ModelLibrary({
    store: appStore,
    models,
    saved,
    importOnnx: () => (opts.imported ? Promise.resolve(opts.imported) : Promise.reject(new Error('not an ONNX file'))),
    loadManifestFromUrl: () => Promise.reject(new Error('offline')),
    cachedManifests: () => Promise.resolve([]),
    forgetModel,
    panes: seats,
    preferredModel: { get: () => preferred, set: (id) => (preferred = id) },
  });
  return { library, models, setClasses, stored, seats, forgetModel };
}

const notices = () => appStore.getState().notices.map((n) => n.text);

beforeEach(() => resetStore());

describe('ModelLibrary: a dropped model without class names', () => {
  const dropped = manifest('yolo-x', {
    name: 'yolo-x',
    url: 'user-model:yolo-x',
    family: 'yolo-seg',
    outputs: { output0: 'output0', protos: 'output1' },
    classes: ['0', '1', '2'],
  });

  it('opens the class-names dialog with the count the outputs need; no pane yet', async () => {
    const r = rig({ imported: { manifest: dropped, missing: ['classes'], saved: true }, saved: [dropped] });
    await r.library.addOnnxModel(new File([], 'yolo-x.onnx'));
    expect(appStore.getState().classNamesRequest).toEqual({ modelId: 'yolo-x', modelName: 'yolo-x', count: 3, error: '' });
    expect(r.models.get('yolo-x')).toBeDefined();
    expect(appStore.getState().savedModels.map((s) => s.id)).toEqual(['yolo-x']);
    expect(r.seats.addPane).not.toHaveBeenCalled();
  });

  it('refuses names of the wrong count and keeps the dialog open with why', async () => {
    const r = rig({ imported: { manifest: dropped, missing: ['classes'], saved: true }, saved: [dropped] });
    await r.library.addOnnxModel(new File([], 'yolo-x.onnx'));
    await r.library.answerClassNames('cat\ndog');
    expect(appStore.getState().classNamesRequest).toMatchObject({ modelId: 'yolo-x', error: 'The model has 3 classes; 2 names were given.' });
    await r.library.answerClassNames('   ');
    expect(appStore.getState().classNamesRequest?.error).toBe('No class names found in that text.');
    expect(r.setClasses).not.toHaveBeenCalled();
    expect(r.seats.addPane).not.toHaveBeenCalled();
    expect(r.models.get('yolo-x')!.classes).toEqual(['0', '1', '2']);
  });

  it('takes the right count: saved, listed, run in a new pane, then the dialog closes', async () => {
    const r = rig({ imported: { manifest: dropped, missing: ['classes'], saved: true }, saved: [dropped] });
    await r.library.addOnnxModel(new File([], 'yolo-x.onnx'));
    await r.library.answerClassNames('cat\ndog\nbird');
    expect(r.setClasses).toHaveBeenCalledWith('yolo-x', ['cat', 'dog', 'bird']);
    expect(r.models.get('yolo-x')!.classes).toEqual(['cat', 'dog', 'bird']);
    expect(r.seats.addPane).toHaveBeenCalledWith('yolo-x');
    expect(appStore.getState().classNamesRequest).toBeNull();
  });

  it('skipped: placeholders "class 0…" of the count', async () => {
    const r = rig({ imported: { manifest: dropped, missing: ['classes'], saved: true }, saved: [dropped] });
    await r.library.addOnnxModel(new File([], 'yolo-x.onnx'));
    await r.library.answerClassNames(null);
    expect(r.models.get('yolo-x')!.classes).toEqual(['class 0', 'class 1', 'class 2']);
  });

  it('a refused file is a notice and nothing else', async () => {
    const r = rig();
    await r.library.addOnnxModel(new File([], 'broken.onnx'));
    expect(notices()).toEqual(['Model failed to load: not an ONNX file']);
    expect(appStore.getState().classNamesRequest).toBeNull();
    expect(r.seats.addPane).not.toHaveBeenCalled();
  });
});

describe('ModelLibrary: deleting a saved model', () => {
  it('forgets it, switches the panes that ran it to the default model, and says which', async () => {
    const mine = manifest('mine', { url: 'user-model:mine' });
    const r = rig({ saved: [mine] });
    r.models.add(mine);
    appStore.setState({
      panes: [1, 2, 3].map((key) => ({ key, modelId: key === 2 ? 'bundled' : 'mine' }) as never),
    });
    expect(r.library.deleteImpact('mine')).toEqual({ panes: [1, 3], fallbackName: 'Model bundled' });
    await r.library.deleteSavedModel('mine');
    expect(r.stored.has('mine')).toBe(false);
    expect(r.models.get('mine')).toBeUndefined();
    expect(r.forgetModel).toHaveBeenCalledWith('mine');
    expect(r.seats.dropRunner.mock.calls).toEqual([[1], [3]]);
    expect(r.seats.setModel.mock.calls).toEqual([
      [1, 'bundled'],
      [3, 'bundled'],
    ]);
    expect(notices()).toEqual(['Deleted the saved model Model mine. Panes 1 and 3 now run Model bundled.']);
  });
});
