import { describe, expect, it } from 'vitest';
import { droppedSource, evaluationSettings, loadSamples, samplesSource } from './evalSource';

const GT = {
  images: [
    { id: 7, file_name: 'val/b.jpg', width: 4, height: 3 },
    { id: 3, file_name: 'a.png', width: 4, height: 3 },
    { id: 9, file_name: 'c.jpg', width: 4, height: 3 },
  ],
  annotations: [{ id: 1, image_id: 3, category_id: 1, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0 }],
  categories: [{ id: 1, name: 'person' }],
};

function file(name: string, body: string): Blob & { name: string; text(): Promise<string> } {
  return Object.assign(new Blob([body]), { name, text: async () => body });
}

describe('droppedSource', () => {
  it('matches dropped images to the ground truth by their last path part, in id order, and lists the missing', async () => {
    const b = file('b.jpg', 'B');
    const a = file('a.png', 'A');
    const src = await droppedSource(file('gt.json', JSON.stringify(GT)), [b, a, file('other.jpg', 'X')]);
    expect(src.name).toBe('gt.json');
    expect(src.images.map((i) => [i.id, i.fileName])).toEqual([
      [3, 'a.png'],
      [7, 'b.jpg'],
    ]);
    expect(await src.images[1]!.load()).toBe(b);
    expect(src.missing).toEqual(['c.jpg']);
    expect(src.dataset.gts).toHaveLength(1);
  });

  it('says what is wrong: not JSON, not COCO, no image dropped', async () => {
    await expect(droppedSource(file('x.json', '{'), [])).rejects.toThrow('x.json is not JSON');
    await expect(droppedSource(file('y.json', '{"images": 3}'), [])).rejects.toThrow('y.json: Not a COCO instances file');
    await expect(droppedSource(file('gt.json', JSON.stringify(GT)), [file('z.jpg', 'Z')])).rejects.toThrow(
      'none of the 3 images that gt.json names were dropped with it',
    );
  });
});

describe('samplesSource', () => {
  it('reads annotations.json and fetches each image from samples/', async () => {
    const asked: string[] = [];
    const fetcher = (async (url: string) => {
      asked.push(url);
      if (url.endsWith('annotations.json')) return new Response(JSON.stringify(GT));
      return new Response(new Blob(['img']));
    }) as typeof fetch;
    const src = await samplesSource('/base/', fetcher);
    expect(src.name).toBe('samples');
    expect(src.images.map((i) => i.id)).toEqual([3, 7, 9]);
    await src.images[1]!.load();
    expect(asked).toEqual(['/base/samples/annotations.json', '/base/samples/val%2Fb.jpg']);
  });

  it('fails with the HTTP status when there are no annotations', async () => {
    const fetcher = (async () => new Response('', { status: 404 })) as unknown as typeof fetch;
    await expect(samplesSource('/', fetcher)).rejects.toThrow('HTTP 404');
  });
});

describe('loadSamples', () => {
  it('fetches annotations.json once for every caller of a page', async () => {
    let asked = 0;
    const fetcher = (async () => {
      asked++;
      return new Response(JSON.stringify(GT));
    }) as unknown as typeof fetch;
    const [a, b] = await Promise.all([loadSamples('/', fetcher), loadSamples('/', fetcher)]);
    await samplesSource('/', fetcher);
    expect(asked).toBe(1);
    expect(a).toBe(b);
    expect([...a.imageIdByFileName.values()].sort()).toEqual([3, 7, 9]);
  });

  it('tries again after a failed load', async () => {
    let status = 503;
    const fetcher = (async () => new Response(status === 200 ? JSON.stringify(GT) : '', { status })) as unknown as typeof fetch;
    await expect(loadSamples('/', fetcher)).rejects.toThrow('HTTP 503');
    status = 200;
    expect((await loadSamples('/', fetcher)).images).toHaveLength(3);
  });
});

describe('evaluationSettings', () => {
  const settings = { scoreThreshold: 0.5, topK: 150, nmsIou: 0.6, nmsKind: 'greedy' as const, maxDetections: 100 };
  it('keeps the pane settings but draws every candidate: 0 for one-stage models, confThreshold for two-stage', () => {
    expect(evaluationSettings(settings, { defaults: { ...settings, confThreshold: 0.05 } })).toEqual({ ...settings, scoreThreshold: 0 });
    const twoStage = { defaults: { ...settings, confThreshold: 0.05 }, twoStage: {} as never };
    expect(evaluationSettings(settings, twoStage)).toEqual({ ...settings, scoreThreshold: 0.05 });
  });
});
