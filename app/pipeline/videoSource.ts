/**
 * A video file as the source: a hidden <video> playing the file (an object URL), with play,
 * pause, one-frame step and seek. Like the Webcam (sources.ts), every frame presented while it
 * plays is handed on from requestVideoFrameCallback; a pause, a step, a seek or the end hands
 * on the one frame it stops at, marked `still`, so the panes run on that exact frame.
 */
import { create } from 'zustand';
import { SourceError } from './sources';

/** What the source bar's transport row shows (null: the source is not a video). */
export interface VideoTransport {
  name: string;
  playing: boolean;
  /** Position and length in seconds. */
  time: number;
  duration: number;
  /** The position is the last frame: nothing to step to. */
  atEnd: boolean;
}

export const useVideoTransport = create<{ transport: VideoTransport | null }>()(() => ({ transport: null }));

/** A video element does not tell its frame rate: a step is this long until frames have been seen playing. */
export const DEFAULT_FRAME_DURATION = 1 / 30;

/** How close to the end (s) counts as the end: durations and the last frame's time differ by rounding. */
const END_EPSILON = 1e-3;

/** MIME types by extension, for files the OS gave no type (drag and drop from some places). */
const VIDEO_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
};

/** The file's video MIME type (its own, else from its extension), or null when it is not a video. */
export function videoType(file: { name: string; type: string }): string | null {
  if (file.type.startsWith('video/')) return file.type;
  if (file.type && file.type !== 'application/octet-stream') return null;
  const ext = file.name.match(/\.([a-z0-9]+)$/i)?.[1]?.toLowerCase();
  return (ext && VIDEO_TYPES[ext]) ?? null;
}

/** "0:03.4": a position in minutes, seconds and tenths. */
export function videoTimeText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const tenths = Math.floor(seconds * 10);
  const m = Math.floor(tenths / 600);
  const s = (tenths % 600) / 10;
  return `${m}:${s < 10 ? '0' : ''}${s.toFixed(1)}`;
}

function mediaErrorText(video: HTMLVideoElement): string {
  const e = video.error;
  if (!e) return 'unknown error';
  const kinds: Record<number, string> = { 1: 'aborted', 2: 'network error', 3: 'the data could not be decoded', 4: 'the format or codec is not supported' };
  return e.message ? `${kinds[e.code] ?? 'error'}: ${e.message}` : (kinds[e.code] ?? `error ${e.code}`);
}

/** Resolves on `ok`, rejects on the element's 'error' event. */
function until(video: HTMLVideoElement, ok: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      video.removeEventListener(ok, done);
      video.removeEventListener('error', failed);
      resolve();
    };
    const failed = () => {
      video.removeEventListener(ok, done);
      video.removeEventListener('error', failed);
      reject(new Error(mediaErrorText(video)));
    };
    video.addEventListener(ok, done);
    video.addEventListener('error', failed);
  });
}

export class VideoFile {
  readonly video: HTMLVideoElement;
  readonly name: string;
  private readonly url: string;
  private handle = 0;
  private closed = false;
  /** Seconds per frame: the shortest seen between presented frames while playing (Infinity: none seen yet). */
  private learned = Infinity;
  private last: { mediaTime: number; presentedFrames: number } | null = null;

  /**
   * `onFrame`: a frame to run the panes on (`still`: the video stopped on it, it must not be
   * dropped). `onChange`: the transport state changed (play, pause, position).
   */
  constructor(
    readonly file: File,
    private readonly onFrame: (video: HTMLVideoElement, still: boolean) => void,
    private readonly onChange: () => void,
  ) {
    this.name = file.name || 'video';
    this.url = URL.createObjectURL(file);
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.preload = 'auto';
  }

