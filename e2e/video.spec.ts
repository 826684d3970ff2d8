import { test, expect, type Page } from '@playwright/test';
import { armDoneWatch, dropFile, getState, ids, openApp, sampleFile, sampleNames, screenshot, testModel, waitForPanesDone } from './helpers';

/**
 * A video file as the source: dropped, it opens paused on its first frame and the panes
 * segment it; Play feeds them frames as the webcam does; Pause and Step stop on one exact
 * frame, which every pane finishes ('done'); Play resumes. The video is made in the page
 * itself (MediaRecorder over a canvas showing a sample image drifting), so no encoder is
 * needed on the machine.
 */

const VIDEO_SECONDS = 8;
const VIDEO_FPS = 8;

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
});

test.afterAll(async () => {
  await page?.close();
});

/** A WebM (VP8) of a sample image panning slowly, recorded in the page; its bytes. */
async function recordVideo(p: Page): Promise<Buffer> {
  const sample = sampleNames()[0];
  if (!sample) throw new Error('no sample images (public/samples/*.jpg) to make the test video from');
  const base64 = await p.evaluate(
    async ({ url, seconds, fps }) => {
      const image = await createImageBitmap(await (await fetch(url)).blob());
      const canvas = document.createElement('canvas');
      canvas.width = 480;
      canvas.height = 360;
      const ctx = canvas.getContext('2d')!;
      const stream = canvas.captureStream(0);
      const track = stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
      const recorder = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8', videoBitsPerSecond: 800_000 });
      const chunks: Blob[] = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      recorder.start();
      const frames = seconds * fps;
      for (let f = 0; f < frames; f++) {
        // A slow zoom and pan: every frame differs, the objects stay in view.
        const zoom = 1 + (0.15 * f) / frames;
        const w = canvas.width * zoom;
        const h = canvas.height * zoom;
        ctx.drawImage(image, -(w - canvas.width) * 0.5, -(h - canvas.height) * 0.3, w, h);
        track.requestFrame();
        await new Promise((r) => setTimeout(r, 1000 / fps));
      }
      await new Promise<void>((resolve) => {
        recorder.onstop = () => resolve();
        recorder.stop();
      });
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(binary);
    },
    { url: `/samples/${sample}`, seconds: VIDEO_SECONDS, fps: VIDEO_FPS },
  );
  return Buffer.from(base64, 'base64');
}

/** The position the slider shows, in seconds. */
async function position(p: Page): Promise<number> {
  return Number(await p.getByTestId('video-position').inputValue());
}

test('a video file: open, play, pause on a frame, step one frame, play again', async () => {
  const video = await recordVideo(page);
  expect(video.length).toBeGreaterThan(1000);

  // Opened: paused on the first frame, which the pane segments and finishes.
  await armDoneWatch(page);
  await dropFile(page, { name: 'clip.webm', mimeType: 'video/webm', buffer: video });
  await waitForPanesDone(page);
  let s = await getState(page);
  expect(s.source.kind).toBe('video');
  expect(s.source.name).toBe('clip.webm');
  expect([s.source.width, s.source.height]).toEqual([480, 360]);
  expect(s.panes[0]!.resultFrameId).toBe(s.source.frameId);
  expect(s.panes[0]!.result!.imageWidth).toBe(480);
  expect(s.panes[0]!.result!.detections.length).toBeGreaterThan(0);
  const transport = page.getByRole('group', { name: 'Video' });
  await expect(transport).toBeVisible();
  expect(await transport.ariaSnapshot()).toMatch(/button "▶ Play"[\s\S]*button "▸❘ Step"[\s\S]*slider "Video position"/);
  await expect(page.getByTestId('video-time')).toHaveText(/^0:00\.0 \/ 0:0[78]\.\d$/);
  const opened = s.source.frameId;

  // Playing: new frames reach the pane, which keeps running on them.
  await page.getByTestId('video-play').click();
  await expect(page.getByTestId('video-pause')).toBeVisible();
  await expect.poll(async () => (await getState(page)).panes[0]!.resultFrameId, { timeout: 60_000 }).toBeGreaterThan(opened);
  s = await getState(page);
  expect(s.panes[0]!.status).toBe('running');
  expect(s.source.kind).toBe('video');

  // Paused: the pane ends on the frame the video stopped at.
  await armDoneWatch(page);
  await page.getByTestId('video-pause').click();
  await waitForPanesDone(page);
  s = await getState(page);
  const paused = s.source.frameId;
  expect(s.panes[0]!.resultFrameId).toBe(paused);
  expect(s.panes[0]!.status).toBe('done');
  await expect(page.getByTestId('video-play')).toBeVisible();
  const pausedAt = await position(page);
  expect(pausedAt).toBeGreaterThan(0);
  expect(pausedAt).toBeLessThan(VIDEO_SECONDS);

  // Step: one frame on (media time, at most two frame durations), a new frame and its result.
  await armDoneWatch(page);
  await page.getByTestId('video-step').click();
  await waitForPanesDone(page);
  s = await getState(page);
  const stepped = s.source.frameId;
  expect(stepped).toBeGreaterThan(paused);
  expect(s.panes[0]!.resultFrameId).toBe(stepped);
  expect(s.panes[0]!.result).not.toBeNull();
  const steppedAt = await position(page);
  expect(steppedAt).toBeGreaterThan(pausedAt);
  expect(steppedAt - pausedAt).toBeLessThanOrEqual(2 / VIDEO_FPS);
  await screenshot(page, 'video-stepped');

  // Play resumes from there.
  await page.getByTestId('video-play').click();
  await expect(page.getByTestId('video-pause')).toBeVisible();
  await expect.poll(async () => (await getState(page)).panes[0]!.resultFrameId, { timeout: 60_000 }).toBeGreaterThan(stepped);
  expect(await position(page)).toBeGreaterThan(steppedAt);
  await armDoneWatch(page);
  await page.getByTestId('video-pause').click();
  await waitForPanesDone(page);
});

test('a file that is not a playable video gets a message and the source stays', async () => {
  const before = await getState(page);
  await dropFile(page, { name: 'broken.webm', mimeType: 'video/webm', buffer: Buffer.from('this is not a video at all') });
  await expect(page.getByTestId(ids.notice).filter({ hasText: '“broken.webm” could not be played' })).toBeVisible();
  const after = await getState(page);
  expect(after.source.name).toBe(before.source.name);
  expect(after.source.frameId).toBe(before.source.frameId);
  // The app keeps working: an image opens after it, and the video's transport row goes.
  await armDoneWatch(page);
  await dropFile(page, sampleFile(0));
  await waitForPanesDone(page);
  expect((await getState(page)).source.kind).toBe('image');
  await expect(page.getByRole('group', { name: 'Video' })).toHaveCount(0);
});
