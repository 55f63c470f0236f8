#!/usr/bin/env bash
# Package runs of docs/identification.md: the lapo-entropy recipe on PointMass K=4 (seeds given
# as arguments, default 0-4) and its ablations on seed 0. Needs ./data (make_data.sh).
# Prints one line per run: AMI, used codes and Hungarian accuracy from `identlam metrics`.
set -uo pipefail
cd "$(dirname "$0")" && mkdir -p runs
export OMP_NUM_THREADS=1  # two torch threads on a busy 2-core machine were ~10x slower

run() {  # NAME SEED DATA [--set k=v ...]
  local name=$1 seed=$2 data=$3; shift 3
  local R=runs/$name
  identlam train --data "$data" --method lapo-entropy --out "$R" --seed "$seed" "$@" > "$R.train.log" 2>&1 &&
    identlam relabel "$R" > /dev/null 2>&1 &&
    identlam metrics --latents "$R/latents.npz" --data "$data" --out "$R/metrics_report.json" > "$R.metrics.log" 2>&1
  echo "$name $(grep -E ' ami |used_codes|hungarian_global' "$R.metrics.log" | tr -s ' ' | tr '\n' ' ')"
}

for s in "${@:-0 1 2 3 4}"; do
  for seed in $s; do run "recipe_s$seed" "$seed" "data/pm4_s$seed.h5"; done
done
run lambda0 0 data/pm4_s0.h5 --set model.entropy.weight=0 --set model.entropy.bonus=0
run no_annealing 0 data/pm4_s0.h5 --set model.entropy.bonus=0
run no_symmetric_start 0 data/pm4_s0.h5 --set model.fdm_zero_init=false
