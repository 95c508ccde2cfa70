#!/usr/bin/env bash
# Everything dslearn measures on a lent GPU, in one go (under 10 minutes on one H100/H200):
#
#   1. a 12-step `small` smoke run per precision (auto, then fp16, fp32 if one fails), a
#      torchrun/NCCL smoke run, and the CUDA unit tests, while two corpora are synthesized;
#   2. two `small` training runs side by side on the one GPU for MINUTES minutes each
#      (a 5.8 M-parameter GRU model leaves most of an H100 idle, so two share it well):
#        A: a 30-hour corpus, 800-second batches, lr 3e-3;
#        B: notebook 05's full-mode settings (10-hour corpus, 200-second batches, lr 3e-3);
#   3. greedy WER/CER of each on its corpus' test split (`dslearn eval`; the best checkpoints
#      come back to OUT in parts under 16 MiB, `cat A_best.part.* > best.safetensors`, so the
#      other splits can be evaluated anywhere);
#   4. benchmarks/train_throughput.py (MFU, the torchaudio baseline) and inference_rtf.py.
#
# What it measured on an H200 on 2026-11-26 is in docs/benchmarks.md (the GPU sections).
#
# Usage, from the repository root:  OUT=runs/gpu bash benchmarks/gpu_run.sh
# Knobs (environment): MINUTES (4.5), HOURS_A (30), HOURS_B (10), DEVICE (cuda), WORK (/tmp/dsgpu),
# PYTHON (python3), TT_ARGS (extra train_throughput.py options), SOLO=1 (run B alone: no 30-hour
# corpus, no run A; the whole GPU for B), BENCH=0 (skip step 4). A `.whl/` folder of wheels, if
# present, is installed first (the device machines lack soundfile and espeakng-loader).
set -u
OUT=${OUT:-runs/gpu}
W=${WORK:-/tmp/dsgpu}
MIN=${MINUTES:-4.5}
DEV=${DEVICE:-cuda}
if [ "${SOLO:-0}" = 1 ]; then RUNS="B"; else RUNS="A B"; fi
PY=${PYTHON:-python3}
. "$(dirname "$0")/gpu_lib.sh"
gpu_setup || exit 2

stamp synthesize: smoke corpus, then 10 h seed 0 and 30 h seed 2 in the background
$DS synth --out "$W/c0" --hours 0.05 --seed 5 --overwrite > "$W/synth0.log" 2>&1 || exit 2
( $DS synth --out "$W/c10" --hours "${HOURS_B:-10}" --seed 0 --overwrite > "$W/synth10.log" 2>&1
  [ "$RUNS" = B ] || \
    $DS synth --out "$W/c30" --hours "${HOURS_A:-30}" --seed 2 --overwrite > "$W/synth30.log" 2>&1
) &
SYN=$!

stamp smoke runs
PREC=""
for p in auto fp16 fp32; do
  if timeout 120 $DS train --preset small --train "$W/c0/train.jsonl" --valid "$W/c0/dev.jsonl" \
      --out "$W/smoke_$p" --max-steps 12 --eval-every 12 --batch-seconds 60 --warmup-steps 4 \
      --log-every 4 --device "$DEV" --precision $p --no-progress > "$W/smoke_$p.log" 2>&1; then
    PREC=$p; tail -3 "$W/smoke_$p.log"; break
  fi
  echo "smoke precision $p FAILED:"; tail -25 "$W/smoke_$p.log"
done
[ -n "$PREC" ] || { echo "no precision trains: stopping"; kill $SYN; exit 3; }
echo "precision for the runs: $PREC"
if timeout 120 $PY -m torch.distributed.run --standalone --nproc_per_node=1 -m dslearn train \
    --preset small --train "$W/c0/train.jsonl" --valid "$W/c0/dev.jsonl" --out "$W/smoke_ddp" \
    --max-steps 10 --eval-every 10 --batch-seconds 60 --warmup-steps 4 --log-every 5 \
    --precision "$PREC" --no-progress > "$W/smoke_ddp.log" 2>&1; then
  echo "torchrun (NCCL) smoke: OK"; grep -i -m3 "nccl\|world\|rank" "$W/smoke_ddp.log"
else
  echo "torchrun (NCCL) smoke FAILED:"; tail -25 "$W/smoke_ddp.log"
fi
timeout 120 $PY -m pytest -q -p no:cacheprovider -m gpu tests/test_features.py 2>&1 | tail -5
wait $SYN || { echo "synthesis FAILED"; tail -n 20 "$W"/synth*.log; exit 4; }
tail -n 2 "$W"/synth*.log

stamp "training $RUNS, $MIN minutes each"
common=(--preset small --max-minutes "$MIN" --lr 3e-3 --warmup-steps 300 --eval-every 500
        --log-every 25 --num-workers 6 --precision "$PREC" --device "$DEV" --no-progress)
LIMIT=$($PY -c "print(int($MIN * 60 + 120))")  # SIGTERM after that: the trainer saves and stops
PIDS=()
if [ "$RUNS" != B ]; then
  timeout $LIMIT $DS train "${common[@]}" --train "$W/c30/train.jsonl" --valid "$W/c30/dev.jsonl" \
    --out "$W/A" --batch-seconds 800 --max-batch-size 320 > "$W/A.log" 2>&1 &
  PIDS+=($!)
fi
timeout $LIMIT $DS train "${common[@]}" --train "$W/c10/train.jsonl" --valid "$W/c10/dev.jsonl" --out "$W/B" \
  --batch-seconds 200 > "$W/B.log" 2>&1 &
PIDS+=($!)
for p in "${PIDS[@]}"; do wait "$p"; echo "training process $p exit $?"; done
for r in $RUNS; do echo "--- $r"; tail -4 "$W/$r.log"; tail -2 "$W/$r/metrics.jsonl"; done
nvidia-smi --query-gpu=name,clocks.sm,temperature.gpu --format=csv || true

stamp evaluation
# (wait with no arguments would also wait for the tee above)
EPIDS=()
[ "$RUNS" = B ] || { gpu_evals A "$DEV" c30/test & EPIDS+=($!); }
gpu_evals B "$DEV" c10/test & EPIDS+=($!)
wait "${EPIDS[@]}"
cat "$W"/eval_*.jsonl

gpu_pack $RUNS

if [ "${BENCH:-1}" = 1 ]; then
stamp throughput benchmarks
timeout 120 $PY benchmarks/train_throughput.py --manifest "$W/c10/train.jsonl" --device "$DEV" \
  --json "$OUT/train_throughput.json" ${TT_ARGS:---precisions bf16 fp32 --steps 5 --warmup 2}
timeout 50 $PY benchmarks/inference_rtf.py --manifest "$W/c10/test.jsonl" -n 100 --threads 1 \
  --json "$W/inference_rtf.json" && cp "$W/inference_rtf.json" "$OUT/" 2>/dev/null
fi
stamp summary
gpu_summary $RUNS
stamp done
