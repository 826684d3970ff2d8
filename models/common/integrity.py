"""The sha256 digests a manifest carries for its ONNX files (the app checks each file
against its digest when it loads it, and keys a model's recorded accuracy by them:
app/models/registry.ts recordedAccuracy)."""
from __future__ import annotations

import hashlib
import os


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add_digests(manifest: dict, files: dict[str, bytes | str]) -> dict:
    """Sets `sha256` (the model's `url`) and, for a two-stage manifest, `boxHeadSha256` /
    `maskHeadSha256`, for a CenterMask manifest (`centerMask` block) `maskHeadSha256` and
    `maskHeadBytes`, from the bytes about to be written (`files`: path → content); a url is
    matched to its file by name. `bytes` (the model file's size) is set where the manifest
    has the key. Returns the manifest."""
    by_name = {os.path.basename(path): data for path, data in files.items() if isinstance(data, bytes)}

    def digest(url: str) -> str:
        name = os.path.basename(url)
        if name not in by_name:
            raise KeyError(f'{url}: not among the files written ({sorted(by_name)})')
        return sha256_hex(by_name[name])

    def size(url: str) -> int:
        return len(by_name[os.path.basename(url)])

    manifest['sha256'] = digest(manifest['url'])
    if 'bytes' in manifest:
        manifest['bytes'] = size(manifest['url'])
    cm = manifest.get('centerMask')
    if cm:
        cm['maskHeadSha256'] = digest(cm['maskHeadUrl'])
        cm['maskHeadBytes'] = size(cm['maskHeadUrl'])
    heads = manifest.get('twoStage')
    if heads:
        heads['boxHeadSha256'] = digest(heads['boxHeadUrl'])
        heads['maskHeadSha256'] = digest(heads['maskHeadUrl'])
    return manifest
