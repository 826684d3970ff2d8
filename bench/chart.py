#!/usr/bin/env python3
"""Draws the benchmark chart from a results JSON (bench/run.ts writes it).

usage: /usr/bin/python3 bench/chart.py bench/results/bench-full.json bench/results/chart.png

Ten panels: stage breakdown of the app's runners (medians, stacked), post-processing
paths 1-4 on identical REAL model outputs (median, IQR whiskers), bytes read back, cost
against candidates, kept instances and mask resolution (synthetic YOLACT-550), paths 1-4
against the instance count (synthetic YOLO-seg), Fast vs greedy mask AP, and path 5 (the
official Ultralytics runtime) against ours: time on the same frames and GPU -> CPU bytes. Times are
milliseconds; log scales where the spread calls for it.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PATHS = [("gpu-fast", "1 ours, Fast NMS", "#2a9d8f"), ("gpu-greedy", "2 ours, greedy NMS", "#e9c46a"), ("cpu", "3 CPU way", "#e76f51")]
PEER = ("peer", "4 peer's graphs (YOLO-seg)", "#6d597a")


def path_summary(row, pid):
    """A path's summary in a paths/scaling/yoloSeg row (path 4 sits beside `paths`)."""
    return row.get("peer") if pid == "peer" else row["paths"][pid]
STAGES = ["upload", "preprocess", "inference", "decode", "nms", "masks", "readback", "draw"]
STAGE_COLOURS = ["#8ecae6", "#219ebc", "#023047", "#90be6d", "#f9c74f", "#f8961e", "#f94144", "#9d4edd"]


def med(s):
    return s["median"] if s else 0.0


def err(s):
    return [[max(0.0, s["median"] - s["q1"])], [max(0.0, s["q3"] - s["median"])]]


