/**
 * Blob URLs of models that live in memory only (a dropped file that could not be saved in
 * IndexedDB: models/fromOnnx.ts). A blob URL keeps its bytes alive until it is revoked, so
 * the model's URL is revoked when the model leaves the registry; until then the session
 * layer may fetch it again (a pane switching back to the model).
 */
const live = new Set<string>();

/** A blob URL for a model's bytes, revoked by `revokeModelBlobUrl`. */
export function modelBlobUrl(bytes: Uint8Array<ArrayBuffer>): string {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  live.add(url);
  return url;
}

/** Revokes a URL made by `modelBlobUrl`; any other URL (bundled, remote, saved) is left alone. */
export function revokeModelBlobUrl(url: string): boolean {
  if (!live.delete(url)) return false;
  URL.revokeObjectURL(url);
  return true;
}
