"""Tiny, UNTRAINED networks with the Ultralytics YOLO-seg ONNX interface, for tests.

They are not trained (random weights): they exist so that the app's tests see real ONNX
files of the YOLO-seg layout (MODELS.md §2): names, shapes, metadata and in-graph box
decoding, at a few hundred kB each.

  raw head      images [1,3,S,S] -> output0 [1, 4+nc+32, N]  (cx, cy, w, h in input pixels,
                nc sigmoid scores, 32 coefficients; N = (S/8)^2 + (S/16)^2 + (S/32)^2)
                                   output1 [1, 32, S/4, S/4]  (prototypes, stride 4)
  end-to-end    images -> output0 [1, 300, 38] (x1, y1, x2, y2, score, class, 32 coefficients)
                + output1; rows chosen as Ultralytics' NMS-free heads (YOLOv10 / YOLO26
                `Detect.get_topk_index`, not agnostic) choose them: the 300 anchors of highest
                best-class score, then the 300 highest (anchor, class) scores among those,
                so one anchor may fill several rows with different classes; rows by score,
                highest first; class index as a float
  transposed    output0 [1, N, 4+nc+32] (the raw head, anchors first), same weights as nc80
  dynamic       images [batch, 3, height, width] (symbolic), output0 [batch, 116, anchors],
                output1 [batch, 32, mask_height, mask_width] (Ultralytics' `dynamic=True` axes);
                anchors made in the graph from the feature sizes; same weights as nc80
  fp16          the nc80 graph with every float tensor float16: input images and both
                outputs float16 (what Ultralytics' `half=True` writes)

Box decoding is in the graph, anchor-free: anchor centres (i + 0.5, j + 0.5) per level,
distances (l, t, r, b) from a DFL (softmax over reg_max bins, expectation) or from a plain
softplus when --no-dfl, times the stride. Metadata as Ultralytics writes it: `names`
("{0: 'person', ...}"), `stride`, `task`, `imgsz`, `description`.

Run with /usr/bin/python3 (torch 1.13 + onnx):
    /usr/bin/python3 models/yoloseg/make_test_models.py [OUT_DIR]
Writes yoloseg-tiny-320-nc80.onnx, yoloseg-tiny-320-nc3.onnx (no DFL),
yoloseg-tiny-320-nc80-e2e.onnx, yoloseg-tiny-320-nc80-transposed.onnx,
yoloseg-tiny-dynamic-nc80.onnx and yoloseg-tiny-320-nc80-fp16.onnx into OUT_DIR (default
models/yoloseg/test), and test/families/yoloSeg/fixtures/e2e-tiny.json: the end-to-end
model's PyTorch rows on a fixed input and their post-processing the Ultralytics way.
"""
import os
import sys

