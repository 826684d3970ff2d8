"""Tiny ONNX graphs with the I/O signatures of PUBLIC Mask R-CNN exports, for tests.

They hold no network: their outputs are constants laid out relative to the input size, so
that a test can say exactly what must come out of the app (MODELS.md §3 for the layouts).

  torchvision-like   images_tensors [3, H, W] float RGB 0..1 (H, W dynamic)
                     -> boxes [N, 4] (xyxy input pixels), labels [N] int64 (COCO category
                        ids), scores [N], masks [N, 1, H, W] (pasted probabilities)
  zoo-like           image [3, H, W] float BGR 0..255 minus (102.9801, 115.9465, 122.7717)
                     -> 6568 boxes [N, 4], 6570 labels [N] int64 (contiguous 1..80),
                        6572 scores [N], 6887 masks [N, 1, 28, 28] (unpasted probabilities)
N is a symbolic dimension (4 rows here). Rows (fractions of W, H; label; score):
  torchvision  0 [0.10, 0.10, 0.50, 0.60] id 1 person  0.95  mask 0.9 inside the box, 0.1 outside
               1 [0.55, 0.20, 0.90, 0.80] id 18 dog    0.80  mask 0.9 inside the left half of the box
               2 [0.30, 0.65, 0.70, 0.95] id 12 (a gap in COCO's ids: dropped)  0.70
               3 [0.05, 0.70, 0.25, 0.90] id 3 car     0.03  (below the 0.05 default threshold)
  zoo          the same boxes and scores, labels 1 (person), 17 (dog), 81 (out of range:
               dropped), 3 (car); masks 28x28: 0.95 inside the disc of radius 10 about
               (13.5, 13.5), 0.05 outside (row 1: the upper half of the grid only).
Also (when torchvision is importable and --real is given) a real
`maskrcnn_resnet50_fpn(weights=None, weights_backbone=None)` export to /tmp, whose I/O
signature is written to models/maskrcnn/test/torchvision-maskrcnn-io.json (the file itself is
~170 MB and not committed).

Run with /usr/bin/python3 (torch 1.13 + onnx):
    /usr/bin/python3 models/maskrcnn/make_public_test_models.py [--real] [--paste-fixture] [OUT_DIR]
--paste-fixture writes paste-fixture.json: torchvision's paste_masks_in_image on random masks.
"""
import json
import os
import sys

import onnx
import torch
import torch.nn as nn

BOXES = [[0.10, 0.10, 0.50, 0.60], [0.55, 0.20, 0.90, 0.80], [0.30, 0.65, 0.70, 0.95], [0.05, 0.70, 0.25, 0.90]]
SCORES = [0.95, 0.80, 0.70, 0.03]
TV_LABELS = [1, 18, 12, 3]
ZOO_LABELS = [1, 17, 81, 3]
ZOO_MEAN = (102.9801, 115.9465, 122.7717)


class TorchvisionLike(nn.Module):
    """[3, H, W] -> boxes, labels, scores, masks [N, 1, H, W] (pasted)."""

    def forward(self, image):
        h = image.shape[1]
        w = image.shape[2]
        frac = torch.tensor(BOXES, dtype=torch.float32)
        size = torch.stack([w, h, w, h]).to(torch.float32)
        boxes = frac * size
        labels = torch.tensor(TV_LABELS, dtype=torch.int64)
        # A zero-weight dependency on the image keeps the input in the graph.
        scores = torch.tensor(SCORES, dtype=torch.float32) + image.sum() * 0.0
        ys = torch.arange(h).to(torch.float32).view(1, h, 1) + 0.5
        xs = torch.arange(w).to(torch.float32).view(1, 1, w) + 0.5
        x1 = boxes[:, 0].view(-1, 1, 1)
        y1 = boxes[:, 1].view(-1, 1, 1)
        x2 = boxes[:, 2].view(-1, 1, 1)
        y2 = boxes[:, 3].view(-1, 1, 1)
        # Row 1 keeps only the left half of its box.
        right = torch.tensor([1.0, 0.5, 1.0, 1.0]).view(-1, 1, 1)
        x2 = x1 + (x2 - x1) * right
        inside = (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)
        masks = torch.where(inside, torch.tensor(0.9), torch.tensor(0.1)).unsqueeze(1)
        return boxes, labels, scores, masks


class ZooLike(nn.Module):
    """[3, H, W] -> boxes, labels, scores, masks [N, 1, 28, 28] (unpasted)."""

    def forward(self, image):
        h = image.shape[1]
        w = image.shape[2]
        frac = torch.tensor(BOXES, dtype=torch.float32)
        size = torch.stack([w, h, w, h]).to(torch.float32)
        boxes = frac * size
        labels = torch.tensor(ZOO_LABELS, dtype=torch.int64)
        scores = torch.tensor(SCORES, dtype=torch.float32) + image.sum() * 0.0
        r = torch.arange(28, dtype=torch.float32)
        d2 = (r.view(28, 1) - 13.5) ** 2 + (r.view(1, 28) - 13.5) ** 2
        disc = torch.where(d2 <= 100.0, torch.tensor(0.95), torch.tensor(0.05))
        upper = torch.where(r.view(28, 1) < 14.0, disc, torch.tensor(0.05))
        masks = torch.stack([disc, upper, disc, disc]).unsqueeze(1)
        return boxes, labels, scores, masks


