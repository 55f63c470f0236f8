#!/usr/bin/env bash
# Claim B (issue 4, item 6): on PointMass-K (K = 4 by default, the M = 2K the preset is built
# for; K=6 ./claim_b_identification.sh for six actions; vector observations, A1-A4 hold),
# `lapo-entropy` with its preset recipe reaches AMI(code, action) >= 0.95 with used codes = K in
# most seeds; with lambda = 0 (no entropy penalty, no annealed bonus) it splits codes
# (used codes > K and/or AMI well below 0.95). Offline metrics on held-out trajectories.
# lambda = 0 keeps the rest of the recipe (symmetric FDM start, widths, schedule).
# Expected runtime: ~2-5 min per run on one shared CPU thread; 10 runs at 2 jobs ~20 min.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
K="${K:-4}"
DATA="$OUT/b_pointmass_k$K.h5"
B="$OUT/b_k$K"
B_SEEDS="${B_SEEDS:-0 1 2 3 4}"
L0_SEEDS="${L0_SEEDS:-0 1 2 3 4}"
# lambda = 0: every entropy term off (penalty, warm-up, annealed bonus).
LAMBDA0="--set model.entropy.weight=0 --set model.entropy.bonus=0 --set model.entropy.warmup_steps=0"
[ -f "$DATA" ] || $IDENTLAM generate pointmass --out "$DATA" --episodes 100 --steps 100 --seed 0 --set K=$K --quiet
JOBLIST="$OUT/claim_b_k$K.jobs"
: > "$JOBLIST"
for seed in $B_SEEDS; do
  offline_job "$DATA" lapo-entropy "$B/lapo-entropy/s$seed" "$seed" >> "$JOBLIST"
done
for seed in $L0_SEEDS; do
  offline_job "$DATA" lapo-entropy "$B/lapo-entropy-lambda0/s$seed" "$seed" $LAMBDA0 >> "$JOBLIST"
done
run_jobs "$JOBLIST"
$PY "$(dirname "${BASH_SOURCE[0]}")/summarize.py" "$B" --methods lapo-entropy lapo-entropy-lambda0 \
  --keys ami used_codes hungarian_global n_actions train_s
