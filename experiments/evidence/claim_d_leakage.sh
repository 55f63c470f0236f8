#!/usr/bin/env bash
# Claim D (issue 4, item 6): `lapo-continuous` (no bottleneck) leaks state into its latent where
# `lapo-entropy` does not. Measured on claim B's PointMass (K = 4, vector observations, A1-A4
# hold; the observation is an embedding of the torus position, so o_{t+1} - o_t depends on the
# state and a latent that copies it carries state) by state_leakage.py: R² of s from the latent
# within each true action, and I(Z;S|A) (KSG, the same estimator for both), plus the report's
# own D2 number (I(Z;S|A) for continuous latents, I(code;R|A) for codes).
# The lapo-entropy runs are claim B's (shared run directories; finished stages are skipped).
# lapo-continuous runs D_STEPS (default 1000, half its preset's 2000) to fit the CPU budget.
# Expected runtime: ~5-9 min per run on one shared CPU thread; 6 runs at 2 jobs ~25 min.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
K="${K:-4}"
DATA="$OUT/b_pointmass_k$K.h5"
D_STEPS="${D_STEPS:-1000}"
[ -f "$DATA" ] || $IDENTLAM generate pointmass --out "$DATA" --episodes 100 --steps 100 --seed 0 --set K=$K --quiet
mkdir -p "$OUT/d" "$OUT/b_k$K/lapo-entropy"
[ -e "$OUT/d/lapo-entropy" ] || ln -s "../b_k$K/lapo-entropy" "$OUT/d/lapo-entropy"
JOBLIST="$OUT/claim_d.jobs"
: > "$JOBLIST"
for seed in $SEEDS; do
  offline_job "$DATA" lapo-continuous "$OUT/d/lapo-continuous/s$seed" "$seed" --steps "$D_STEPS" >> "$JOBLIST"
  offline_job "$DATA" lapo-entropy "$OUT/b_k$K/lapo-entropy/s$seed" "$seed" >> "$JOBLIST"
done
run_jobs "$JOBLIST"
$PY "$(dirname "${BASH_SOURCE[0]}")/state_leakage.py" "$OUT"/d/*/s*/
$PY "$(dirname "${BASH_SOURCE[0]}")/summarize.py" "$OUT/d" --methods lapo-continuous lapo-entropy \
  --keys z_variance_within_action state_r2_given_action_z_knn state_r2_given_action_z_linear state_cmi_given_action_z state_r2_given_action_code d2_latent_state_info_given_action d2_code_state_info_given_action action_probe_error ami