  /** Loads the file up to its first frame; a clear SourceError when the browser cannot play it. */
  async open(): Promise<void> {
    const type = videoType(this.file) ?? 'video';
    const playable = this.video.canPlayType(type) !== '';
    if (this.file.size === 0) throw new SourceError(`“${this.name}” is empty (0 bytes): there is no video in it.`);
    try {
      const loaded = until(this.video, 'loadeddata');
      this.video.src = this.url;
      await loaded;
      // MediaRecorder files carry no duration until read to their end: seek past it once.
      if (!Number.isFinite(this.video.duration)) {
        const seeked = until(this.video, 'seeked');
        this.video.currentTime = Number.MAX_SAFE_INTEGER;
        await seeked;
      }
      if (this.video.currentTime !== 0) {
        const seeked = until(this.video, 'seeked');
        this.video.currentTime = 0;
        await seeked;
      }
    } catch (err) {
      this.close();
      throw new SourceError(
        playable
          ? `The video “${this.name}” could not be played (${err instanceof Error ? err.message : String(err)}): the file may be corrupt, or its codec is one this browser lacks.`
          : `This browser cannot play “${this.name}” (${type}). Open an MP4 (H.264), WebM (VP8, VP9, AV1) or Ogg video.`,
      );
    }
    if (this.video.videoWidth === 0 || this.video.videoHeight === 0) {
      this.close();
      throw new SourceError(`“${this.name}” has no video track (audio only?): there is nothing to segment.`);
    }
    // The last frame: playback stopped there, the panes finish on it.
    this.video.addEventListener('ended', () => {
      if (this.closed) return;
      this.onChange();
      this.onFrame(this.video, true);
    });
    // A seek while paused (the slider, a step) lands on the frame the panes run on next.
    this.video.addEventListener('seeked', () => {
      if (this.closed) return;
      this.onChange();
      if (this.video.paused) this.onFrame(this.video, true);
    });
    this.video.addEventListener('timeupdate', () => {
      if (!this.closed) this.onChange();
    });
  }

  get width(): number {
    return this.video.videoWidth;
  }

  get height(): number {
    return this.video.videoHeight;
  }

  get playing(): boolean {
    return !this.video.paused && !this.video.ended;
  }

  /** Playing, or on its way to a frame (a seek): more frames are coming. */
  get moving(): boolean {
    return this.playing || this.video.seeking;
  }

  get atEnd(): boolean {
    return this.video.ended || this.video.currentTime >= this.video.duration - END_EPSILON;
  }

  transport(): VideoTransport {
    return { name: this.name, playing: this.playing, time: this.video.currentTime, duration: this.video.duration, atEnd: this.atEnd };
  }

  async play(): Promise<void> {
    if (this.closed || this.playing) return;
    // From the end, play starts again at the beginning (as the element itself does).
    if (this.atEnd) this.video.currentTime = 0;
    this.last = null;
    const tick = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (this.closed || this.video.paused) return;
      this.learnFrameDuration(meta);
      this.onFrame(this.video, false);
      this.handle = this.video.requestVideoFrameCallback(tick);
    };
    this.video.cancelVideoFrameCallback(this.handle);
    this.handle = this.video.requestVideoFrameCallback(tick);
    await this.video.play();
    this.onChange();
  }

  /** Stops on the frame shown now; the panes run on it. */
  pause(): void {
    if (this.closed || this.video.paused) return;
    this.video.pause();
    this.video.cancelVideoFrameCallback(this.handle);
    this.onChange();
    this.onFrame(this.video, true);
  }

  /** One frame forward (pausing first): the panes run on that frame (the 'seeked' listener). */
  step(): void {
    if (this.closed || this.atEnd) return;
    if (!this.video.paused) {
      this.video.pause();
      this.video.cancelVideoFrameCallback(this.handle);
    }
    this.video.currentTime = Math.min(this.video.duration, this.video.currentTime + this.frameDuration);
    this.onChange();
  }

  /** To `seconds` (clamped to the video); when paused, the panes run on the frame there. */
  seek(seconds: number): void {
    if (this.closed || !Number.isFinite(seconds)) return;
    this.video.currentTime = Math.max(0, Math.min(this.video.duration, seconds));
    this.onChange();
  }

  close(): void {
    this.closed = true;
    this.video.cancelVideoFrameCallback(this.handle);
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    URL.revokeObjectURL(this.url);
  }

  /** Frames presented one after another while playing give the frame duration (media time per frame). */
  private learnFrameDuration(meta: VideoFrameCallbackMetadata): void {
    const prev = this.last;
    this.last = { mediaTime: meta.mediaTime, presentedFrames: meta.presentedFrames };
    if (!prev) return;
    const frames = meta.presentedFrames - prev.presentedFrames;
    const dt = meta.mediaTime - prev.mediaTime;
    // Frames the page skipped make a longer gap, hence the shortest; jumps (a seek) are ignored.
    if (frames === 1 && dt > 0 && dt < 1) this.learned = Math.min(this.learned, dt);
  }

  private get frameDuration(): number {
    return Number.isFinite(this.learned) ? this.learned : DEFAULT_FRAME_DURATION;
  }
}
