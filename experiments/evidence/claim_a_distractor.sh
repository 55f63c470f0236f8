#!/usr/bin/env bash
# Claim A (issue 4, item 6): on 32 px image observations with an action-correlated distractor
# (rho = 0.8), `laom` has a lower action-probe error (1 - linear-probe accuracy of the latent ->
# true action on held-out transitions) than `lapo`, and `laom-sup` (4 labelled trajectories)
# lower still; also reports the online normalized return of the decoded policy.
# Every method gets the same 4-trajectory label split (the decoder needs it; only laom-sup
# trains its latent on it). Seeds vary the run (model init, batches, label split), not the data.
# Expected runtime: ~4-6 min per run on one shared CPU thread; 9 runs at 2 jobs ~25 min.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DATA="$OUT/a_image_corr.h5"
STEPS="${STEPS:-1000}"
[ -f "$DATA" ] || $IDENTLAM generate pointmass --out "$DATA" --episodes 100 --steps 50 --seed 0 \
  --set obs=image --set image_size=32 --set distractor=correlated --set rho=0.8 --quiet
JOBLIST="$OUT/claim_a.jobs"
: > "$JOBLIST"
for seed in $SEEDS; do
  for method in lapo laom laom-sup; do
    run="$OUT/a/$method/s$seed"
    mkdir -p "$run"
    echo "$IDENTLAM pipeline --data $DATA --method $method --out $run --labels 4 --seed $seed --steps $STEPS \
--set bc.steps=500 --set decoder.steps=500 --set eval.normalizer_steps=1000 --episodes 10 > $run.log 2>&1 \
&& echo done $run || echo FAILED $run" >> "$JOBLIST"
  done
done
run_jobs "$JOBLIST"
$PY "$(dirname "${BASH_SOURCE[0]}")/summarize.py" "$OUT/a" --methods lapo laom laom-sup
$PY "$(dirname "${BASH_SOURCE[0]}")/latent_spread.py" "$OUT"/a/*/s*/
