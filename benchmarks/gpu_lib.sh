# Shared by benchmarks/gpu_run.sh and benchmarks/gpu_continue.sh (source it; bash only).
# Expects OUT (results folder), W (scratch folder) and PY (python) to be set.

stamp() { echo "=== $(date +%T) $*"; }

# Create OUT and W, copy everything printed from here on into OUT/log.txt, install the wheels of
# .whl/ if present (the device machines lack soundfile and espeakng-loader), put the repository
# on PYTHONPATH, define DS (the dslearn command) and print what the machine has.
gpu_setup() {
  mkdir -p "$OUT" "$W"
  export PYTHONUNBUFFERED=1
  exec > >(tee -a "$OUT/log.txt") 2>&1  # (so a bare `wait` would also wait for this tee)
  DS="$PY -m dslearn"
  if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || return 2
    export PYTHONPATH=/tmp/site:$PWD
  else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
  fi
  stamp environment
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv \
    || true
  nproc
  $PY - <<'PYEOF' || return 2
import numpy, soundfile, torch, torchaudio, dslearn
print("torch", torch.__version__, "torchaudio", torchaudio.__version__, "numpy", numpy.__version__)
print("cuda", torch.cuda.is_available(), torch.version.cuda, "cudnn", torch.backends.cudnn.version())
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(), "bf16", torch.cuda.is_bf16_supported())
PYEOF
}

# gpu_evals RUN DEVICE MANIFEST...: greedy WER/CER of W/RUN/best.safetensors on each manifest
# (paths relative to W), one JSON line each into W/eval_RUN.jsonl.
gpu_evals() {
  local run=$1 dev=$2; shift 2
  for m in "$@"; do
    res=$($PY -m dslearn eval --model "$W/$run/best.safetensors" --manifest "$W/$m.jsonl" --json \
          --device "$dev" 2>>"$W/eval_$run.err" | tail -1)
    echo "{\"run\": \"$run\", \"split\": \"$m\", \"result\": ${res:-null}}"
  done > "$W/eval_$run.jsonl"
}

# gpu_pack RUN...: the runs' logs and metrics into OUT/results.tgz, their best checkpoints into
# OUT in parts under 16 MiB (cat RUN_best.part.* > best.safetensors).
gpu_pack() {
  tar czf "$OUT/results.tgz" -C "$W" --exclude='*.safetensors' --exclude='audio' \
    --exclude='*.wav' "$@" $(cd "$W" && ls -d smoke_* eval_*.jsonl *.log 2>/dev/null) \
    $(cd "$W" && ls c*/dev.jsonl c*/test.jsonl c*/test-unseen-voices.jsonl 2>/dev/null)
  for r in "$@"; do
    [ -f "$W/$r/best.safetensors" ] && split -b 15000000 "$W/$r/best.safetensors" "$OUT/${r}_best.part."
  done
  ls -la "$OUT"
}

# gpu_summary RUN...: each run's last training line, its dev curve and its evaluations.
gpu_summary() {
  $PY - "$W" "$@" <<'PYEOF'
import json, sys
from pathlib import Path
w = Path(sys.argv[1])
for run in sys.argv[2:]:
    path = w / run / "metrics.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    train = [r for r in rows if r.get("split") == "train"]
    valid = [r for r in rows if r.get("split") == "valid"]
    last = train[-1] if train else {}
    keys = ("step", "epoch", "audio_sec_per_sec", "samples_per_sec", "mfu", "loss")
    print(run, "train:", {k: last.get(k) for k in keys})
    print(run, "valid:", [(r["step"], round(r["wer"], 4), round(r["cer"], 4)) for r in valid])
    evals = w / f"eval_{run}.jsonl"
    for line in evals.read_text().splitlines() if evals.exists() else []:
        print(run, "eval:", line)
PYEOF
}
