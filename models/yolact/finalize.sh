#!/bin/sh
# Export ONNX + manifests from the latest checkpoint and draw the loss curve and a
# predictions picture.
#   sh models/yolact/finalize.sh [CSV:BATCH[:LAST_STEP] ...]
# The arguments are the training phases of the loss curve (models/plot_losses.py); the
# default is the bundled models' history: runs main and pre on the CPU, gpu and gpu2 on
# a GPU, then cpu4, cpu5 and cpu6 on the CPU.
set -e
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
$PY models/yolact/export.py --ckpt models/yolact/checkpoints/latest.pt --variants 550,384
R=models/yolact/runs
if [ $# -eq 0 ]; then
  set -- $R/main/losses.csv:8:2395 $R/pre/losses.csv:8:4483 $R/gpu/losses.csv:32 $R/gpu2/losses.csv:64 \
    $R/cpu4/losses.csv:8 $R/cpu5/losses.csv:8 $R/cpu6/losses.csv:8
fi
if [ -f "${1%%:*}" ]; then
  $PY models/plot_losses.py yolact models/yolact/loss_curve.png "$@"
fi
if [ -f models/data/emoji-coco/annotations/instances_val.json ]; then
  $PY models/yolact/evaluate.py --ckpt models/yolact/checkpoints/latest.pt --size 550 --limit 0 \
    --picture models/yolact/predictions.png
fi