def rename_outputs(path, renames):
    """Numeric tensor names (torch refuses them as output_names) put in after export."""
    m = onnx.load(path)
    for node in m.graph.node:
        node.output[:] = [renames.get(o, o) for o in node.output]
        node.input[:] = [renames.get(i, i) for i in node.input]
    for v in m.graph.output:
        v.name = renames.get(v.name, v.name)
    onnx.save(m, path)


def export(model, path, input_name, output_names, height=64, width=96, renames=None):
    dummy = torch.rand(3, height, width)
    dynamic = {input_name: {1: 'height', 2: 'width'}}
    for name in output_names:
        dynamic[name] = {0: 'N'}
    if len(output_names) == 4 and output_names[3] in ('masks',):
        dynamic[output_names[3]] = {0: 'N', 2: 'height', 3: 'width'}
    torch.onnx.export(model, (dummy,), path, input_names=[input_name], output_names=output_names,
                      dynamic_axes=dynamic, opset_version=11)
    if renames:
        rename_outputs(path, renames)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print(path, os.path.getsize(path), 'bytes')


def io_signature(path):
    m = onnx.load(path, load_external_data=False)
    init = {i.name for i in m.graph.initializer}

    def info(v):
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField('dim_value') else (d.dim_param or None) for d in t.shape.dim]
        return {'name': v.name, 'elemType': t.elem_type, 'dims': dims}

    return {
        'producer': m.producer_name,
        'opset': [o.version for o in m.opset_import],
        'inputs': [info(v) for v in m.graph.input if v.name not in init],
        'outputs': [info(v) for v in m.graph.output],
        'metadata': {p.key: p.value for p in m.metadata_props},
    }


def real_torchvision(out_dir):
    import torchvision

    torch.set_num_threads(1)
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320)
    model.eval()
    path = '/tmp/maskrcnn_resnet50_fpn.onnx'
    x = torch.rand(3, 320, 320)
    torch.onnx.export(model, ([x],), path, opset_version=11, input_names=['images_tensors'],
                      output_names=['boxes', 'labels', 'scores', 'masks'],
                      dynamic_axes={'images_tensors': [1, 2], 'boxes': [0, 1], 'labels': [0], 'scores': [0], 'masks': [0, 1, 2, 3]})
    sig = io_signature(path)
    sig['source'] = (f'torchvision {torchvision.__version__} maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, '
                     'min_size=320, max_size=320), torch.onnx.export opset 11, input_names/output_names/dynamic_axes as '
                     'the torchvision ONNX test; made by models/maskrcnn/make_public_test_models.py --real')
    sig['bytes'] = os.path.getsize(path)
    with open(os.path.join(out_dir, 'torchvision-maskrcnn-io.json'), 'w') as fh:
        json.dump(sig, fh, indent=1)
        fh.write('\n')
    print(json.dumps(sig, indent=1))


def paste_fixture(out_dir):
    """torchvision's own paste_masks_in_image on random 28x28 probabilities and boxes (some
    over the border, one tiny): the oracle of our roi-mask paste (exported.test.ts)."""
    from torchvision.models.detection.roi_heads import paste_masks_in_image

    g = torch.Generator().manual_seed(6)
    width, height = 48, 40
    masks = torch.rand(4, 1, 28, 28, generator=g)
    boxes = torch.tensor([[5.3, 4.7, 30.2, 22.9], [-6.4, 20.1, 17.8, 47.5], [30.6, 2.2, 55.1, 30.7], [20.2, 20.3, 20.9, 20.8]])
    pasted = paste_masks_in_image(masks, boxes, (height, width), padding=1)
    fixture = {
        'source': 'torchvision %s roi_heads.paste_masks_in_image(masks, boxes, (40, 48), padding=1); '
                  'made by models/maskrcnn/make_public_test_models.py --paste-fixture' % __import__('torchvision').__version__,
        'width': width, 'height': height,
        'boxes': boxes.tolist(),
        'masks': [round(v, 7) for v in masks.flatten().tolist()],
        'pasted': [round(v, 7) for v in pasted.flatten().tolist()],
    }
    with open(os.path.join(out_dir, 'paste-fixture.json'), 'w') as fh:
        json.dump(fixture, fh)
    print('paste fixture', pasted.shape, int((pasted > 0.5).sum()))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    out_dir = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test')
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    export(TorchvisionLike(), os.path.join(out_dir, 'maskrcnn-torchvision-tiny.onnx'), 'images_tensors',
           ['boxes', 'labels', 'scores', 'masks'])
    export(ZooLike(), os.path.join(out_dir, 'maskrcnn-zoo-tiny.onnx'), 'image', ['boxes', 'labels', 'scores', 'masks28'],
           renames={'boxes': '6568', 'labels': '6570', 'scores': '6572', 'masks28': '6887'})
    if '--paste-fixture' in sys.argv:
        paste_fixture(out_dir)
    if '--real' in sys.argv:
        real_torchvision(out_dir)


if __name__ == '__main__':
    main()
