#!/bin/sh
# Export ONNX + manifests from the latest checkpoint and draw the loss curve and a
# predictions picture.  Usage: sh models/yolact/finalize.sh [run name, default main]
set -e
cd "$(dirname "$0")/../.."
RUN="${1:-main}"
PY=/usr/bin/python3
$PY models/yolact/export.py --ckpt models/yolact/checkpoints/latest.pt --variants 550,384
if [ -f "models/yolact/runs/$RUN/losses.csv" ]; then
  $PY models/yolact/plot_losses.py "models/yolact/runs/$RUN/losses.csv" models/yolact/loss_curve.png
fi
if [ -f models/data/emoji-coco/annotations/instances_val.json ]; then
  $PY models/yolact/evaluate.py --ckpt models/yolact/checkpoints/latest.pt --size 550 --limit 0 \
    --picture models/yolact/predictions.png
fi
