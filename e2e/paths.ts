import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the end-to-end tests keep what they generate; all under test-results/ (git-ignored). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.join(REPO_ROOT, 'test-results');

export const FIXTURE_PATHS = {
  repoRoot: REPO_ROOT,
  root: ROOT,
  /** Generated inputs (the fake webcam's video and its ground truth). */
  fixtures: path.join(ROOT, 'fixtures'),
  /** Fake webcam video, 640x480 I420, read by Chromium's `--use-file-for-fake-video-capture`. */
  webcamY4m: path.join(ROOT, 'fixtures', 'webcam.y4m'),
  /** Per-frame ground truth written beside the y4m by models/dataset/make_y4m.py (if used). */
  webcamTruth: path.join(ROOT, 'fixtures', 'webcam.json'),
  /** Screenshots of key states, for people to look at. */
  screenshots: path.join(ROOT, 'screenshots'),
  /** Sample images and their COCO ground truth, committed by the dataset engineer. */
  samples: path.join(REPO_ROOT, 'public', 'samples'),
} as const;
