#!/usr/bin/env bash
# More training for the shipped `small` model on a lent GPU (under 10 minutes on one H100/H200):
# two runs side by side, each starting from the shipped weights with a fresh optimizer and a new
# warm-up + cosine cycle (`dslearn train --init-from pretrained`):
#   C: the shipped model's own corpus (10 h, --seed 0);
#   D: the same plus a 30-hour corpus (--seed 2), minus its utterances whose sentence is a dev or
#      test sentence of the 10-hour corpus, so test stays unseen text.
# A `small` step is bound by kernel launches, not arithmetic, so two runs share one GPU well
# (docs/benchmarks.md, GPU sections). Then greedy WER/CER on the 10-hour corpus's test and
# test-unseen-voices splits; the best checkpoints come back to OUT in parts under 16 MiB
# (packed before the evaluation, which can also run off the GPU).
#
# Usage, from the repository root:  OUT=runs/gpu2 bash benchmarks/gpu_continue.sh
# Knobs (environment): MINUTES (7), LR (1.5e-3), RUNS ("C D"), DEVICE (cuda), WORK (/tmp/dsgpu),
# PYTHON (python3), HOURS (10), HOURS_EXTRA (30), NUM_WORKERS (5), BATCH_SECONDS (200),
# EVAL_EVERY (1000). A CPU dry run: DEVICE=cpu MINUTES=0.2 HOURS=0.05 HOURS_EXTRA=0.05 NUM_WORKERS=0
set -u
OUT=${OUT:-runs/gpu2}
W=${WORK:-/tmp/dsgpu}
MIN=${MINUTES:-7}
DEV=${DEVICE:-cuda}
RUNS=${RUNS:-C D}
PY=${PYTHON:-python3}
. "$(dirname "$0")/gpu_lib.sh"
gpu_setup || exit 2

stamp "synthesize ${HOURS:-10} h (seed 0) and ${HOURS_EXTRA:-30} h (seed 2)"
$DS synth --out "$W/c10" --hours "${HOURS:-10}" --seed 0 --overwrite > "$W/synth10.log" 2>&1 &
S1=$!
if [[ " $RUNS " == *" D "* ]]; then
  $DS synth --out "$W/c30" --hours "${HOURS_EXTRA:-30}" --seed 2 --overwrite \
    > "$W/synth30.log" 2>&1 &
  S2=$!
  wait $S2 || { echo "synthesis FAILED"; tail -n 20 "$W/synth30.log"; exit 4; }
fi
wait $S1 || { echo "synthesis FAILED"; tail -n 20 "$W/synth10.log"; exit 4; }
tail -n 1 "$W"/synth*.log
if [[ " $RUNS " == *" D "* ]]; then
  $PY - "$W" <<'PYEOF' || exit 5
import sys
from pathlib import Path
from dslearn.data import read_manifest, write_manifest
w = Path(sys.argv[1])
held_out = {u.text for s in ("dev", "test", "test-unseen-voices") for u in read_manifest(w / "c10" / f"{s}.jsonl")}
base = read_manifest(w / "c10" / "train.jsonl")
extra = read_manifest(w / "c30" / "train.jsonl")
kept = [u for u in extra if u.text not in held_out]
write_manifest(w / "c40_train.jsonl", base + kept)
hours = sum(u.duration for u in base + kept) / 3600
print(f"C+D training set: {len(base)} + {len(kept)} utterances ({len(extra) - len(kept)} of the "
      f"30 h corpus dropped: a 10 h dev/test sentence), {hours:.1f} h")
PYEOF
fi

stamp "training $RUNS from the shipped model, $MIN minutes each"
common=(--preset small --init-from pretrained --max-minutes "$MIN" --lr "${LR:-1.5e-3}"
        --warmup-steps 200 --eval-every "${EVAL_EVERY:-1000}" --log-every 25
        --batch-seconds "${BATCH_SECONDS:-200}" --num-workers "${NUM_WORKERS:-5}" --precision auto
        --device "$DEV" --no-progress --valid "$W/c10/dev.jsonl")
LIMIT=$($PY -c "print(int($MIN * 60 + 90))")  # SIGTERM after that: the trainer saves and stops
PIDS=()
for r in $RUNS; do
  if [ "$r" = C ]; then train="$W/c10/train.jsonl"; else train="$W/c40_train.jsonl"; fi
  timeout $LIMIT $DS train "${common[@]}" --train "$train" --out "$W/$r" > "$W/$r.log" 2>&1 &
  PIDS+=($!)
done
for p in "${PIDS[@]}"; do wait "$p"; echo "training process $p exit $?"; done
for r in $RUNS; do echo "--- $r"; tail -3 "$W/$r.log"; done
nvidia-smi --query-gpu=name,clocks.sm,temperature.gpu --format=csv || true

gpu_pack $RUNS  # the checkpoints first: they can be evaluated anywhere if time runs out

stamp evaluation
EPIDS=()
for r in $RUNS; do  # (wait with no arguments would also wait for the tee above)
  gpu_evals "$r" "$DEV" c10/test c10/test-unseen-voices & EPIDS+=($!)
done
wait "${EPIDS[@]}"
gpu_pack $RUNS
stamp summary
gpu_summary $RUNS
stamp done
