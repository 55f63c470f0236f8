"""Named methods as plain :class:`~identlam.config.RunConfig` values.

``get_preset(name, scale="cpu", obs_kind=None)`` returns a fresh config. Two scales:

- ``"cpu"`` (default): small widths, batches and step counts that train in minutes on two CPU
  cores. The *method-defining* axes (bottleneck, target, K, F, past
  frame, augmentation, supervision) are the same as at paper scale; only sizes differ.
- ``"paper"``: the values of the original papers' configs, each with its source in a comment
  (LAPO: ``schmidtdominik/LAPO`` config.yaml and stage scripts;
  LAOM: ``dunnolab/laom`` configs/*.yaml; the LAOM paper's step counts
  follow from 10 epochs over 5k trajectories x 1000 steps at batch 512, about 9.7k steps per
  epoch).

``obs_kind`` ("vector" | "image") adapts the encoder (MLP or IMPALA) and turns image-only
switches (augmentations) off for vectors; None leaves ``model.encoder="auto"``, which picks by the
observation shape at build time.

Presets that need true actions (``laom-sup``, ``bc``, ``idm``) set a default label budget
(``labels``, in trajectories); the others train without labels.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from identlam.config import (BCConfig, DecoderConfig, EntropyConfig, EvalConfig, FSQConfig, LAMConfig, OptimConfig,
                             RunConfig, TrainConfig, VQConfig, apply_overrides, validate)
from identlam.errors import ConfigError

SCALES = ("cpu", "paper")
OBS_KINDS = ("vector", "image")


def _paper(scale: str) -> bool:
    if scale not in SCALES:
        raise ConfigError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    return scale == "paper"


def _train(steps: int, batch_size: int, **optim) -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=batch_size, optim=OptimConfig(**optim))


def _bc(steps: int, batch_size: int, lr: float, **rest) -> BCConfig:
    return BCConfig(steps=steps, batch_size=batch_size, optim=OptimConfig(lr=lr), **rest)


def _decoder(steps: int, batch_size: int, lr: float, **rest) -> DecoderConfig:
    return DecoderConfig(steps=steps, batch_size=batch_size, optim=OptimConfig(lr=lr), **rest)


def _cpu_run(name: str, model: LAMConfig, train: TrainConfig) -> RunConfig:
    """CPU scale: BC and decoder of width 256 at batch 128, 10 online episodes."""
    return RunConfig(method=name, model=model, train=train,
                     bc=_bc(2000, 128, lr=3e-4, hidden_dim=256, impala_scale=2),
                     decoder=_decoder(1000, 128, lr=3e-4, hidden_dim=256),
                     eval=EvalConfig(episodes=10))


# ----------------------------------------------------------------------------------------
# LAPO family


def lapo(scale: str = "cpu") -> RunConfig:
    """LAPO as released: EMA-VQ 2 codebooks x 4 positions x 16 dims, 64 codes, pixel FDM, past frame."""
    vq = VQConfig(codebook_size=64, num_codebooks=2, num_latents=4, code_dim=16, shared_codebook=True,
                  decay=0.999, commitment=0.05)  # LAPO config.yaml
    axes = dict(bottleneck="vq", vq=vq, past_frame=True, future_k=1, frame_stack=1,
                fdm_target="observation")  # IDM on (t-1, t, t+1), LAPO config.yaml
    if _paper(scale):
        model = LAMConfig(**axes, impala_scale=4, impala_res_blocks=2, embed_dim=256,  # idm_impala_scale=4, fc 256
                          hidden_dim=256)
        train = _train(50_000, 128, lr=3e-4, weight_decay=0.01,  # LAPO stage 1: AdamW 3e-4, bs 128, 50k updates
                       warmup_steps=50, schedule="linear", grad_clip=2.0)  # warm-up to step 50, linear decay, clip 2
        return RunConfig(method="lapo", model=model, train=train,
                         bc=_bc(60_000, 128, lr=2e-4, impala_scale=4),  # LAPO stage 2
                         decoder=_decoder(1000, 128, lr=3e-4, hidden_dim=128),  # LAPO's (128, 128) probe
                         eval=EvalConfig(episodes=25))
    model = LAMConfig(**axes, impala_scale=1, impala_res_blocks=1, embed_dim=128, hidden_dim=256)
    return _cpu_run("lapo", model, _train(2000, 128, lr=3e-4, weight_decay=0.01, warmup_steps=50,
                                          schedule="linear", grad_clip=2.0))


def lapo_entropy(scale: str = "cpu") -> RunConfig:
    """Entropy-regularized LAPO: categorical softmax IDM over M codes, exact expectation, entropy penalty.

    Not VQ: the IDM emits logits, the FDM is evaluated for every code embedding and the
    reconstruction is averaged under q exactly. predict_delta: predicting o_{t+1} - o_t instead of
    o_{t+1} lifted AMI on PointMass from 0.29 to 0.63.

    CPU scale carries the identification recipe of docs/identification.md, chosen on random
    environment families (4-8 actions, random smooth observation maps) and PointMass; nothing in
    it needs the number of actions K, the states or an action label:

    - deterministic annealing: the conditional entropy starts as a bonus of 1, cooled geometrically
      (a thousandfold by 70% of training, equal time per decade) and then becomes the penalty 0.1,
      all in units of the variance of o_{t+1} - o_t measured on unlabeled training windows
      (``entropy.units="target_variance"``, written into the run);
    - M = 16 codes (room for K <= 8 and for splits), pruned twice: a light marginal-entropy penalty
      once the annealing is over (``entropy.merge_weight`` 0.05), then the label-free merge test
      (``train.merge_tolerance`` 0.5: a pair of codes is merged when, after 200 fine-tuning
      updates, the error on unlabeled windows rises by at most half; ``RUN/merges.json``);
    - a state-space curriculum: training windows are drawn near the densest observation for the
      first half (while the codes specialize) and the neighbourhood grows until 90%;
    - the symmetric FDM start, the gated IDM (64 factored products of the state and future
      embeddings) on a linear encoder of standardized observations (``standardize_obs``; images
      keep IMPALA and their [-1, 1] scale), plain ReLU heads of width 64 and depth 2, batch 256,
      a constant learning rate 1e-3, and 10% of the trajectories held out for evaluation.

    The paper scale keeps the plain penalty (the recipe is not measured there).
    """
    axes = dict(bottleneck="categorical", latent_dim=16, fdm_target="observation", predict_delta=True,
                past_frame=False, future_k=1, frame_stack=1)
    if _paper(scale):
        model = LAMConfig(**axes, n_codes=64, entropy=EntropyConfig(kind="conditional", weight=0.1),
                          impala_scale=4, impala_res_blocks=2, embed_dim=256, hidden_dim=256)  # LAPO sizes
        train = _train(50_000, 128, lr=3e-4, weight_decay=0.01, warmup_steps=50,
                       schedule="linear", grad_clip=2.0)  # LAPO stage 1 optimisation
        return RunConfig(method="lapo-entropy", model=model, train=train,
                         bc=_bc(60_000, 128, lr=2e-4, impala_scale=4),
                         eval=EvalConfig(episodes=25))
    recipe = EntropyConfig(kind="conditional", weight=0.1, bonus=1.0, anneal_end=0.7, cooling="geometric",
                           cooling_floor=1e-3, merge_weight=0.05, units="target_variance")  # docs/identification.md
    model = LAMConfig(**axes, n_codes=16, entropy=recipe, fdm_zero_init=True, idm_fusion="gated", idm_factors=64,
                      mlp_layers=0, standardize_obs=True, head_block="relu", head_layers=2,
                      impala_scale=1, impala_res_blocks=1, embed_dim=64, hidden_dim=64)
    train = dataclasses.replace(_train(3000, 256, lr=1e-3, warmup_steps=100, schedule="constant",
                                       grad_clip=2.0), curriculum=0.9, curriculum_hold=0.5,
                                merge_tolerance=0.5, merge_steps=200)
    run = _cpu_run("lapo-entropy", model, train)
    return dataclasses.replace(run, eval=dataclasses.replace(run.eval, holdout_fraction=0.1))


# The recipe lapo-entropy carried before the random families (tuned on PointMass), as overrides of
# today's preset: `identlam train ... --set KEY=VALUE` for each item, or `[set]` in an experiment
# config (experiments/identification_recipe.toml, the "previous" method of identification_families).
POINTMASS_RECIPE: dict[str, object] = {
    "model.n_codes": 8, "model.entropy.units": "absolute", "model.entropy.weight": 0.0024,
    "model.entropy.bonus": 0.0072, "model.entropy.anneal_end": 0.5, "model.entropy.cooling": "linear",
    "model.entropy.merge_weight": 0.0, "train.merge_tolerance": 0.0,
    "model.standardize_obs": False, "model.head_block": "postnorm", "model.head_layers": 3,
    "train.optim.schedule": "cosine", "train.curriculum_hold": 0.0, "train.curriculum": 0.0,
    "eval.holdout_fraction": 0.2,
}


# What lapo-entropy's CPU recipe changes for image observations (get_preset with obs_kind="image").
# Images keep their [-1, 1] scale (no standardize_obs), so the IMPALA embeddings' common mode
# reaches the IDM: measured on 16 px PointMass, every window took one code from the first 50 steps
# (conditional entropy 4e-9 during the bonus phase); a batch standardization of the IDM input
# removes it. With it, at lr 1e-3 training diverged once the penalty started (gradient norm
# 500-7000, back to one code: 2 of 2 runs); at 3e-4 it kept 4-5 codes.
IMAGE_RECIPE: dict[str, object] = {"model.idm_input_norm": True, "train.optim.lr": 3e-4}


def lapo_fsq(scale: str = "cpu") -> RunConfig:
    """LAPO with FSQ instead of VQ (LAOM's IDMFSQ reference model); levels (8,5,5,5) = 1000 codes."""
    run = lapo(scale)
    run.method = "lapo-fsq"
    run.model = dataclasses.replace(run.model, bottleneck="fsq", fsq=FSQConfig(levels=(8, 5, 5, 5)),  # FSQ paper's 1000-code set
                                    latent_dim=128)  # = LAPO's la_dim
    return run


def lapo_continuous(scale: str = "cpu") -> RunConfig:
    """LAOM's LAPO baseline: no quantization, IDM on (t, t+k) with K = 10, F = 3, pixel FDM.

    As ``train_lapo.py`` / configs/lapo.yaml of the LAOM repository.
    """
    axes = dict(bottleneck="none", fdm_target="observation", predict_delta=False, past_frame=False,
                future_k=10, frame_stack=3, augment=False)  # LAOM configs/lapo.yaml
    if _paper(scale):
        model = LAMConfig(**axes, latent_dim=8192, impala_scale=6, impala_res_blocks=2, embed_dim=0,  # configs/lapo.yaml
                          hidden_dim=1024)
        return _laom_paper_run("lapo-continuous", model)
    model = LAMConfig(**axes, latent_dim=128, impala_scale=1, impala_res_blocks=1, embed_dim=0, hidden_dim=256)
    return _cpu_run("lapo-continuous", model, _train(2000, 128, lr=3e-4, warmup_steps=100, schedule="linear",
                                                     grad_clip=0.0))


# ----------------------------------------------------------------------------------------
# LAOM family


def _laom_model(scale: str, **extra) -> LAMConfig:
    axes = dict(bottleneck="none", fdm_target="latent", target_ema_tau=1e-3, detach_fdm_input=True,  # LAOM configs/laom.yaml
                future_k=10, frame_stack=3, past_frame=False, augment=True,  # K = 10, F = 3, use_aug
                augment_ops=("shift", "rotate", "perspective"), **extra)
    if _paper(scale):
        return LAMConfig(**axes, latent_dim=8192, hidden_dim=1024, impala_scale=6, impala_res_blocks=2,  # configs/laom.yaml
                         embed_dim=0)  # the flat conv features, 192 x 8 x 8
    return LAMConfig(**axes, latent_dim=128, hidden_dim=256, impala_scale=1, impala_res_blocks=1, embed_dim=0)


def _laom_paper_run(name: str, model: LAMConfig, labels: int = 0) -> RunConfig:
    train = _train(96_700, 512, lr=1e-4, weight_decay=0.0,  # 10 epochs, bs 512, lr 1e-4 (LAOM configs/laom.yaml)
                   warmup_steps=29_000, schedule="linear", grad_clip=0.0)  # 3 warm-up epochs, no clipping
    return RunConfig(method=name, labels=labels, model=model, train=train,
                     bc=_bc(96_700, 512, lr=1e-4, impala_scale=32, augment=False),  # LAOM's BC
                     decoder=_decoder(2500, 512, lr=3e-4, hidden_dim=256, use_observation=False),  # LAOM's decoder
                     eval=EvalConfig(episodes=25))


def laom(scale: str = "cpu") -> RunConfig:
    """LAOM: continuous latent, latent temporal consistency against an EMA encoder, augmentations."""
    if _paper(scale):
        return _laom_paper_run("laom", _laom_model(scale))
    return _cpu_run("laom", _laom_model(scale), _train(2000, 128, lr=3e-4, warmup_steps=100, schedule="linear",
                                                       grad_clip=0.0))


def laom_sup(scale: str = "cpu") -> RunConfig:
    """LAOM + supervision: a Linear(latent -> action) head on a labelled batch each step, coef 1e-3."""
    if _paper(scale):
        model = _laom_model(scale, label_coef=1e-3, label_batch_size=128)  # labeled_loss_coef, +128 labelled
        return _laom_paper_run("laom-sup", model, labels=128)  # 128 trajectories = 2.5% of 5k
    model = _laom_model(scale, label_coef=1e-3, label_batch_size=32)
    run = _cpu_run("laom-sup", model, _train(2000, 128, lr=3e-4, warmup_steps=100, schedule="linear", grad_clip=0.0))
    run.labels = 4
    return run


# ----------------------------------------------------------------------------------------
# Baselines


def bc(scale: str = "cpu") -> RunConfig:
    """Behaviour cloning from the labelled trajectories only (no latent actions)."""
    run = laom(scale)
    run.method, run.kind = "bc", "bc"
    run.labels = 128 if _paper(scale) else 4
    return run


def idm(scale: str = "cpu") -> RunConfig:
    """LAOM's IDM baseline: an IDM trained on labels (head on the latent), then BC on its labels.

    The LatentActionModel's supervision head (``label_coef``) is the IDM's action output;
    its trainer optimizes only ``label_loss``. K = 1, no augmentations (LAOM configs/idm.yaml).
    """
    if _paper(scale):
        model = LAMConfig(bottleneck="none", fdm_target="latent", future_k=1, frame_stack=3, augment=False,
                          latent_dim=1024, hidden_dim=1024, impala_scale=12, impala_res_blocks=2,  # encoder_scale 12
                          embed_dim=0, label_coef=1.0, label_batch_size=512)
        run = _laom_paper_run("idm", model, labels=128)
        run.train.steps = 10_000  # 10k updates (LAOM configs/idm.yaml)
        run.train.optim.warmup_steps = 3_000
    else:
        model = LAMConfig(bottleneck="none", fdm_target="latent", future_k=1, frame_stack=3, augment=False,
                          latent_dim=128, hidden_dim=256, impala_scale=1, impala_res_blocks=1, embed_dim=0,
                          label_coef=1.0, label_batch_size=128)
        run = _cpu_run("idm", model, _train(2000, 128, lr=3e-4, warmup_steps=100, schedule="linear", grad_clip=0.0))
        run.labels = 4
    run.kind = "idm"
    return run


# ----------------------------------------------------------------------------------------
# The linear latent action model


def linear_lam(scale: str = "cpu") -> RunConfig:
    """Linear LAM: linear encoder, linear IDM and FDM heads, continuous latent of width latent_dim (d_z).

    The whole model is linear: ``z = W [o_t, o_{t+1}] + b`` and ``o_{t+1} - o_t ~ U z + c``
    (``predict_delta``; the FDM reads only the latent, ``fdm_reads_state=false``), the model of
    the linear-Gaussian analysis (docs/linear_lam.md; data from the ``linear-gaussian``
    environment). With ``fdm_reads_state=true`` the FDM also reads o_t and the latent is free to
    carry any linear function of o_t. Set d_z with ``--set model.latent_dim=N``; the default 2 is
    that environment's default action dimension. No original configuration exists, so the paper
    scale only trains longer on larger batches.
    """
    model = LAMConfig(bottleneck="none", latent_dim=2, head_layers=0, mlp_layers=0, embed_dim=32, hidden_dim=32,
                      fdm_target="observation", predict_delta=True, fdm_reads_state=False, past_frame=False,
                      future_k=1, frame_stack=1, augment=False)
    if _paper(scale):
        run = _cpu_run("linear-lam", model, _train(20_000, 1024, lr=1e-3, warmup_steps=100, schedule="cosine",
                                                   grad_clip=0.0))
        run.eval = EvalConfig(episodes=0)
        return run
    run = _cpu_run("linear-lam", model, _train(1500, 256, lr=3e-3, warmup_steps=50, schedule="cosine", grad_clip=0.0))
    run.eval = EvalConfig(episodes=0)  # no return to measure: the data have no goal-directed policy
    return run


PRESETS: dict[str, Callable[[str], RunConfig]] = {
    "lapo": lapo, "lapo-entropy": lapo_entropy, "lapo-fsq": lapo_fsq, "lapo-continuous": lapo_continuous,
    "laom": laom, "laom-sup": laom_sup, "bc": bc, "idm": idm, "linear-lam": linear_lam,
}
PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


def get_preset(name: str, scale: str = "cpu", obs_kind: str | None = None) -> RunConfig:
    """A fresh, validated RunConfig for preset ``name`` at ``scale``, adapted to ``obs_kind`` when given."""
    if name not in PRESETS:
        raise ConfigError(f"method '{name}' is unknown: expected one of {', '.join(PRESET_NAMES)}")
    run = PRESETS[name](scale)
    if obs_kind is not None:
        if obs_kind not in OBS_KINDS:
            raise ConfigError(f"obs_kind: expected vector or image, got {obs_kind!r}")
        if obs_kind == "vector":
            run.model = dataclasses.replace(run.model, encoder="mlp", augment=False)
        else:
            run.model = dataclasses.replace(run.model, encoder="impala")
            if name == "lapo-entropy" and not _paper(scale):
                run = apply_overrides(run, IMAGE_RECIPE)
    return validate(run)


def describe(name: str) -> str:
    """One paragraph: what the preset is and where its values come from."""
    if name not in PRESETS:
        raise ConfigError(f"method '{name}' is unknown: expected one of {', '.join(PRESET_NAMES)}")
    doc = " ".join(PRESETS[name].__doc__.split())
    m = get_preset(name).model
    axes = (f"bottleneck={m.bottleneck}, fdm_target={m.fdm_target}, K={m.future_k}, F={m.frame_stack}, "
            f"past_frame={m.past_frame}, augment={m.augment}, label_coef={m.label_coef}")
    return (f"{name}: {doc} Axes: {axes}. CPU scale by default; scale='paper' gives the original "
            f"configuration (see identlam/presets.py for each value's source).")
