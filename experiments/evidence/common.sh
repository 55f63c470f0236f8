# Shared settings of the evidence scripts (sourced, not run).
# One thread per job and at most EVIDENCE_JOBS (default 2) jobs at once: the CPU is shared.
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${PY:-/work/venv/bin/python}"
IDENTLAM="${IDENTLAM:-/work/venv/bin/identlam}"
OUT="${OUT:-$ROOT/runs/evidence}"
JOBS="${EVIDENCE_JOBS:-2}"
SEEDS="${SEEDS:-0 1 2}"
# The BC-on-all-actions normalizer is cached per dataset and seed; keep it with the runs.
export IDENTLAM_CACHE="${IDENTLAM_CACHE:-$OUT/cache}"
mkdir -p "$OUT"

# run_jobs FILE: run each line of FILE as a shell command, JOBS at a time, logging to its run dir.
run_jobs() {
  xargs -P "$JOBS" -I{} -d '\n' bash -c '{}' < "$1"
}

# offline_job DATA METHOD RUN SEED [--set ...]: the label-free stages (train, relabel, evaluate)
# as one command line; evaluate then writes the offline report only (no decoder, no online return).
offline_job() {
  local data="$1" method="$2" run="$3" seed="$4"; shift 4
  mkdir -p "$(dirname "$run")"
  echo "$IDENTLAM train --data $data --method $method --out $run --seed $seed $* > $run.log 2>&1 \
&& $IDENTLAM relabel $run >> $run.log 2>&1 && $IDENTLAM evaluate $run >> $run.log 2>&1 \
&& echo done $run || echo FAILED $run"
}
