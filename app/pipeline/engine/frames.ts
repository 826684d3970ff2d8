/**
 * The sources: an image (opened, pasted, dropped, a sample), the webcam, a video file →
 * the current `Frame` (../frame.ts), the one every pane runs on. The low-level parts stay
 * where they were (../sources.ts: decoding, `Webcam`; ../videoSource.ts: `VideoFile`); this
 * part decides which source is on, captures its frames, keeps the frame and its origin,
 * closes old bitmaps once nothing can draw them, and asks the scheduler to run the panes.
 *
 * While the webcam or a playing video runs, a frame is captured when some pane has a free
 * slot (`canTakeFrame`): a pane busy with its own frames does not hold the others back. Each
 * captured frame carries its index among the stream's presented frames, so each pane counts
 * the frames it never ran (frames are dropped, never queued).
 */
import type { ResultFrame } from '../../state/store';
import { Frame } from '../frame';
import { cameraErrorMessage, SourceError, WebcamCancelled, type CameraDevice, type DecodedImage } from '../sources';
import type { VideoTransport } from '../videoSource';
import { errorText, type EngineStore } from './ports';
import type { FrameSeq } from './paneController';

/** What the frames part asks of the panes (./scheduler.ts). */
export interface PaneActivity {
  /** Some pane would start a run on a new frame now (./scheduler.ts `canTakeFrame`). */
  canTakeFrame(): boolean;
  isBusy(key: number): boolean;
  framesInFlight(): Set<ImageBitmap | undefined>;
  resumeAll(): void;
  pumpAll(): void;
}

/** A camera as the frames part drives it (../sources.ts `Webcam`). */
export interface WebcamLike {
  start(deviceId: string | null): Promise<void>;
  stop(): void;
  deviceId(): string | null;
}

/** A video file as the frames part drives it (../videoSource.ts `VideoFile`). */
export interface VideoLike {
  readonly file: File;
  readonly name: string;
  readonly video: HTMLVideoElement;
  readonly width: number;
  readonly height: number;
  readonly moving: boolean;
  open(): Promise<void>;
  play(): Promise<void>;
  pause(): void;
  step(): void;
  seek(seconds: number): void;
  close(): void;
  transport(): VideoTransport;
}

export interface FramesDeps {
  store: EngineStore;
  panes: PaneActivity;
  decodeImage(blob: Blob, name: string): Promise<DecodedImage>;
  /** The bundled samples (public/samples/). */
  samples: {
    /** The first sample's file name (the first screen's image), if any. */
    firstFileName(): Promise<string | undefined>;
    fetch(fileName: string): Promise<Blob>;
    /** Starts loading the samples' COCO ids (exports name a sample by them). */
    warmIds(): void;
  };
  openWebcam(onFrame: (video: HTMLVideoElement) => void, onEnded: () => void): WebcamLike;
  openVideo(file: File, onFrame: (still: boolean) => void, onChange: () => void): VideoLike;
  listCameras(): Promise<CameraDevice[]>;
  /** A bitmap of what a video element shows now, or a copy of a bitmap (createImageBitmap). */
  capture(source: HTMLVideoElement | ImageBitmap): Promise<ImageBitmap>;
  /** The source bar's video transport row (../videoSource.ts `useVideoTransport`). */
  setTransport(transport: VideoTransport | null): void;
}

/** The source on screen when an evaluation started (setAside), put back when it ends (putBack). */
export type PausedSource =
  | { kind: 'none' }
  | { kind: 'webcam' }
  | { kind: 'video'; file: File; time: number }
  | { kind: 'image'; bitmap: ImageBitmap; width: number; height: number; name: string };

export class FrameSources {
  private frame: Frame | null = null;
  private oldBitmaps: ImageBitmap[] = [];
  /** Where the current frame comes from, kept with each pane's result (PaneState.resultFrame). */
  private frameSource: Pick<ResultFrame, 'kind' | 'name' | 'original'> | null = null;
  /** The current frame's place in its stream (webcam, playing video); null for an image or a still. */
  private frameSeq: FrameSeq | null = null;
  /** The stream frames are counted in: a new one at each webcam start or video opened. */
  private stream = 0;
  /** Frames the stream presented so far, captured or not. */
  private presented = 0;
  /** Frame bitmaps the panes showed at the last setFrame (Konva may still draw them this tick). */
  private shownBefore = new Set<ImageBitmap>();
  private webcam: WebcamLike | null = null;
  private capturing = false;
  private videoFile: VideoLike | null = null;
  /** Bumped by every video frame capture: one overtaken by a newer capture (a pause, a step) is dropped. */
  private videoCapture = 0;
  /** Captures in flight of frames the video stopped on: the panes are not 'done' before those ran. */
  private videoStills = 0;
  /** Bumped by every openImage: decodes finish out of order, and only the last image asked for is shown. */
  private imageRequest = 0;