import json

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper
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
    def __init__(self, nc, size, reg_max=16, width=16, end_to_end=False, transposed=False, dynamic=False):
        super().__init__()
        self.nc, self.size, self.reg_max, self.end_to_end = nc, size, reg_max, end_to_end
        self.transposed, self.dynamic = transposed, dynamic
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
            n = -1 if self.dynamic else raw.shape[-1]
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
        anchors, strides = self.grid(feats) if self.dynamic else (self.anchors, self.strides)
        xy1 = anchors - lt
        xy2 = anchors + rb
        protos = self.proto(x2)
        if not self.end_to_end:
            xywh = torch.cat([(xy1 + xy2) / 2, xy2 - xy1], 1) * strides
            out = torch.cat([xywh, cls, coef], 1)                         # [1, 4+nc+32, N]
            return (out.transpose(1, 2) if self.transposed else out), protos
        xyxy = torch.cat([xy1, xy2], 1) * strides                         # [1, 4, N]
        # Ultralytics' Detect.get_topk_index (not agnostic): the k anchors of highest best-class
        # score, then the k highest (anchor, class) scores among them (one anchor may give rows
        # of several classes), highest first.
        k, nc = END_TO_END_ROWS, self.nc
        scores = cls.transpose(1, 2)                                      # [1, N, nc]
        ori = scores.max(-1)[0].topk(k)[1]                                # [1, k]
        scores = scores.gather(1, ori.unsqueeze(-1).repeat(1, 1, nc))     # [1, k, nc]
        top, index = scores.flatten(1).topk(k)                            # [1, k]
        idx = ori.gather(1, torch.div(index, nc, rounding_mode='floor'))  # anchor of each row
        label = (index % nc).float()
        rest = torch.cat([xyxy, coef], 1).transpose(1, 2)                 # [1, N, 4+32]
        picked = rest.gather(1, idx.unsqueeze(-1).repeat(1, 1, rest.shape[2]))
        rows = torch.cat([picked[..., :4], top.unsqueeze(-1), label.unsqueeze(-1), picked[..., 4:]], -1)
        return rows, protos                                               # [1, 300, 38]

    @staticmethod
    def grid(feats):
        """Anchor centres and strides from the feature maps' sizes (a dynamic input: Range ops in the graph)."""
        anchors, strides = [], []
        for f, s in zip(feats, STRIDES):
            h, w = f.shape[2], f.shape[3]
            ys = torch.arange(h, dtype=torch.float32) + 0.5
            xs = torch.arange(w, dtype=torch.float32) + 0.5
            yy, xx = torch.meshgrid(ys, xs, indexing='ij')
            anchors.append(torch.stack([xx.flatten(), yy.flatten()]))
            strides.append(torch.ones_like(xx.flatten()) * s)
        return torch.cat(anchors, 1), torch.cat(strides)


def export(model, path, names, size, dynamic=False, imgsz=None):
    model.eval()
    dummy = torch.zeros(1, 3, size, size)
    axes = None
    if dynamic:  # Ultralytics' names for the dynamic axes of a segment export
        axes = {'images': {0: 'batch', 2: 'height', 3: 'width'}, 'output0': {0: 'batch', 2: 'anchors'},
                'output1': {0: 'batch', 2: 'mask_height', 3: 'mask_width'}}
    torch.onnx.export(model, dummy, path, input_names=['images'], output_names=['output0', 'output1'],
                      opset_version=17, do_constant_folding=True, dynamic_axes=axes)
    m = onnx.load(path)
    if dynamic:
        # The tracer loses output0's row count (4 + nc + 32) and names the batch axis after an
        # op; written as Ultralytics' export has them: [batch, 116, anchors].
        rows = m.graph.output[0].type.tensor_type.shape.dim
        rows[0].Clear()
        rows[0].dim_param = 'batch'
        rows[1].Clear()
        rows[1].dim_value = 4 + model.nc + NUM_PROTOS
    add_metadata(m, names, imgsz or size)
    onnx.save(m, path)
    print(path, os.path.getsize(path), 'bytes')


def add_metadata(m, names, size):
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


def to_float16(src, dst):
    """The fp32 graph of `src` with every float tensor float16 (weights, constants, Casts,
    graph input and outputs): the interface of an Ultralytics `half=True` export. PyTorch 1.13
    cannot trace a half model on the CPU, so the float32 export is converted instead."""
    m = onnx.load(src)
    g = m.graph

    def half(t):
        if t.data_type == TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))

    for t in g.initializer:
        half(t)
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                half(a.t)
            if node.op_type == 'Cast' and a.name == 'to' and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
    del g.value_info[:]
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print(dst, os.path.getsize(dst), 'bytes')


