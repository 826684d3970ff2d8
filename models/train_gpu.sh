#!/bin/bash
# Continue training the bundled YOLACT and Mask R-CNN on one CUDA GPU, both at once.
#
#     bash models/train_gpu.sh MINUTES [SCHEDULE_MINUTES]
#     bash models/train_gpu.sh until:SECONDS [SCHEDULE_MINUTES]
#
# until:SECONDS trains for what is left of SECONDS after this script started, less a
# minute to save and copy the results: the form for a device call with a fixed limit,
# whatever the set-up before the training took.
#
# This is the recipe the bundled models' GPU phases ran with (models/yolact/README.md,
# models/maskrcnn/README.md). Each call trains for MINUTES of wall time and can be called
# again: it resumes runs/$GPU_RUN/state.pt of each model when the machine still has it.
# The learning rate follows a cosine over SCHEDULE_MINUTES of training time (default 20),
# counted across calls. A first call starts from the weights in
# models/*/checkpoints/latest.pt (or from GPU_INIT_DIR/<model>-latest.pt where a
# machine was lost between calls).
#
# Settings (environment): MODELS (default "yolact maskrcnn"), GPU_RUN (the run folder,
# default gpu), YOLACT_BATCH (32), YOLACT_LR (2e-3), YOLACT_WORKERS (9),
# YOLACT_SIZE_WEIGHTS (equal), GPU_TRAIN_IMAGES (6000: how many training images to generate;
# the first 6000 of any count are the CPU's 6000).
#
# The bundled models' GPU phase 1 was `bash models/train_gpu.sh 8 17.5`, three calls.
# YOLACT's phase 2 did not run through this script: generating the dataset on the GPU
# machine did not finish in 300 s (see models/yolact/README.md, "Training"), so it ran
# train.py on the first 2150 training images, carried to the machine.
#
# What it needs beside the repo: python3 with torch (CUDA), torchvision, OpenCV, Pillow;
# ../shared/emoji-coco.json, Noto Color Emoji and the Debian photos the dataset generator
# uses. On a bare machine those come from GPU_ASSETS_DIR (default .gpu/): emoji-coco.json
# and assets.tar (the font and photos at their /usr/share paths, `tar -ch`).
# Results (fp16 weights, full states, losses) are copied to $OUT (default /tmp/gpu-out).
set -euo pipefail
cd "$(dirname "$0")/.."
STARTED=$(date +%s)
MINUTES=${1:?minutes of wall time for this call}
SCHEDULE=${2:-20}
ASSETS=${GPU_ASSETS_DIR:-.gpu}
INIT_DIR=${GPU_INIT_DIR:-$ASSETS}
OUT=${OUT:-/tmp/gpu-out}
# the dataset on the machine's own disk, not in the repository's copy
DATA=${GPU_DATA_DIR:-/tmp/emoji-coco}
PY=${PYTHON:-python3}  # one with torch
MODELS=${MODELS:-yolact maskrcnn}
RUN=${GPU_RUN:-gpu}
has() { [[ " $MODELS " == *" $1 "* ]]; }
export PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT" models/yolact/runs models/maskrcnn/runs
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c 'import torch, torchvision, cv2, PIL; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "torchvision", torchvision.__version__, "cv2", cv2.__version__, "PIL", PIL.__version__)'

# 1. what the dataset generator reads outside the repo
[ -f ../shared/emoji-coco.json ] || { mkdir -p ../shared; cp "$ASSETS/emoji-coco.json" ../shared/; }
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || tar -xf "$ASSETS/assets.tar" -C /

# the CPU-trained weights a first call starts from (the smoke run below overwrites latest.pt)
for m in $MODELS; do [ -f /tmp/cpu-$m-latest.pt ] || cp models/$m/checkpoints/latest.pt /tmp/cpu-$m-latest.pt; done