  constructor(private readonly deps: FramesDeps) {}

  /** The latest frame and where it comes from (the scheduler's FrameFeed). */
  current(): { frame: Frame; source: Pick<ResultFrame, 'kind' | 'name' | 'original'>; seq?: FrameSeq } | null {
    if (!this.frame || !this.frameSource) return null;
    return this.frameSeq ? { frame: this.frame, source: this.frameSource, seq: this.frameSeq } : { frame: this.frame, source: this.frameSource };
  }

  /** A new stream (webcam started, video opened): its frames are counted from 1. */
  private newStream(): void {
    this.stream++;
    this.presented = 0;
  }

  /** More frames are coming (the webcam, a video playing, seeking or being captured): a pane that finishes stays 'running'. */
  streaming(): boolean {
    return this.webcam !== null || this.videoFile?.moving === true || this.videoStills > 0;
  }

  get webcamOn(): boolean {
    return this.webcam !== null;
  }

  private setFrame(
    bitmap: ImageBitmap,
    width: number,
    height: number,
    kind: 'image' | 'webcam' | 'video',
    name: string,
    original: ResultFrame['original'] = null,
    seq: FrameSeq | null = null,
  ): void {
    const { store, panes } = this.deps;
    const prev = store.getState();
    const id = prev.frameId + 1;
    this.frame = new Frame(id, bitmap, width, height);
    this.frameSource = { kind, name, original };
    this.frameSeq = seq;
    // Konva may still draw the previous bitmap this tick: close bitmaps two frames late,
    // and never one a pane's run in flight still works on, nor one a pane shows its result
    // on (now or at the last frame: it may still be drawn this tick).
    if (prev.frameBitmap) this.oldBitmaps.push(prev.frameBitmap);
    const shown = new Set(prev.panes.flatMap((p) => (p.resultFrame ? [p.resultFrame.bitmap] : [])));
    const inUse = panes.framesInFlight();
    for (const b of [...shown, ...this.shownBefore]) inUse.add(b);
    this.shownBefore = shown;
    while (this.oldBitmaps.length > 2) {
      const i = this.oldBitmaps.findIndex((b) => !inUse.has(b));
      if (i < 0 || i >= this.oldBitmaps.length - 2) break;
      this.oldBitmaps.splice(i, 1)[0]!.close();
    }
    // A new image is the user trying again: panes halted by an error run on it.
    if (kind === 'image') panes.resumeAll();
    store.setState((s) => ({
      sourceKind: kind,
      sourceName: name,
      frameWidth: width,
      frameHeight: height,
      frameId: id,
      frameBitmap: bitmap,
      // A highlight refers to the previous result's instance order; on the webcam (or a
      // video) it follows its object into the next result instead (followHighlight).
      panes: kind === 'webcam' || kind === 'video' ? s.panes : s.panes.map((p) => (p.highlight === null ? p : { ...p, highlight: null })),
    }));
    panes.pumpAll();
  }

  /** Every pane starts counting frames again on a new source. */
  private panesRunning(): void {
    const { store } = this.deps;
    for (const p of store.getState().panes) store.updatePane(p.key, { status: 'running', frames: 0, fps: 0, dropped: 0 });
  }

  /** Panes that wait for a frame that will not come show their last result. */
  private panesAtRest(): void {
    const { store, panes } = this.deps;
    for (const p of store.getState().panes) {
      if (p.status === 'running' && !panes.isBusy(p.key)) store.updatePane(p.key, { status: p.result ? 'done' : 'idle' });
    }
  }

  /**
   * Panes leave 'done' as soon as a new image is asked for (a test or user waiting for the
   * new image's 'done' must not see the previous image's); returns how to undo it when the
   * file turns out not to be an image.
   */
  private markPanesRunning(): () => void {
    const { store, panes } = this.deps;
    const before = new Map(store.getState().panes.map((p) => [p.key, p.status] as const));
    for (const p of store.getState().panes) if (p.status !== 'loading') store.updatePane(p.key, { status: 'running' });
    return () => {
      for (const [key, status] of before) {
        if (!panes.isBusy(key)) store.updatePane(key, { status });
      }
    };
  }

  // ---------------------------------------------------------------- images

  /**
   * The first bundled sample, opened on load unless the user got there first (an image, the
   * webcam, an evaluation): nothing they opened is replaced. No samples: the empty pane's hint stays.
   */
  async openFirstSample(): Promise<void> {
    const { store, samples } = this.deps;
    const userFirst = () => store.getState().frameId !== 0 || this.webcam !== null || store.getState().evalRun !== null;
    try {
      const fileName = await samples.firstFileName();
      if (!fileName || userFirst()) return;
      const image = await this.deps.decodeImage(await samples.fetch(fileName), fileName);
      // Checked again after the awaits, right before the frame is set.
      if (userFirst()) {
        image.bitmap.close();
        return;
      }
      this.panesRunning();
      this.setFrame(image.bitmap, image.width, image.height, 'image', fileName);
    } catch (err) {
      console.warn('The first sample could not be opened:', err);
    }
  }

