#!/usr/bin/env bash
# The datasets of docs/identification.md (10k transitions each, A1-A4 hold), into ./data/.
set -euo pipefail
cd "$(dirname "$0")" && mkdir -p data
for s in 0 1 2 3 4 5; do
  identlam generate pointmass --out data/pm4_s$s.h5 --episodes 100 --steps 100 --seed $s --quiet        # K=4, goal-directed
  identlam generate pointmass-warp --out data/pw6_s$s.h5 --episodes 100 --steps 100 --seed $s --set K=6 --quiet
  identlam generate pointmass-warp --out data/pw6g0_s$s.h5 --episodes 100 --steps 100 --seed $s --set K=6 \
    --set goal_weight=0 --quiet                                                                           # broad coverage
  identlam generate pointmass --out data/pm4short_s$s.h5 --episodes 400 --steps 25 --seed $s --quiet   # more, shorter episodes
done