def main(src, dst):
    r = json.load(open(src))
    fig, axes = plt.subplots(2, 5, figsize=(30, 10))
    sw = r["info"]["adapter"]
    fig.suptitle(
        f"SegArena benchmark ({r['plan']['mode']}, R={r['plan']['reps']}, commit {r['commit']}) - adapter {sw['vendor']}/{sw['architecture']}"
        + (" = SwiftShader, a CPU emulation of a GPU: compare ratios, not absolute times" if sw.get("isFallbackAdapter") else ""),
        fontsize=11,
    )

    # (a) pipeline stage breakdown: median over frames of each stage median.
    ax = axes[0][0]
    groups = {}
    for row in r["pipeline"]:
        groups.setdefault(f"{row['model']}\n{row['path']}", []).append(row)
    labels = list(groups)
    bottoms = [0.0] * len(labels)
    for stage, colour in zip(STAGES, STAGE_COLOURS):
        vals = []
        for label in labels:
            xs = sorted(med(row["stages"].get(stage)) for row in groups[label])
            vals.append(xs[len(xs) // 2] if xs else 0.0)
        ax.bar(labels, vals, bottom=bottoms, color=colour, label=stage)
        bottoms = [b + v for b, v in zip(bottoms, vals)]
    ax.set_title("App runners: where a frame's time goes (median over frames)")
    ax.set_ylabel("ms")
    ax.legend(fontsize=7, ncol=2)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=6, rotation=35, ha="right")

    # (b) paths on identical real outputs.
    ax = axes[0][1]
    rows = r["paths"]
    width = 0.2
    labelled = set()
    for k, (pid, name, colour) in enumerate(PATHS + [PEER]):
        for i, row in enumerate(rows):
            p = path_summary(row, pid)
            if not p:
                continue
            s = p["ms"]
            ax.bar(i + (k - 1.5) * width, s["median"], width, color=colour, yerr=err(s), capsize=2, label=None if pid in labelled else name)
            labelled.add(pid)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{row['model']}\n{row['frame'].replace('samples/', '')}" for row in rows], fontsize=6, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.set_title("Post-processing on identical REAL model outputs (median, IQR)")
    ax.legend(fontsize=7)

    # (c) bytes read back.
    ax = axes[0][2]
    for k, (pid, name, colour) in enumerate([PATHS[0], PATHS[2], PEER]):
        pts = [(i + (k - 1) * 0.27, path_summary(row, pid)) for i, row in enumerate(rows)]
        pts = [(x, p["bytesReadBack"]) for x, p in pts if p]
        if pts:
            ax.bar([x for x, _ in pts], [b for _, b in pts], 0.27, color=colour, label=name)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{row['model']}\n{row['frame'].replace('samples/', '')}" for row in rows], fontsize=6, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("bytes read back per frame (log)")
    ax.set_title("GPU -> CPU bytes per frame (real outputs)")
    ax.legend(fontsize=7)

    # (d-f) scaling.
    for ax, axis, xlabel in [
        (axes[1][0], "candidates", "candidates above the confidence threshold"),
        (axes[1][1], "kept", "kept instances"),
        (axes[1][2], "mask", "mask (display) pixels"),
    ]:
        sc = [s for s in r["scaling"] if s["axis"] == axis]
        if not sc:
            ax.set_visible(False)
            continue
        if axis == "candidates":
            x = [s["candidates"] for s in sc]
        elif axis == "kept":
            x = [s["paths"]["gpu-fast"]["instances"] for s in sc]
        else:
            x = [s["mask"][0] * s["mask"][1] for s in sc]
        for pid, name, colour in PATHS:
            y = [s["paths"][pid]["ms"]["median"] for s in sc]
            lo = [s["paths"][pid]["ms"]["q1"] for s in sc]
            hi = [s["paths"][pid]["ms"]["q3"] for s in sc]
            ax.plot(x, y, "o-", color=colour, label=name)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.2)
        if axis == "candidates":
            ax.set_xscale("log")
        if axis == "mask":
            ax.set_xticks(x)
            ax.set_xticklabels([f"{s['mask'][0]}x{s['mask'][1]}" for s in sc], fontsize=7)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms (log)")
        ax.set_title(f"Cost against {axis} (synthetic YOLACT-550)")
        ax.legend(fontsize=7)

    # (g) paths 1-4 against the instance count, synthetic YOLO-seg outputs.
    ax = axes[0][3]
    ys = r["yoloSeg"] if isinstance(r["yoloSeg"], list) else []
    if ys:
        x = [y["objects"] for y in ys]
        for pid, name, colour in PATHS + [PEER]:
            pts = [(xi, path_summary(y, pid)) for xi, y in zip(x, ys)]
            pts = [(xi, p["ms"]) for xi, p in pts if p]
            if not pts:
                continue
            ax.plot([p[0] for p in pts], [p[1]["median"] for p in pts], "o-", color=colour, label=name)
            ax.fill_between([p[0] for p in pts], [p[1]["q1"] for p in pts], [p[1]["q3"] for p in pts], color=colour, alpha=0.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("instances (objects kept)")
        ax.set_ylabel("ms (log)")
        ax.set_title("Paths 1-4 against instances (SYNTHETIC YOLO-seg 640)")
        ax.legend(fontsize=7)
    else:
        ax.set_visible(False)

    # (h) Fast vs greedy NMS accuracy.
    ax = axes[1][3]
    ev = [e for e in (r["eval"] if isinstance(r["eval"], list) else []) if not e.get("error") and e.get("maskAp") is not None]
    if ev:
        models = sorted({e["model"] for e in ev})
        for k, (nms, colour) in enumerate([("fast", "#2a9d8f"), ("greedy", "#e9c46a")]):
            xs, ys_ = [], []
            for i, m in enumerate(models):
                e = next((e for e in ev if e["model"] == m and e["nms"] == nms), None)
                if e:
                    xs.append(i + (k - 0.5) * 0.4)
                    ys_.append(e["maskAp"])
            ax.bar(xs, ys_, 0.4, color=colour, label=f"{nms} NMS")
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels([m.split("/")[-1].replace(".json", "") for m in models], fontsize=8)
        ax.set_ylabel("mask AP (val)")
        ax.set_title(f"Fast vs greedy NMS: mask AP on {ev[0]['images']} val images")
        ax.legend(fontsize=7)
    else:
        ax.set_visible(False)

    # (i) path 5, the official runtime, against ours on the same frames (its CPU device).
    # (j) GPU -> CPU bytes a frame: the official runtime on each device against our path 1.
    official = (r.get("official") or {}).get("result") or {}
    rows = official.get("rows") or []
    cpu = [x for x in rows if x["ranOn"] == "cpu"]
    ax = axes[0][4]
    if cpu:
        bars = [
            ("peer: whole frame", lambda x: x["peer"]["ms"], "#6d597a"),
            ("ours: runner, whole frame", lambda x: x["ours"]["runnerMs"], "#264653"),
            ("peer: post-processing", lambda x: x["peer"]["postprocess"], "#b56576"),
            ("ours: path 1", lambda x: x["ours"]["path1Ms"], "#2a9d8f"),
        ]
        w = 0.8 / len(bars)
        for k, (label, get, colour) in enumerate(bars):
            xs = [i + (k - (len(bars) - 1) / 2) * w for i in range(len(cpu))]
            ax.bar(xs, [max(med(get(x)), 1e-3) for x in cpu], w, color=colour, label=label)
        ax.set_xticks(range(len(cpu)))
        ax.set_xticklabels([x["frame"].split("/")[-1] for x in cpu], fontsize=7, rotation=15)
        ax.set_yscale("log")
        ax.set_ylabel("ms (log)")
        ax.set_title(f"Path 5: official runtime ({official.get('model', '?')}) vs ours, CPU inference")
        ax.legend(fontsize=7)
    else:
        ax.set_visible(False)
    ax = axes[1][4]
    if rows:
        labels, vals, colours = [], [], []
        for x in rows:
            labels.append(f"peer {x['ranOn']}\n{x['frame'].split('/')[-1]}")
            vals.append(max(x["peer"]["gpuBytesReadBack"], 1))
            colours.append("#6d597a")
        labels.append("ours: path 1")
        vals.append(max(rows[0]["ours"]["path1GpuBytesReadBack"], 1))
        colours.append("#2a9d8f")
        ax.bar(range(len(vals)), vals, color=colours)
        ax.set_xticks(range(len(vals)))
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("GPU -> CPU bytes a frame (log; 1 = none)")
        ax.set_title("Path 5: bytes read back from the GPU")
    else:
        ax.set_visible(False)

    fig.tight_layout(rect=[0, 0, 1, 0.96])
    fig.savefig(dst, dpi=80)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
