"""Independent expectations for the YOLO-seg reference chain, computed the way Ultralytics
does it (ultralytics/utils/ops.py non_max_suppression + process_mask, re-implemented here
with torch / torchvision; MODELS.md §2), on a small random raw head.

Input 64x64 (N = 84 anchors), 3 classes, protos [1, 32, 16, 16]; conf 0.25, IoU 0.7,
best class only, class offset 7680 into torchvision.ops.nms, masks = crop_mask(C·P in proto
space with boxes × 16/64) → bilinear (align_corners=False) to 64x64 → > 0.

Writes test/families/yoloSeg/fixtures/ultralytics-64.json:
  output0 [39·84] and protos [32·16·16] (float32 values), and per detection: box (input
  px), score, class, mask as hex of 64·64 bits (row-major, bit x%32 of word x/32 … packed
  the same as InstanceMasks, one word = 8 hex digits little-endian value).
Run: /usr/bin/python3 models/yoloseg/ultralytics_check.py
"""
import json
import os

import torch
import torch.nn.functional as F
import torchvision

S, NC, K, P = 64, 3, 32, 16
STRIDES = (8, 16, 32)


def make_outputs(seed):
    g = torch.Generator().manual_seed(seed)
    rand = lambda *s: torch.rand(*s, generator=g)
    centres = []
    for s in STRIDES:
        n = S // s
        for y in range(n):
            for x in range(n):
                centres.append(((x + 0.5) * s, (y + 0.5) * s))
    centres = torch.tensor(centres)
    n = len(centres)
    out = torch.zeros(4 + NC + K, n)
    out[0:2] = centres.T + (rand(2, n) - 0.5) * 4
    out[2:4] = 8 + rand(2, n) * 30
    out[4:4 + NC] = rand(NC, n) ** 2   # continuous scores: no ties
    out[4 + NC:] = (rand(K, n) - 0.5) * 2
    protos = torch.zeros(K, P, P)
    yy, xx = torch.meshgrid(torch.arange(P) + 0.5, torch.arange(P) + 0.5, indexing='ij')
    for k in range(K):
        cx, cy, r = rand(1).item() * P, rand(1).item() * P, 2 + rand(1).item() * 6
        protos[k] = (r - ((xx - cx) ** 2 + (yy - cy) ** 2).sqrt()) / r
    # 4 decimals, then float32: the exact values the TypeScript side reads
    out = torch.round(out * 1e4) / 1e4
    protos = torch.round(protos * 1e4) / 1e4
    return out.float(), protos.float()


def ultralytics_postprocess(out, protos, conf=0.25, iou=0.7, max_det=300):
    x = out.T                                             # [N, 4 + nc + 32]
    box = torch.cat([x[:, :2] - x[:, 2:4] / 2, x[:, :2] + x[:, 2:4] / 2], 1)
    cls = x[:, 4:4 + NC]
    coef = x[:, 4 + NC:]
    score, j = cls.max(1, keepdim=True)
    keep = score.view(-1) > conf
    det = torch.cat([box, score, j.float(), coef], 1)[keep]
    det = det[det[:, 4].argsort(descending=True)]
    offsets = det[:, 5:6] * 7680
    i = torchvision.ops.nms(det[:, :4] + offsets, det[:, 4], iou)[:max_det]
    det = det[i]
    masks = (det[:, 6:] @ protos.view(K, -1)).view(-1, P, P)
    b = det[:, :4] * (P / S)
    x1, y1, x2, y2 = torch.chunk(b[:, :, None], 4, 1)
    r = torch.arange(P, dtype=b.dtype)[None, None, :]
    c = torch.arange(P, dtype=b.dtype)[None, :, None]
    masks = masks * ((r >= x1) * (r < x2) * (c >= y1) * (c < y2))
    masks = F.interpolate(masks[None], (S, S), mode='bilinear', align_corners=False)[0]
    return det, masks.gt(0.0)


def pack(mask):
    words = []
    for y in range(S):
        for w in range(S // 32):
            v = 0
            for b in range(32):
                if mask[y, w * 32 + b]:
                    v |= 1 << b
            words.append(f'{v:08x}')
    return ''.join(words)


def main():
    out, protos = make_outputs(7)
    det, masks = ultralytics_postprocess(out, protos)
    fixture = {
        'inputSize': S, 'numClasses': NC, 'confThreshold': 0.25, 'nmsIou': 0.7,
        'output0': out.flatten().tolist(), 'output0Dims': [1, 4 + NC + K, out.shape[1]],
        'protos': protos.flatten().tolist(), 'protosDims': [1, K, P, P],
        'detections': [
            {'box': d[:4].tolist(), 'score': d[4].item(), 'classIndex': int(d[5].item()), 'mask': pack(m)}
            for d, m in zip(det, masks)
        ],
    }
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'families', 'yoloSeg', 'fixtures', 'ultralytics-64.json')
    with open(path, 'w') as f:
        json.dump(fixture, f)
    print(path, len(fixture['detections']), 'detections', os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main()
