#!/usr/bin/python3
"""Self-checks of the YOLACT recipe and the dataset's RLE, against hand-computed values.

    /usr/bin/python3 models/yolact/selftest.py
"""
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'dataset'))
from generate import rle_compress, rle_counts, rle_decode, rle_decompress  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import loss as L  # noqa: E402
from data import collate  # noqa: E402
from loss import crop_mask, decode, encode, match, point_form, yolact_loss  # noqa: E402
from model import Yolact, level_sizes, make_priors  # noqa: E402
from average import mean_state  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print('ok ', what)


def reference_loss(out, priors, boxes, labels, masks, semantic):
    """The loss image by image (per-image lists of GT), the plain way: what yolact_loss
    computes for the whole padded batch at once. All positives get a mask loss here, so
    compare on images with at most MASKS_TO_TRAIN positives."""
    loc_p, conf_p, coef_p, proto, sem_p = out
    B, N, _ = loc_p.shape
    conf_ts, loc_ts, idx_ts = [], [], []
    for b in range(B):
        conf_t, idx_t = match(boxes[b], labels[b], point_form(priors))
        conf_ts.append(conf_t)
        idx_ts.append(idx_t)
        loc_ts.append(encode(boxes[b][idx_t], priors) if len(boxes[b]) else torch.zeros(N, 4))
    conf_t, loc_t = torch.stack(conf_ts), torch.stack(loc_ts)
    pos = conf_t > 0
    norm = max(int(pos.sum()), 1)
    loss_b = F.smooth_l1_loss(loc_p[pos], loc_t[pos], reduction='sum') * L.BBOX_ALPHA
    loss_c = 0.0
    for b in range(B):  # OHEM per image: the 3·positives highest background losses
        bg = torch.logsumexp(conf_p[b], 1) - conf_p[b, :, 0]
        bg = bg.masked_fill(pos[b] | (conf_t[b] < 0), -1e9)
        n_neg = min(L.NEG_POS_RATIO * int(pos[b].sum()), N - 1)
        neg = torch.zeros(N, dtype=torch.bool)
        neg[bg.argsort(descending=True)[:n_neg]] = True
        sel = pos[b] | (neg & (conf_t[b] >= 0))
        loss_c = loss_c + F.cross_entropy(conf_p[b][sel], conf_t[b][sel].clamp(min=0), reduction='sum')
    loss_m = 0.0
    P = proto.shape[1]
    for b in range(B):
        for i in torch.nonzero(pos[b]).squeeze(1).tolist():
            g = int(idx_ts[b][i])
            logits = proto[b] @ coef_p[b, i]                                  # [P, P]
            bce = F.binary_cross_entropy_with_logits(logits, masks[b][g].float(), reduction='none')
            bce = bce * crop_mask(bce[:, :, None], boxes[b][g:g + 1])[:, :, 0]
            w = max(float((boxes[b][g, 2] - boxes[b][g, 0]) * P), 1.0)
            h = max(float((boxes[b][g, 3] - boxes[b][g, 1]) * P), 1.0)
            loss_m = loss_m + bce.sum() / w / h
    S = sem_p.shape[-1]
    loss_s = F.binary_cross_entropy_with_logits(sem_p, semantic.float(), reduction='sum') / (S * S)
    return {'B': loss_b / norm, 'C': loss_c * L.CONF_ALPHA / norm, 'M': loss_m * L.MASK_ALPHA / norm,
            'S': loss_s * L.SEMANTIC_ALPHA / B}


