#!/usr/bin/env bash
# Runs the lines of a queue file, two at a time (the shared machine's limit). Each line:
#   NAME SEED DATA_PREFIX [--set k=v ...]
# trains lapo-entropy on data/DATA_PREFIX_sSEED.h5 into runs/NAME_sSEED, relabels, scores, and
# prints "NAME_sSEED ami ... used_codes ... hungarian_global ..." (identlam metrics).
set -uo pipefail
cd "$(dirname "$0")" && mkdir -p runs
export OMP_NUM_THREADS=1  # two torch threads on a busy 2-core machine were ~10x slower
if [[ ${1:-} == --one ]]; then
  shift; name=$1 seed=$2 prefix=$3; shift 3
  R=runs/${name}_s$seed data=data/${prefix}_s$seed.h5
  identlam train --data "$data" --method lapo-entropy --out "$R" --seed "$seed" "$@" > "$R.train.log" 2>&1 &&
    identlam relabel "$R" > /dev/null 2>&1 &&
    identlam metrics --latents "$R/latents.npz" --data "$data" --out "$R/metrics_report.json" > "$R.metrics.log" 2>&1
  echo "${name}_s$seed $(grep -E ' ami |used_codes|hungarian_global' "$R.metrics.log" | tr -s ' ' | tr '\n' ' ')"
  exit 0
fi
grep -v '^#' "$1" | xargs -P 2 -L 1 "$0" --one
