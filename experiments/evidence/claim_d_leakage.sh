#!/usr/bin/env bash
# Claim D (issue 4, item 6): `lapo-continuous` (no bottleneck) leaks state into its latent where
# `lapo-entropy` does not. Measured on `pointmass-twist` (vector observations, A1-A4 hold; the
# displacement of an action rotates with the state, so a latent that copies s'-s carries state)
# by state_leakage.py: R² of s from the latent within each true action, and I(Z;S|A) (KSG), plus
# the report's own D2 number (I(Z;S|A) for continuous latents, I(code;R|A) for codes).
# Expected runtime: ~2-5 min per run on one shared CPU thread; 6 runs at 2 jobs ~15 min.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DATA="$OUT/d_twist.h5"
[ -f "$DATA" ] || $IDENTLAM generate pointmass-twist --out "$DATA" --episodes 100 --steps 100 --seed 0 --quiet
JOBLIST="$OUT/claim_d.jobs"
: > "$JOBLIST"
for seed in $SEEDS; do
  for method in lapo-continuous lapo-entropy; do
    offline_job "$DATA" "$method" "$OUT/d/$method/s$seed" "$seed" >> "$JOBLIST"
  done
done
run_jobs "$JOBLIST"
$PY "$(dirname "${BASH_SOURCE[0]}")/state_leakage.py" "$OUT"/d/*/s*/
$PY "$(dirname "${BASH_SOURCE[0]}")/summarize.py" "$OUT/d" --methods lapo-continuous lapo-entropy \
  --keys state_r2_given_action_z_knn state_r2_given_action_z_linear state_cmi_given_action_z state_r2_given_action_code d2_latent_state_info_given_action d2_code_state_info_given_action action_probe_error ami