def main():
    torch.set_num_threads(1)
    # level sizes and prior counts (MODELS.md: 550 → 69, 35, 18, 9, 5; 19248 priors)
    check(level_sizes(550) == [69, 35, 18, 9, 5], 'P3..P7 sizes at 550')
    check(level_sizes(384) == [48, 24, 12, 6, 3], 'P3..P7 sizes at 384')
    p = make_priors(550)
    check(p.shape == (19248, 4), '19248 priors at 550')
    # prior index off_l + (j*S + i)*3 + a; level 0, j=1, i=2, a=1 (ar 1/2): w = 24*sqrt(.5)/550
    row = p[(1 * 69 + 2) * 3 + 1].tolist()
    want = [2.5 / 69, 1.5 / 69, 24 * math.sqrt(0.5) / 550, 24 * math.sqrt(0.5) / 550]
    check(np.allclose(row, want, atol=1e-7), f'prior P3 j=1 i=2 a=1 = {want}')
    off = 3 * (69 * 69 + 35 * 35 + 18 * 18 + 9 * 9)  # first P7 prior
    want = [0.5 / 5, 0.5 / 5, 384 / 550, 384 / 550]
    check(np.allclose(p[off].tolist(), want, atol=1e-7), 'first P7 prior')
    # encode / decode round trip
    pri = torch.tensor([[0.5, 0.5, 0.2, 0.2], [0.3, 0.6, 0.1, 0.1]])
    gt = torch.tensor([[0.42, 0.38, 0.61, 0.66], [0.2, 0.5, 0.35, 0.7]])
    check(torch.allclose(decode(encode(gt, pri), pri), gt, atol=1e-6), 'encode/decode round trip')
    d = encode(gt[:1], pri[:1])[0].tolist()
    want = [((0.42 + 0.61) / 2 - 0.5) / (0.1 * 0.2), ((0.38 + 0.66) / 2 - 0.5) / (0.1 * 0.2),
            math.log(0.19 / 0.2) / 0.2, math.log(0.28 / 0.2) / 0.2]
    check(np.allclose(d, want, atol=1e-5), 'encoded deltas by hand')
    # matching: IoU >= .5 positive, < .4 negative, in between neutral, best prior forced
    priors = torch.tensor([[0.25, 0.25, 0.5, 0.5], [0.30, 0.25, 0.5, 0.5], [0.45, 0.25, 0.5, 0.5],
                           [0.9, 0.9, 0.1, 0.1]])
    boxes = torch.tensor([[0.0, 0.0, 0.5, 0.5]])
    conf_t, idx = match(boxes, torch.tensor([7]), point_form(priors))
    # IoUs: 1.0, (.45*.5)/(.25+.25-.225)=.818, (.3*.5)/(.5-.15)=.4286, 0
    check(conf_t.tolist() == [7, 7, -1, 0], f'match labels {conf_t.tolist()}')
    conf_t, _ = match(torch.tensor([[0.86, 0.86, 0.9, 0.9]]), torch.tensor([3]), point_form(priors))
    check(conf_t.tolist() == [0, 0, 0, 3], 'tiny GT keeps its best prior')
    # crop with 1 px padding: box x 0.25..0.5 on 8 px → cols 1..4 (2-1 ≤ c < 4+1)
    c = crop_mask(torch.zeros(8, 8, 1), torch.tensor([[0.25, 0.0, 0.5, 1.0]]))
    check(c[0, :, 0].tolist() == [0, 1, 1, 1, 1, 0, 0, 0], 'crop padding 1 in proto space')
    # RLE (COCO: column-major, starts with zeros)
    m = np.array([[0, 1, 1], [0, 1, 0]], np.uint8)
    check(rle_counts(m) == [2, 3, 1], f'rle counts {rle_counts(m)}')
    check(rle_compress([2, 3, 1]) == '231', 'compressed small counts')
    # 100 → 5-bit groups 4 (|0x20) and 3: chars '$'+48='T', '3'; delta coding from i=3
    check(rle_compress([100]) == 'T3', 'compressed 100')
    check(rle_compress([0, 5, 3, 5]) == '0530', 'delta vs two back (5 - 5 = 0)')
    check(rle_compress([0, 5, 3, 4]) == '053O', 'negative delta -1 → "O"')
    rng = np.random.default_rng(0)
    for t in range(20):
        mm = (rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < rng.random()).astype(np.uint8)
        s = rle_compress(rle_counts(mm))
        assert rle_decompress(s) == rle_counts(mm)
        assert (rle_decode({'size': list(mm.shape), 'counts': s}) == mm).all()
    check(True, 'RLE round trips on 20 random masks')
    # checkpoint mean (average.py): floats averaged in fp32 (fp16 inputs too), counters from the last
    a = {'w': torch.tensor([1.0, 2.0]), 'n': torch.tensor(3)}
    b = {'w': torch.tensor([3.0, 6.0], dtype=torch.float16), 'n': torch.tensor(5)}
    ab = mean_state([a, b])
    check(ab['w'].tolist() == [2.0, 4.0] and ab['w'].dtype == torch.float32 and int(ab['n']) == 5,
          'mean of two checkpoints')
    check(mean_state([a])['w'].tolist() == [1.0, 2.0], 'mean of one checkpoint is itself')
    # model output shapes at 550
    out = Yolact(64).eval()(torch.zeros(1, 3, 550, 550))
    check([tuple(o.shape) for o in out[:4]] == [(1, 19248, 4), (1, 19248, 81), (1, 19248, 32), (1, 138, 138, 32)],
          'model outputs at 550')
    # the batched loss equals the loss computed image by image (3 images: 4, 0 and 2 objects)
    torch.manual_seed(0)
    size, proto_side, p3 = 384, 96, 48
    model = Yolact(64).train()
    x = torch.randn(3, 3, size, size)
    items = []
    for n in (4, 0, 2):
        xy = torch.rand(n, 2) * 0.6
        wh = 0.1 + torch.rand(n, 2) * 0.3
        bx = torch.cat([xy, xy + wh], 1)
        lb = torch.randint(1, 81, (n,))
        mk = (torch.rand(n, proto_side, proto_side) < 0.3).to(torch.uint8)
        items.append((x[len(items)], bx, lb, mk, (torch.rand(80, p3, p3) < 0.01).to(torch.uint8)))
    xb, boxes, labels, masks, valid, semantic = collate(items)
    out = model(xb)
    priors = make_priors(size)
    got, num_pos = yolact_loss(out, priors, boxes, labels, masks, valid, semantic)
    check(0 < num_pos and all(int((match(it[1], it[2], point_form(priors))[0] > 0).sum()) <= L.MASKS_TO_TRAIN
                              for it in items), f'{num_pos} positives, at most {L.MASKS_TO_TRAIN} an image')
    want = reference_loss(out, priors, [it[1] for it in items], [it[2] for it in items], [it[3] for it in items],
                          semantic)
    for k in 'BCMS':
        check(math.isclose(float(got[k]), float(want[k]), rel_tol=1e-4), f'batched loss {k} = per image '
              f'({float(got[k]):.5f} vs {float(want[k]):.5f})')
    # gradients flow through every output the loss uses
    sum(got.values()).backward()
    check(all(p.grad is not None and p.grad.abs().sum() > 0 for p in (model.head.conf.weight, model.head.bbox.weight,
                                                                     model.head.coef.weight, model.semantic.weight)),
          'gradients reach the class, box, coefficient and semantic heads')
    print('all checks passed')


if __name__ == '__main__':
    main()