# 2. a 20-second smoke run of both trainings on a tiny dataset, so that a broken setup
#    fails before the long steps
if [ ! -f "$DATA/annotations/instances_train.json" ]; then
  rm -rf /tmp/gpu-smoke
  timeout 120 $PY models/dataset/generate.py --train 32 --val 4 --out /tmp/gpu-smoke --workers 16
  ! has yolact || $PY models/yolact/train.py --device "${GPU_DEVICE:-cuda}" --data /tmp/gpu-smoke --run gpu-smoke \
    --init /tmp/cpu-yolact-latest.pt --batch 8 --sizes 384,550 --stop-minutes 0.03 --eval-every 0 --no-export \
    --workers 2 --threads 2
  ! has maskrcnn || $PY models/maskrcnn/train.py --device "${GPU_DEVICE:-cuda}" --data /tmp/gpu-smoke --run gpu-smoke \
    --init /tmp/cpu-maskrcnn-latest.pt --batch 4 --sizes 384,512 --stop-minutes 0.03 --eval-every 0 --no-export \
    --workers 2 --threads 2 --ckpt-name gpu-smoke
  rm -rf models/*/runs/gpu-smoke models/maskrcnn/checkpoints/gpu-smoke.pt

  # 3. the dataset: the CPU's training images (same seeds), GPU_TRAIN_IMAGES of them
  #    (326 s on the GPU machine in session 3, over 300 s in session 4: generate.py capped
  #    --workers at 2, this machine's cores, whatever was asked; the cap is now the core
  #    count, so 16 workers at 75 ms an image should take about 30 s: not yet run there)
  time OMP_NUM_THREADS=1 timeout 900 $PY models/dataset/generate.py --train "${GPU_TRAIN_IMAGES:-6000}" --val 8 \
    --workers "$(nproc)" --out "$DATA"
fi

# 4. both trainings at once, each resuming its GPU run if this machine has it
start_arg() {  # model → --resume | --init <weights>
  if [ -f "models/$1/runs/$RUN/state.pt" ]; then echo --resume
  elif [ -f "$INIT_DIR/$1-latest.pt" ]; then echo "--init $INIT_DIR/$1-latest.pt"
  else echo "--init /tmp/cpu-$1-latest.pt"; fi
}
if [[ $MINUTES == until:* ]]; then
  MINUTES=$($PY -c "print(round(max(0.5, (${MINUTES#until:} - ($(date +%s) - $STARTED) - 60) / 60), 2))")
  echo "training for $MINUTES minutes"
fi
SECS=$($PY -c "print(int($MINUTES * 60) + 45)")  # a backstop: --wall-minutes stops each run
common="--data $DATA --device ${GPU_DEVICE:-cuda} --wall-minutes $MINUTES --run $RUN --minutes $SCHEDULE --ckpt-minutes 1 --eval-every 0 --no-export --threads 2"
pids=()
if has yolact; then
  timeout -s TERM -k 60 "$SECS" $PY models/yolact/train.py $common $(start_arg yolact) \
    --batch "${YOLACT_BATCH:-32}" --sizes 384,448,512,550 ${YOLACT_SIZE_WEIGHTS:+--size-weights $YOLACT_SIZE_WEIGHTS} \
    --lr "${YOLACT_LR:-2e-3}" --warmup 300 --workers "${YOLACT_WORKERS:-9}" > models/yolact/runs/$RUN.log 2>&1 &
  pids+=($!)
fi
if has maskrcnn; then
  timeout -s TERM -k 60 "$SECS" $PY models/maskrcnn/train.py $common $(start_arg maskrcnn) \
    --batch 16 --sizes 384,448,512 --lr 2e-3 --warmup 200 --workers 5 > models/maskrcnn/runs/$RUN.log 2>&1 &
  pids+=($!)
fi
# the fp16 weights go to $OUT every minute too, in case the lease ends before this script does
( while sleep 60; do for m in $MODELS; do cp -f models/$m/checkpoints/latest.pt "$OUT/$m-latest.pt" 2>/dev/null; done; done ) &
C=$!
for p in "${pids[@]}"; do wait "$p" || echo "a training exited with $?"; done
kill $C 2>/dev/null || true

# 5. results back
for m in $MODELS; do
  tail -n 3 models/$m/runs/$RUN.log
  cp models/$m/checkpoints/latest.pt "$OUT/$m-latest.pt"
  split -b 15M models/$m/runs/$RUN/state.pt "$OUT/$m-state.part-"
  tar -rf "$OUT/logs.tar" models/$m/runs/$RUN.log models/$m/runs/$RUN/losses.csv
done
ls -la "$OUT"
