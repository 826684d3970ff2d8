#!/bin/sh
# After a training run: loss curve, export (+ the RoIPool fine-tune when there is one),
# ONNX vs PyTorch check, predictions picture, AP of both poolers on the val images.
#   sh models/maskrcnn/finalize.sh [run]          (LIMIT=N: first N val images, default 300)
set -e
cd "$(dirname "$0")/../.."
RUN=${1:-main}
PY="nice -n 10 /usr/bin/python3"
export OMP_WAIT_POLICY=PASSIVE
# loss curve: the CPU run main (batch 4, to step 780), then the GPU run (batch 16)
if [ "$RUN" = main ] && [ -f models/maskrcnn/runs/gpu/losses.csv ]; then
  $PY models/plot_losses.py maskrcnn models/maskrcnn/loss_curve.png models/maskrcnn/runs/main/losses.csv:4:780 \
    models/maskrcnn/runs/gpu/losses.csv:16
else
  $PY models/plot_losses.py maskrcnn models/maskrcnn/loss_curve.png "models/maskrcnn/runs/$RUN/losses.csv:4"
fi
POOL=""
if [ -f models/maskrcnn/checkpoints/roipool.pt ]; then POOL="--pool-ckpt models/maskrcnn/checkpoints/roipool.pt"; fi
$PY models/maskrcnn/export.py $POOL
$PY models/maskrcnn/verify_onnx.py
if [ -n "$POOL" ]; then
  $PY models/maskrcnn/verify_onnx.py --ckpt models/maskrcnn/checkpoints/roipool.pt --prefix maskrcnn-512-roipool
fi
$PY models/maskrcnn/evaluate.py --poolers align,pool $POOL --limit "${LIMIT:-300}" \
  --picture models/maskrcnn/predictions.png --out models/maskrcnn/accuracy-python.jsonl
