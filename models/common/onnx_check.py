"""Run an ONNX file in onnxruntime-web (wasm, in Node: ort_run.mjs; there is no onnxruntime
for Python here) and compare its outputs with PyTorch's (models/*/verify_onnx.py)."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))


def run_ort(onnx_path: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as d:
        spec = {}
        for name, arr in feeds.items():
            arr.astype('<f4').tofile(os.path.join(d, f'{name}.f32'))
            spec[name] = {'dims': list(arr.shape), 'file': f'{name}.f32'}
        with open(os.path.join(d, 'feeds.json'), 'w') as f:
            json.dump(spec, f)
        subprocess.run(['node', os.path.join(HERE, 'ort_run.mjs'), onnx_path, d], check=True, cwd=REPO)
        with open(os.path.join(d, 'outputs.json')) as f:
            dims = json.load(f)
        return {k: np.fromfile(os.path.join(d, f'out-{k}.f32'), '<f4').reshape(v) for k, v in dims.items()}


def compare(label: str, ort_out: dict, torch_out: dict, tol: float) -> bool:
    ok = True
    for name, ref in torch_out.items():
        got = ort_out[name]
        if got.shape != ref.shape:
            print(f'FAIL {label}.{name}: shape {got.shape} vs torch {ref.shape}')
            ok = False
            continue
        err = float(np.abs(got - ref).max())
        scale = float(np.abs(ref).max())
        good = err <= tol * max(1.0, scale)
        ok &= good
        print(f'{"ok  " if good else "FAIL"} {label}.{name} {list(got.shape)}: max abs diff {err:.2e} (max |torch| {scale:.2e})')
    return ok