  async openImage(blob: Blob, name: string, restore = this.markPanesRunning()): Promise<void> {
    const { store } = this.deps;
    const request = ++this.imageRequest;
    try {
      const image = await this.deps.decodeImage(blob, name);
      if (request !== this.imageRequest) {
        // A newer image was opened while this one decoded (a small one can finish first).
        image.bitmap.close();
        return;
      }
      if (this.webcam) this.stopWebcam();
      this.closeVideo();
      for (const note of image.notes) store.notify('info', note);
      if (image.downscaledFrom) {
        store.notify(
          'info',
          `“${name}” is ${image.downscaledFrom.width}×${image.downscaledFrom.height}: it was downscaled to ${image.width}×${image.height} for display and inference; exported boxes and masks are in the original's pixels.`,
        );
      }
      this.panesRunning();
      this.setFrame(image.bitmap, image.width, image.height, 'image', name, image.downscaledFrom);
    } catch (err) {
      restore();
      store.notify('error', err instanceof SourceError ? err.message : `This file could not be opened: ${errorText(err)}`);
    }
  }

  async openSample(fileName: string): Promise<void> {
    const restore = this.markPanesRunning();
    try {
      this.deps.samples.warmIds();
      await this.openImage(await this.deps.samples.fetch(fileName), fileName, restore);
    } catch (err) {
      restore();
      this.deps.store.notify('error', `The sample “${fileName}” could not be loaded: ${errorText(err)}`);
    }
  }

  // ---------------------------------------------------------------- webcam

  async refreshCameras(): Promise<void> {
    try {
      const cameras = await this.deps.listCameras();
      this.deps.store.setState((s) => ({
        cameras,
        cameraId: s.cameraId && cameras.some((c) => c.deviceId === s.cameraId) ? s.cameraId : (cameras[0]?.deviceId ?? null),
      }));
    } catch {
      // enumerateDevices is missing or blocked: the picker stays empty.
    }
  }

  selectCamera(deviceId: string): void {
    this.deps.store.setState({ cameraId: deviceId });
    if (this.webcam) {
      this.stopWebcam();
      void this.startWebcam();
    }
  }

  async startWebcam(): Promise<void> {
    const { store } = this.deps;
    if (this.webcam) return;
    if (store.getState().evalRun) {
      // The evaluation drives the panes image by image; a webcam would take the frames from under it.
      store.notify('info', 'The webcam can start once the evaluation is done (or stopped).');
      return;
    }
    const webcam = this.deps.openWebcam(
      (video) => this.onVideoFrame(video),
      () => {
        store.notify('error', 'The camera stopped (it was unplugged or taken by another application).');
        this.stopWebcam();
      },
    );
    this.webcam = webcam;
    this.newStream();
    store.setState({ webcamActive: true });
    try {
      await webcam.start(store.getState().cameraId);
      // The camera is the source now (a video is closed only once it is: a refused camera keeps it).
      this.closeVideo();
      this.panesRunning();
      await this.refreshCameras();
      const opened = webcam.deviceId();
      if (opened) store.setState({ cameraId: opened });
    } catch (err) {
      webcam.stop();
      // Overtaken by Stop or by another camera's start: that one owns the state now.
      if (err instanceof WebcamCancelled) return;
      if (this.webcam === webcam) this.webcam = null;
      store.setState({ webcamActive: false });
      store.notify('error', cameraErrorMessage(err));
    }
  }

  stopWebcam(): void {
    if (!this.webcam) return;
    this.webcam.stop();
    this.webcam = null;
    this.deps.store.setState({ webcamActive: false });
    this.panesAtRest();
  }

  private onVideoFrame(video: HTMLVideoElement): void {
    const seq = { stream: this.stream, index: ++this.presented };
    // Skipped while no pane could start on it (each pane counts it dropped) or a capture is under way.
    if (this.capturing || !this.deps.panes.canTakeFrame()) return;
    this.capturing = true;
    const { videoWidth: w, videoHeight: h } = video;
    this.deps
      .capture(video)
      .then((bitmap) => {
        if (this.webcam && seq.stream === this.stream) this.setFrame(bitmap, w, h, 'webcam', 'webcam', null, seq);
        else bitmap.close();
      })
      .catch((err) => console.warn('frame capture failed', err))
      .finally(() => {
        this.capturing = false;
      });
  }

  // ---------------------------------------------------------------- video file

