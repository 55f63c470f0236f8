#!/usr/bin/env bash
# Claims B, C and D in one queue, interleaved seed by seed so that a run cut short by a deadline
# still leaves every claim with its first seeds: B (recipe, lambda = 0), C (islands), D
# (lapo-continuous; its lapo-entropy runs are B's). Then the post-processing and tables of
# each claim (rerunning a claim script skips its finished runs).
# Expected runtime: 12 runs of ~5-9 min each on one shared CPU thread, 2 at a time: ~45 min.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
HERE="$(dirname "${BASH_SOURCE[0]}")"
K=4
B="$OUT/b_k$K"
LAMBDA0="--set model.entropy.weight=0 --set model.entropy.bonus=0 --set model.entropy.warmup_steps=0"
[ -f "$OUT/b_pointmass_k$K.h5" ] || $IDENTLAM generate pointmass --out "$OUT/b_pointmass_k$K.h5" --episodes 100 --steps 100 --seed 0 --set K=$K --quiet
[ -f "$OUT/c_islands.h5" ] || $IDENTLAM generate pointmass-islands --out "$OUT/c_islands.h5" --episodes 100 --steps 100 --seed 0 --quiet
JOBLIST="$OUT/bcd.jobs"
: > "$JOBLIST"
# EVIDENCE_WAIT_PID: a process (e.g. a claim-A run still going) that holds one of the JOBS slots
# until it exits, so that no more than JOBS runs share the CPU.
[ -z "${EVIDENCE_WAIT_PID:-}" ] || echo "while kill -0 $EVIDENCE_WAIT_PID 2>/dev/null; do sleep 5; done" >> "$JOBLIST"
for seed in $SEEDS; do
  offline_job "$OUT/b_pointmass_k$K.h5" lapo-entropy "$B/lapo-entropy/s$seed" "$seed" >> "$JOBLIST"
  offline_job "$OUT/b_pointmass_k$K.h5" lapo-entropy "$B/lapo-entropy-lambda0/s$seed" "$seed" $LAMBDA0 >> "$JOBLIST"
  offline_job "$OUT/c_islands.h5" lapo-entropy "$OUT/c/lapo-entropy/s$seed" "$seed" >> "$JOBLIST"
  offline_job "$OUT/b_pointmass_k$K.h5" lapo-continuous "$OUT/d/lapo-continuous/s$seed" "$seed" --steps "${D_STEPS:-1000}" >> "$JOBLIST"
done
run_jobs "$JOBLIST"
B_SEEDS="$SEEDS" L0_SEEDS="$SEEDS" K=$K "$HERE/claim_b_identification.sh"
"$HERE/claim_c_islands.sh"
"$HERE/claim_d_leakage.sh"
