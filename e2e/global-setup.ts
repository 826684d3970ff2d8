import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { FIXTURE_PATHS } from './paths';
import { writeShapesY4m } from './y4m';

/**
 * Writes the fake webcam's video before any test runs. Preferred: the dataset engineer's
 * generator of emoji scenes (models/dataset/make_y4m.py, run by Debian's /usr/bin/python3,
 * which has Pillow and numpy), which also writes the per-frame ground truth. If that
 * script or its Python packages are missing, a TypeScript writer draws flat shapes so
 * the webcam tests still exercise the frame loop.
 */
const WIDTH = 640;
const HEIGHT = 480;
const FRAMES = 30;
const FPS = 15;
const SEED = 7;

const GENERATOR = path.join(FIXTURE_PATHS.repoRoot, 'models', 'dataset', 'make_y4m.py');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function upToDate(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) return false;
  const made = statSync(output).mtimeMs;
  return inputs.every((f) => !existsSync(f) || statSync(f).mtimeMs < made);
}

export default function globalSetup(): void {
  mkdirSync(FIXTURE_PATHS.fixtures, { recursive: true });
  mkdirSync(FIXTURE_PATHS.screenshots, { recursive: true });
  const out = FIXTURE_PATHS.webcamY4m;
  if (upToDate(out, [GENERATOR, path.join(FIXTURE_PATHS.repoRoot, 'e2e', 'y4m.ts')])) return;

  if (existsSync(GENERATOR)) {
    try {
      execFileSync(PYTHON, [GENERATOR, out, '--frames', String(FRAMES), '--width', String(WIDTH), '--height', String(HEIGHT), '--seed', String(SEED)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 120_000,
      });
      if (existsSync(out)) return;
    } catch (err) {
      console.warn(`[e2e] ${GENERATOR} failed, drawing simple shapes instead: ${String(err)}`);
    }
  }
  writeShapesY4m(out, { width: WIDTH, height: HEIGHT, frames: FRAMES, fps: FPS });
}