def fixed_input(size):
    """A deterministic input tensor [1, 3, S, S] in 0..1 that the TypeScript test rebuilds
    exactly (integer arithmetic, then / 255): stripes and blocks, so the features vary."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    chans = [((x * 7 + y * 3 + c * 85 + (x // 40) * (y // 40) * 37) % 256) for c in range(3)]
    return (torch.stack(chans).float() / 255).unsqueeze(0)


def e2e_fixture(model, size, path):
    """The end-to-end model's rows on `fixed_input` (PyTorch), post-processed the way
    Ultralytics treats an end-to-end export (no NMS: rows above conf, in their order; masks =
    crop_mask(coefficients @ protos at proto resolution) -> bilinear to the input -> > 0).
    The threshold is put in the widest score gap among ranks 8..24, so that float noise
    between PyTorch and ORT cannot move a row across it."""
    with torch.no_grad():
        rows, protos = model(fixed_input(size))
    rows, protos = rows[0], protos[0]
    scores = rows[:, 4]
    gaps = [(scores[i] - scores[i + 1]).item() for i in range(8, 24)]
    cut = 8 + int(np.argmax(gaps))
    conf = float((scores[cut] + scores[cut + 1]) / 2)
    det = rows[scores > conf]
    k, ph, pw = protos.shape
    masks = (det[:, 6:] @ protos.view(k, -1)).view(-1, ph, pw)
    b = det[:, :4] * (pw / size)
    x1, y1, x2, y2 = torch.chunk(b[:, :, None], 4, 1)
    r = torch.arange(pw, dtype=b.dtype)[None, None, :]
    c = torch.arange(ph, dtype=b.dtype)[None, :, None]
    masks = masks * ((r >= x1) * (r < x2) * (c >= y1) * (c < y2))
    masks = F.interpolate(masks[None], (size, size), mode='bilinear', align_corners=False)[0].gt(0.0)

    def runs(mask):  # row-major run lengths, starting with a run of zeros
        flat = mask.flatten().numpy().astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
        return np.diff(np.concatenate([[0], edges])).tolist()

    fixture = {
        'model': 'yoloseg-tiny-320-nc80-e2e.onnx',
        'inputSize': size,
        'confThreshold': conf,
        'rows': [[round(v, 6) for v in r.tolist()[:6]] for r in rows],
        'detections': [
            {'box': d[:4].tolist(), 'score': d[4].item(), 'classIndex': int(d[5].item()), 'maskRuns': runs(m)}
            for d, m in zip(det, masks)
        ],
    }
    with open(path, 'w') as f:
        json.dump(fixture, f)
    print(path, len(fixture['detections']), 'detections above', round(conf, 4), os.path.getsize(path), 'bytes')


def same_weights(src, **kwargs):
    model = TinyYoloSeg(src.nc, src.size, reg_max=src.reg_max, **kwargs)
    model.load_state_dict(src.state_dict())
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'test')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    size = 320
    nc80 = TinyYoloSeg(80, size)
    export(nc80, os.path.join(out, 'yoloseg-tiny-320-nc80.onnx'), COCO_NAMES, size)
    export(TinyYoloSeg(3, size, reg_max=1), os.path.join(out, 'yoloseg-tiny-320-nc3.onnx'), ['cat', 'dog', 'bird'], size)
    e2e = TinyYoloSeg(80, size, end_to_end=True)
    export(e2e, os.path.join(out, 'yoloseg-tiny-320-nc80-e2e.onnx'), COCO_NAMES, size)
    # The other layouts of nc80's weights: the app must give the same instances as from nc80.
    export(same_weights(nc80, transposed=True), os.path.join(out, 'yoloseg-tiny-320-nc80-transposed.onnx'), COCO_NAMES, size)
    # Traced at 256 so that no size is baked in; imgsz metadata says 320, which the app picks.
    export(same_weights(nc80, dynamic=True), os.path.join(out, 'yoloseg-tiny-dynamic-nc80.onnx'), COCO_NAMES, 256, dynamic=True, imgsz=size)
    to_float16(os.path.join(out, 'yoloseg-tiny-320-nc80.onnx'), os.path.join(out, 'yoloseg-tiny-320-nc80-fp16.onnx'))
    fixtures = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'families', 'yoloSeg', 'fixtures')
    e2e_fixture(e2e.eval(), size, os.path.join(fixtures, 'e2e-tiny.json'))


if __name__ == '__main__':
    main()
