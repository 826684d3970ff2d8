#!/bin/sh
# Export ONNX + manifest from the latest checkpoint, draw the loss curve and the predictions
# picture.  Usage: sh models/yoloseg/finalize.sh [run name, default main]
set -e
cd "$(dirname "$0")/../.."
RUN="${1:-main}"
PY=/usr/bin/python3
$PY models/yoloseg/export.py --ckpt models/yoloseg/checkpoints/latest.pt --sizes 416
if [ -f "models/yoloseg/runs/$RUN/losses.csv" ]; then
  $PY models/yoloseg/plot_losses.py "models/yoloseg/runs/$RUN/losses.csv" models/yoloseg/loss_curve.png
fi
if [ -f models/data/emoji-coco/annotations/instances_val.json ]; then
  $PY models/yoloseg/evaluate.py --ckpt models/yoloseg/checkpoints/latest.pt --size 416 --limit 0 \
    --picture models/yoloseg/predictions.png
fi
