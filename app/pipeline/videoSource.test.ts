import { describe, expect, it } from 'vitest';
import { videoTimeText, videoType } from './videoSource';

describe('videoType', () => {
  it("takes the file's own video type, else the extension when the type is missing or generic", () => {
    expect(videoType({ name: 'clip.bin', type: 'video/webm' })).toBe('video/webm');
    expect(videoType({ name: 'Clip.MP4', type: '' })).toBe('video/mp4');
    expect(videoType({ name: 'clip.ogv', type: 'application/octet-stream' })).toBe('video/ogg');
    expect(videoType({ name: 'clip.mov', type: '' })).toBe('video/quicktime');
  });

  it('is null for images, models, audio and unknown files, so those keep their own routes', () => {
    expect(videoType({ name: 'photo.jpg', type: 'image/jpeg' })).toBeNull();
    expect(videoType({ name: 'model.onnx', type: '' })).toBeNull();
    expect(videoType({ name: 'song.ogg', type: 'audio/ogg' })).toBeNull();
    expect(videoType({ name: 'clip.mp4', type: 'image/png' })).toBeNull();
    expect(videoType({ name: 'notes', type: '' })).toBeNull();
  });
});

describe('videoTimeText', () => {
  it('writes minutes, seconds and tenths (truncated, never rounded up past the position)', () => {
    expect(videoTimeText(0)).toBe('0:00.0');
    expect(videoTimeText(3.46)).toBe('0:03.4');
    expect(videoTimeText(59.99)).toBe('0:59.9');
    expect(videoTimeText(61.5)).toBe('1:01.5');
    expect(videoTimeText(Infinity)).toBe('–');
    expect(videoTimeText(NaN)).toBe('–');
  });
});
