#!/bin/bash
# Continue training the bundled YOLACT and Mask R-CNN on one CUDA GPU, both at once.
#
#     bash models/train_gpu.sh MINUTES [SCHEDULE_MINUTES]
#
# This is the recipe the bundled models' GPU phase ran with (models/yolact/README.md,
# models/maskrcnn/README.md). Each call trains for MINUTES of wall time and can be called
# again: it resumes runs/gpu/state.pt of each model when the machine still has it. The
# learning rate follows a cosine over SCHEDULE_MINUTES of training time (default 20),
# counted across calls. A first call starts from the CPU-trained weights in
# models/*/checkpoints/latest.pt (or from GPU_INIT_DIR/<model>-latest.pt where a
# machine was lost between calls).
#
# What it needs beside the repo: python3 with torch (CUDA), torchvision, OpenCV, Pillow;
# ../shared/emoji-coco.json, Noto Color Emoji and the Debian photos the dataset generator
# uses. On a bare machine those come from GPU_ASSETS_DIR (default .gpu/): emoji-coco.json
# and assets.tar (the font and photos at their /usr/share paths, `tar -ch`).
# Results (fp16 weights, full states, losses) are copied to $OUT (default /tmp/gpu-out).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:?minutes of wall time for this call}
SCHEDULE=${2:-20}
ASSETS=${GPU_ASSETS_DIR:-.gpu}
INIT_DIR=${GPU_INIT_DIR:-$ASSETS}
OUT=${OUT:-/tmp/gpu-out}
DATA=models/data/emoji-coco
PY=${PYTHON:-python3}  # one with torch
export PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT" models/yolact/runs models/maskrcnn/runs
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c 'import torch, torchvision, cv2, PIL; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "torchvision", torchvision.__version__, "cv2", cv2.__version__, "PIL", PIL.__version__)'

# 1. what the dataset generator reads outside the repo
[ -f ../shared/emoji-coco.json ] || { mkdir -p ../shared; cp "$ASSETS/emoji-coco.json" ../shared/; }
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || tar -xf "$ASSETS/assets.tar" -C /

# the CPU-trained weights a first call starts from (the smoke run below overwrites latest.pt)
for m in yolact maskrcnn; do [ -f /tmp/cpu-$m-latest.pt ] || cp models/$m/checkpoints/latest.pt /tmp/cpu-$m-latest.pt; done

# 2. a 20-second smoke run of both trainings on a tiny dataset, so that a broken setup
#    fails before the long steps
if [ ! -f "$DATA/annotations/instances_train.json" ]; then
  rm -rf /tmp/gpu-smoke
  $PY models/dataset/generate.py --train 32 --val 4 --out /tmp/gpu-smoke --workers 16
  $PY models/yolact/train.py --device cuda --data /tmp/gpu-smoke --run gpu-smoke --init /tmp/cpu-yolact-latest.pt \
    --batch 8 --sizes 384,550 --stop-minutes 0.03 --eval-every 0 --no-export --workers 2 --threads 2
  $PY models/maskrcnn/train.py --device cuda --data /tmp/gpu-smoke --run gpu-smoke --init /tmp/cpu-maskrcnn-latest.pt \
    --batch 4 --sizes 384,512 --stop-minutes 0.03 --eval-every 0 --no-export --workers 2 --threads 2 --ckpt-name gpu-smoke
  rm -rf models/*/runs/gpu-smoke models/maskrcnn/checkpoints/gpu-smoke.pt

  # 3. the dataset: the same 6000 training images as on the CPU (same seeds)
  time $PY models/dataset/generate.py --train 6000 --val 8 --workers 16
fi

# 4. both trainings at once, each resuming its GPU run if this machine has it
start_arg() {  # model → --resume | --init <weights>
  if [ -f "models/$1/runs/gpu/state.pt" ]; then echo --resume
  elif [ -f "$INIT_DIR/$1-latest.pt" ]; then echo "--init $INIT_DIR/$1-latest.pt"
  else echo "--init /tmp/cpu-$1-latest.pt"; fi
}
SECS=$($PY -c "print(int($MINUTES * 60) + 90)")  # a backstop: --wall-minutes stops each run
common="--device ${GPU_DEVICE:-cuda} --wall-minutes $MINUTES --run gpu --minutes $SCHEDULE --ckpt-minutes 1 --eval-every 0 --no-export --threads 2"
timeout -s TERM -k 60 "$SECS" $PY models/yolact/train.py $common $(start_arg yolact) \
  --batch 32 --sizes 384,448,512,550 --lr 2e-3 --warmup 300 --workers 9 > models/yolact/runs/gpu.log 2>&1 &
Y=$!
timeout -s TERM -k 60 "$SECS" $PY models/maskrcnn/train.py $common $(start_arg maskrcnn) \
  --batch 16 --sizes 384,448,512 --lr 2e-3 --warmup 200 --workers 5 > models/maskrcnn/runs/gpu.log 2>&1 &
M=$!
# the fp16 weights go to $OUT every minute too, in case the lease ends before this script does
( while sleep 60; do for m in yolact maskrcnn; do cp -f models/$m/checkpoints/latest.pt "$OUT/$m-latest.pt" 2>/dev/null; done; done ) &
C=$!
wait $Y || echo "yolact training exited with $?"
wait $M || echo "maskrcnn training exited with $?"
kill $C 2>/dev/null || true
tail -n 3 models/yolact/runs/gpu.log models/maskrcnn/runs/gpu.log

# 5. results back
cp models/yolact/checkpoints/latest.pt "$OUT/yolact-latest.pt"
cp models/maskrcnn/checkpoints/latest.pt "$OUT/maskrcnn-latest.pt"
cp models/yolact/runs/gpu/state.pt "$OUT/yolact-state.pt"
split -b 15M models/maskrcnn/runs/gpu/state.pt "$OUT/maskrcnn-state.part-"
tar -czf "$OUT/logs.tar.gz" models/yolact/runs/gpu.log models/yolact/runs/gpu/losses.csv \
  models/maskrcnn/runs/gpu.log models/maskrcnn/runs/gpu/losses.csv
ls -la "$OUT"