  /**
   * A dropped / opened video becomes the source, paused on its first frame (the panes run on
   * it); play, pause, step and seek come from the source bar's transport row. A file the
   * browser cannot play gets a message and the source so far stays.
   */
  async openVideo(file: File): Promise<void> {
    const { store } = this.deps;
    if (store.getState().evalRun) {
      // The evaluation drives the panes image by image; a video would take the frames from under it.
      store.notify('info', 'A video can be opened once the evaluation is done (or stopped).');
      return;
    }
    const video: VideoLike = this.deps.openVideo(
      file,
      (still) => this.onVideoFileFrame(video, still),
      () => {
        if (this.videoFile === video) this.deps.setTransport(video.transport());
      },
    );
    try {
      await video.open();
    } catch (err) {
      store.notify('error', err instanceof SourceError ? err.message : `This video could not be opened: ${errorText(err)}`);
      return;
    }
    if (this.webcam) this.stopWebcam();
    this.closeVideo();
    this.videoFile = video;
    this.newStream();
    // A new source is the user trying again: panes halted by an error run on it.
    this.deps.panes.resumeAll();
    this.panesRunning();
    this.deps.setTransport(video.transport());
    this.onVideoFileFrame(video, true);
  }

  async playVideo(): Promise<void> {
    try {
      await this.videoFile?.play();
    } catch (err) {
      this.deps.store.notify('error', `The video could not be played: ${errorText(err)}`);
    }
  }

  pauseVideo(): void {
    this.videoFile?.pause();
  }

  stepVideo(): void {
    this.videoFile?.step();
  }

  seekVideo(seconds: number): void {
    this.videoFile?.seek(seconds);
  }

  private closeVideo(): void {
    if (!this.videoFile) return;
    this.videoFile.close();
    this.videoFile = null;
    this.deps.setTransport(null);
  }

  private onVideoFileFrame(source: VideoLike, still: boolean): void {
    if (this.videoFile !== source || this.webcam) return;
    // While it plays, frames are skipped while no pane could take one (as the webcam's); a
    // frame the video stopped on is always taken: the panes must end on that one.
    const seq = still ? null : { stream: this.stream, index: ++this.presented };
    if (!still && (this.capturing || !this.deps.panes.canTakeFrame())) return;
    const capture = ++this.videoCapture;
    if (still) this.videoStills++;
    else this.capturing = true;
    const { width, height } = source;
    this.deps
      .capture(source.video)
      .then((bitmap) => {
        // Overtaken by a newer capture, or the source changed meanwhile: not this frame.
        if (this.videoFile === source && capture === this.videoCapture && !this.webcam) this.setFrame(bitmap, width, height, 'video', source.name, null, seq);
        else bitmap.close();
      })
      .catch((err) => console.warn('video frame capture failed', err))
      .finally(() => {
        if (still) this.videoStills--;
        else this.capturing = false;
        if (this.streaming()) return;
        // No frame follows (a failed or dropped capture): panes waiting for one show their last result.
        this.panesAtRest();
      });
  }

  // ---------------------------------------------------------------- set aside (evaluation)

  /** What is on screen, set aside for an evaluation: the webcam stopped, a video closed, an image copied (the evaluation's images replace it). */
  async setAside(): Promise<PausedSource> {
    const { store } = this.deps;
    if (this.webcam) {
      this.stopWebcam();
      store.notify('info', 'The webcam is paused during the evaluation; it starts again when the evaluation ends.');
      return { kind: 'webcam' };
    }
    if (this.videoFile) {
      const { file } = this.videoFile;
      const time = this.videoFile.transport().time;
      this.closeVideo();
      store.notify('info', `The video “${file.name}” is set aside during the evaluation; it comes back at the same place when the evaluation ends.`);
      return { kind: 'video', file, time };
    }
    const { sourceKind, sourceName } = store.getState();
    if (sourceKind !== 'image' || !this.frame) return { kind: 'none' };
    const { width, height } = this.frame;
    try {
      // A copy of its own: the frame's bitmap is closed once the evaluation's images replace it.
      const bitmap = await this.deps.capture(this.frame.bitmap);
      store.notify('info', `“${sourceName}” is set aside during the evaluation; it comes back when the evaluation ends.`);
      return { kind: 'image', bitmap, width, height, name: sourceName };
    } catch (err) {
      console.warn('the image on screen could not be kept for after the evaluation', err);
      return { kind: 'none' };
    }
  }

  /** Puts back what setAside set aside: the image (the panes run on it again), the video or the webcam. */
  putBack(paused: PausedSource): void {
    if (paused.kind === 'webcam') void this.startWebcam();
    if (paused.kind === 'video') {
      void this.openVideo(paused.file).then(() => {
        if (paused.time > 0) this.seekVideo(paused.time);
      });
    }
    if (paused.kind !== 'image') return;
    this.panesRunning();
    this.setFrame(paused.bitmap, paused.width, paused.height, 'image', paused.name);
  }
}
