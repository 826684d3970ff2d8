"""Tiny, UNTRAINED networks with the Ultralytics YOLO-seg ONNX interface, for tests.

They are not trained (random weights): they exist so that the app's tests see real ONNX
files of the YOLO-seg layout (MODELS.md §2): names, shapes, metadata and in-graph box
decoding, at a few hundred kB each.

  raw head      images [1,3,S,S] -> output0 [1, 4+nc+32, N]  (cx, cy, w, h in input pixels,
                nc sigmoid scores, 32 coefficients; N = (S/8)^2 + (S/16)^2 + (S/32)^2)
                                   output1 [1, 32, S/4, S/4]  (prototypes, stride 4)
  end-to-end    images -> output0 [1, 300, 38] (x1, y1, x2, y2, score, class, 32 coefficients;
                top 300 by best-class score, standing in for the in-graph NMS) + output1

Box decoding is in the graph, anchor-free: anchor centres (i + 0.5, j + 0.5) per level,
distances (l, t, r, b) from a DFL (softmax over reg_max bins, expectation) or from a plain
softplus when --no-dfl, times the stride. Metadata as Ultralytics writes it: `names`
("{0: 'person', ...}"), `stride`, `task`, `imgsz`, `description`.

Run with /usr/bin/python3 (torch 1.13 + onnx):
    /usr/bin/python3 models/yoloseg/make_test_models.py [OUT_DIR]
Writes yoloseg-tiny-320-nc80.onnx, yoloseg-tiny-320-nc3.onnx (no DFL) and
yoloseg-tiny-320-nc80-e2e.onnx into OUT_DIR (default models/yoloseg/test).
"""
import os
import sys

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

COCO_NAMES = [
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat',
    'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack',
    'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball',
    'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket',
    'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
    'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair',
    'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse',
    'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
    'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier',
    'toothbrush',
]
STRIDES = (8, 16, 32)
NUM_PROTOS = 32
END_TO_END_ROWS = 300


def conv(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.SiLU())


class TinyYoloSeg(nn.Module):
    def __init__(self, nc, size, reg_max=16, width=16, end_to_end=False):
        super().__init__()
        self.nc, self.size, self.reg_max, self.end_to_end = nc, size, reg_max, end_to_end
        w = width
        self.stem = nn.Sequential(conv(3, w, 2), conv(w, w, 2))           # stride 4
        self.p3 = conv(w, w, 2)                                           # stride 8
        self.p4 = conv(w, w, 2)                                           # stride 16
        self.p5 = conv(w, w, 2)                                           # stride 32
        box_out = 4 * reg_max if reg_max > 1 else 4
        self.box = nn.ModuleList(nn.Conv2d(w, box_out, 1) for _ in STRIDES)
        self.cls = nn.ModuleList(nn.Conv2d(w, nc, 1) for _ in STRIDES)
        self.coef = nn.ModuleList(nn.Conv2d(w, NUM_PROTOS, 1) for _ in STRIDES)
        self.proto = nn.Sequential(conv(w, w), nn.Conv2d(w, NUM_PROTOS, 1))
        anchors, strides = [], []
        for s in STRIDES:
            g = size // s
            ys, xs = torch.meshgrid(torch.arange(g) + 0.5, torch.arange(g) + 0.5, indexing='ij')
            anchors.append(torch.stack([xs.flatten(), ys.flatten()]))
            strides.append(torch.full((g * g,), float(s)))
        self.register_buffer('anchors', torch.cat(anchors, 1))            # [2, N]
        self.register_buffer('strides', torch.cat(strides))               # [N]
        self.register_buffer('bins', torch.arange(reg_max, dtype=torch.float32))

    def distances(self, raw):  # raw [1, 4*reg_max or 4, N] -> ltrb [1, 4, N] in stride units
        if self.reg_max > 1:
            n = raw.shape[-1]
            prob = raw.view(1, 4, self.reg_max, n).softmax(2)
            return (prob * self.bins.view(1, 1, -1, 1)).sum(2)
        return F.softplus(raw)

    def forward(self, images):
        x2 = self.stem(images)
        feats = [self.p3(x2)]
        feats.append(self.p4(feats[0]))
        feats.append(self.p5(feats[1]))
        flat = lambda t: t.flatten(2)
        box = torch.cat([flat(h(f)) for h, f in zip(self.box, feats)], 2)
        cls = torch.cat([flat(h(f)) for h, f in zip(self.cls, feats)], 2).sigmoid()
        coef = torch.cat([flat(h(f)) for h, f in zip(self.coef, feats)], 2)
        ltrb = self.distances(box)
        lt, rb = ltrb[:, :2], ltrb[:, 2:]
        xy1 = self.anchors - lt
        xy2 = self.anchors + rb
        protos = self.proto(x2)
        if not self.end_to_end:
            xywh = torch.cat([(xy1 + xy2) / 2, xy2 - xy1], 1) * self.strides
            return torch.cat([xywh, cls, coef], 1), protos
        xyxy = torch.cat([xy1, xy2], 1) * self.strides                  # [1, 4, N]
        score, label = cls.max(1)                                         # [1, N]
        top, idx = score.topk(END_TO_END_ROWS, 1)                         # [1, 300]
        rows = torch.cat([xyxy, score.unsqueeze(1), label.unsqueeze(1).float(), coef], 1)  # [1, 38, N]
        picked = rows.gather(2, idx.unsqueeze(1).expand(-1, rows.shape[1], -1))
        return picked.transpose(1, 2), protos                            # [1, 300, 38]


def export(model, path, names, size):
    model.eval()
    dummy = torch.zeros(1, 3, size, size)
    torch.onnx.export(model, dummy, path, input_names=['images'], output_names=['output0', 'output1'],
                      opset_version=17, do_constant_folding=True)
    m = onnx.load(path)
    meta = {
        'description': 'SegArena test model: tiny untrained YOLO-seg layout',
        'author': 'SegArena',
        'task': 'segment',
        'stride': '32',
        'batch': '1',
        'imgsz': f'[{size}, {size}]',
        'names': '{' + ', '.join(f"{i}: '{n}'" for i, n in enumerate(names)) + '}',
    }
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)
    print(path, os.path.getsize(path), 'bytes')


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'test')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    size = 320
    export(TinyYoloSeg(80, size), os.path.join(out, 'yoloseg-tiny-320-nc80.onnx'), COCO_NAMES, size)
    export(TinyYoloSeg(3, size, reg_max=1), os.path.join(out, 'yoloseg-tiny-320-nc3.onnx'), ['cat', 'dog', 'bird'], size)
    export(TinyYoloSeg(80, size, end_to_end=True), os.path.join(out, 'yoloseg-tiny-320-nc80-e2e.onnx'), COCO_NAMES, size)


if __name__ == '__main__':
    main()
