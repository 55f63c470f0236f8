"""The run configuration: one nested dataclass per pipeline stage, each leaf declared with its rule.

Every leaf is ``knob(default, rule, doc)``: the doc is the field's one-line description (printed by
``identlam presets NAME --fields``), the rule its admissible values (checked by
:func:`identlam.config.validate`). Only plain types appear here (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

from identlam.config.rules import (COUNT, FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT, Flag, Num, OneOf, Seq,
                                   Text, knob, section)

AUGMENT_OPS = ("shift", "rotate", "perspective")
ENTROPY_KINDS = ("none", "conditional", "policy", "marginal")
SCHEDULES = ("constant", "linear", "cosine")


def bottleneck_names() -> tuple[str, ...]:
    """The registered bottlenecks (read from the model factory's registry, which imports no torch)."""
    from identlam.models.factory import bottleneck_names as names

    return names()


@dataclass
class VQConfig:
    """EMA vector quantization in LAPO's layout (``model.bottleneck = "vq"``)."""

    codebook_size: int = knob(64, Num(integer=True, lo=2), "codes per codebook (M)")
    num_codebooks: int = knob(2, POSITIVE_INT, "codebooks N: the latent is split into N x positions tokens")
    num_latents: int = knob(4, POSITIVE_INT, "positions L per codebook; the latent has N * code_dim * L entries")
    code_dim: int = knob(16, POSITIVE_INT, "width D of one token")
    shared_codebook: bool = knob(True, Flag(), "codebook n serves all L positions (LAPO); false: one codebook per token")
    decay: float = knob(0.999, Num(lo=0, hi=1, lo_open=True, hi_open=True), "EMA decay of the codebook statistics")
    commitment: float = knob(0.05, NON_NEGATIVE, "weight of the commitment loss that pulls the IDM output to its code")
    dead_code_threshold: float = knob(0.0, NON_NEGATIVE, "a code whose EMA count (tokens per batch) falls below this is "
                                      "replaced by a token of the batch; 0 = never (LAPO)")


@dataclass
class FSQConfig:
    """Finite scalar quantization (``model.bottleneck = "fsq"``)."""

    levels: tuple[int, ...] = knob((8, 5, 5, 5), Seq(Num(integer=True, lo=3)),
                                   "levels per dimension; the code set has prod(levels) codes")


@dataclass
class EntropyConfig:
    """Entropy terms of the categorical bottleneck and their schedule (positive weight = penalty)."""

    kind: str = knob("conditional", OneOf(ENTROPY_KINDS),
                     "penalized entropy: conditional H(A|S,S'), policy H(A|S), marginal H(A), or none")
    weight: float = knob(0.1, NON_NEGATIVE, "lambda: weight of the entropy penalty, in units of the reconstruction error")
    warmup_steps: int = knob(0, COUNT, "lambda ramps linearly from 0 over these steps (0 = full weight at once)")
    bonus: float = knob(0.0, NON_NEGATIVE,
                        "annealing: the term starts as a bonus of this weight and moves to the penalty (0 = off)")
    anneal_end: float = knob(0.5, Num(lo=0, hi=1, lo_open=True),
                             "annealing: fraction of train.steps at which the bonus has become the penalty")
    cooling: str = knob("linear", OneOf(("linear", "geometric")),
                        "annealing: how the bonus fades; linear passes through 0 to the penalty at anneal_end; "
                        "geometric divides it by a constant factor per step down to bonus * cooling_floor at "
                        "anneal_end (equal time per decade, as in deterministic-annealing clustering), then the penalty")
    cooling_floor: float = knob(1e-3, Num(lo=0, hi=1, lo_open=True, hi_open=True),
                                "geometric cooling: the last bonus before the penalty, as a fraction of bonus")
    merge_weight: float = knob(0.0, NON_NEGATIVE,
                               "annealing: from anneal_end on, also penalize the marginal entropy H(A) with this "
                               "weight, so codes that share one action merge (0 = off)")
    units: str = knob("absolute", OneOf(("absolute", "target_variance")),
                      "absolute: weights as given; target_variance: weight, bonus and merge_weight times the FDM "
                      "target's variance")


@dataclass
class LAMConfig:
    """Axes of the one LatentActionModel; each field is a switch."""

    # observation encoder
    encoder: str = knob("auto", OneOf(("auto", "mlp", "impala")), "auto (mlp for vectors, impala for images), mlp or impala")
    hidden_dim: int = knob(256, POSITIVE_INT, "width of MLP encoders and of the IDM/FDM heads")
    mlp_layers: int = knob(2, COUNT, "hidden layers of the MLP encoder; 0 = a linear encoder")
    impala_channels: tuple[int, ...] = knob((16, 32, 32), Seq(POSITIVE_INT), "channels of the IMPALA stages")
    impala_scale: int = knob(1, POSITIVE_INT, "channel multiplier of the IMPALA encoder and the pixel FDM")
    impala_res_blocks: int = knob(2, COUNT, "residual blocks per IMPALA stage")
    embed_dim: int = knob(256, COUNT, "width of the observation embedding; 0 = the encoder's natural width")
    # IDM input
    frame_stack: int = knob(1, POSITIVE_INT, "F frames per observation, oldest first, padded with the first frame")
    future_k: int = knob(1, POSITIVE_INT, "K: the IDM sees (o_t, o_{t+k}), k ~ U{1..K}; 1 = one step")
    past_frame: bool = knob(False, Flag(), "the IDM and FDM also see o_{t-1} (LAPO)")
    idm_input_norm: bool = knob(False, Flag(), "standardize the IDM input over the batch (BatchNorm without affine)")
    standardize_obs: bool = knob(False, Flag(), "vector observations: the IDM and FDM read them standardized per "
                                 "dimension by statistics of unlabeled training windows, measured before training "
                                 "(images: no effect, they are scaled to [-1, 1])")
    idm_fusion: str = knob("concat", OneOf(("concat", "gated")),
                           "concat: IDM reads [state, e_future]; gated: also factored products of the two")
    idm_factors: int = knob(16, POSITIVE_INT, "gated fusion: number of multiplicative factors")
    head_layers: int = knob(3, COUNT, "blocks of the IDM and FDM MLP heads; 0 = linear heads")
    head_block: str = knob("postnorm", OneOf(("postnorm", "relu")),
                           "block of the IDM and FDM heads: postnorm (LAOM's LN(x + MLP(x)), 4x wide) or relu (Linear + ReLU)")
    idm_cells: int = knob(0, Num(integer=True, lo=0, hi=4096),
                          "N >= 2: one IDM output head per cell of a fixed partition of o_t (a discontinuous, "
                          "'tabular' IDM: A1 off on the model side); 0 = one head")
    # bottleneck
    bottleneck: str = knob("categorical", OneOf(bottleneck_names), "information bottleneck between IDM and FDM")
    latent_dim: int = knob(16, POSITIVE_INT, "width of the continuous latent (none, fsq) or of the code embeddings")
    n_codes: int = knob(8, Num(integer=True, lo=2), "categorical: number of codes M")
    fdm_reads_state: bool = knob(True, Flag(), "the FDM reads o_t (or e_t); false: it predicts from the latent alone "
                                               "(vector FDMs; a pixel FDM always reads the frame)")
    fdm_zero_init: bool = knob(False, Flag(), "the FDM's output layer starts at zero: every code makes the same first prediction")
    # what the FDM predicts
    fdm_target: str = knob("observation", OneOf(("observation", "latent")),
                           "FDM prediction: the next observation (LAPO) or its embedding by an EMA encoder (LAOM)")
    predict_delta: bool = knob(False, Flag(), "observation target: predict o_{t+1} - o_t instead of o_{t+1}")
    normalize_target: bool = knob(False, Flag(), "observation target: standardize it per channel by running statistics")
    target_ema_tau: float = knob(1e-3, FRACTION, "latent target: EMA rate of the target encoder; 0 = stop-gradient copy")
    detach_fdm_input: bool = knob(True, Flag(), "latent target: the FDM sees a detached e_t (LAOM)")
    # augmentations
    augment: bool = knob(False, Flag(), "augment image views during training (each view independently)")
    augment_ops: tuple[str, ...] = knob(AUGMENT_OPS, Seq(OneOf(AUGMENT_OPS), unique=True), "augmentations applied")
    # supervision
    label_coef: float = knob(0.0, NON_NEGATIVE, "> 0 adds a latent -> true action head fed by the label split only")
    label_batch_size: int = knob(32, POSITIVE_INT, "labelled transitions per step of the supervision head")
    # bottleneck settings (read by the bottleneck that model.bottleneck names)
    vq: VQConfig = section(VQConfig, "vector quantization settings")
    fsq: FSQConfig = section(FSQConfig, "finite scalar quantization settings")
    entropy: EntropyConfig = section(EntropyConfig, "categorical: entropy terms and their schedule")


@dataclass
class OptimConfig:
    """AdamW with a linear warm-up, then a constant, linear or cosine schedule."""

    lr: float = knob(3e-4, POSITIVE, "peak learning rate")
    weight_decay: float = knob(0.0, NON_NEGATIVE, "AdamW decoupled weight decay")
    warmup_steps: int = knob(0, COUNT, "updates of linear warm-up from 0 to lr")
    schedule: str = knob("constant", OneOf(SCHEDULES), "learning rate after warm-up: constant, linear or cosine decay")
    grad_clip: float = knob(0.0, NON_NEGATIVE, "largest global gradient norm; 0 disables clipping")


@dataclass
class TrainConfig:
    """Stage 1: the latent action model (or the supervised model of the baselines)."""

    steps: int = knob(2000, POSITIVE_INT, "updates of stage 1")
    batch_size: int = knob(128, POSITIVE_INT, "transitions per update")
    checkpoint_every: int = knob(500, POSITIVE_INT, "updates between checkpoints (every stage)")
    log_every: int = knob(50, POSITIVE_INT, "updates between log lines (every stage)")
    restarts: int = knob(1, POSITIVE_INT, "R > 1: train R initializations briefly, keep the lowest label-free loss")
    restart_steps: int = knob(200, POSITIVE_INT, "restarts: updates of each candidate before the selection (< steps)")
    curriculum: float = knob(0.0, FRACTION, "> 0: for this fraction of steps, windows are drawn near a seeded anchor")
    curriculum_radius: float = knob(0.1, Num(lo=0, hi=1, lo_open=True),
                                    "curriculum: starting radius, as a fraction of the largest distance to the anchor")
    curriculum_hold: float = knob(0.0, FRACTION,
                                  "curriculum: fraction of training that stays at the starting radius before it grows "
                                  "(below train.curriculum; ignored when the curriculum is off)")
    curriculum_anchor: str = knob("dense", OneOf(("dense", "random")),
                                  "curriculum: the densest observation of a seeded subsample, or a random one")
    merge_tolerance: float = knob(0.0, NON_NEGATIVE,
                                  "> 0: after training, the label-free merge test joins codes whose merge raises the "
                                  "reconstruction error of unlabeled windows by at most this fraction after "
                                  "fine-tuning (0 = off; other bottlenecks than categorical ignore it)")
    merge_steps: int = knob(200, POSITIVE_INT,
                            "merge test: fine-tuning updates per tried merge, at a tenth of train.optim.lr")
    optim: OptimConfig = section(lambda: OptimConfig(warmup_steps=100, schedule="cosine", grad_clip=2.0),
                                 "optimizer and learning-rate schedule of stage 1")


@dataclass
class BCConfig:
    """Stage 3: latent behaviour cloning, observation -> latent action (labels from k = 1)."""

    steps: int = knob(2000, POSITIVE_INT, "updates of latent behaviour cloning")
    batch_size: int = knob(128, POSITIVE_INT, "transitions per update")
    hidden_dim: int = knob(256, POSITIVE_INT, "width of the policy head")
    impala_scale: int = knob(1, POSITIVE_INT, "channel multiplier of the policy's IMPALA encoder (images)")
    augment: bool = knob(False, Flag(), "augment the policy's image inputs")
    policy_target: str = knob("auto", OneOf(("auto", "codes", "latent")),
                              "what the policy predicts: codes (a classifier), latent z (MSE), or auto "
                              "(codes when there are <= 4096 codes)")
    optim: OptimConfig = section(OptimConfig, "optimizer and learning-rate schedule of latent BC")


@dataclass
class DecoderConfig:
    """Stage 4: latent action -> true action, trained on the label split only."""

    steps: int = knob(1000, POSITIVE_INT, "updates of the decoder, whatever the label budget (LAOM)")
    batch_size: int = knob(128, POSITIVE_INT, "labelled transitions per update")
    hidden_dim: int = knob(256, POSITIVE_INT, "width of the decoder")
    use_observation: bool = knob(False, Flag(), "the decoder also sees the observation (LAOM's does not)")
    optim: OptimConfig = section(OptimConfig, "optimizer and learning-rate schedule of the decoder")


@dataclass
class EvalConfig:
    """Stage 5: offline identifiability report and online return."""

    episodes: int = knob(10, COUNT, "online evaluation episodes (0 = offline report only)")
    max_steps: int = knob(200, POSITIVE_INT, "longest online episode")
    holdout_fraction: float = knob(0.2, Num(lo=0, hi=1, hi_open=True), "trajectories held out for the offline metrics")
    normalizer_steps: int = knob(2000, POSITIVE_INT, "updates of the BC on all true actions that normalizes returns")


@dataclass
class RunConfig:
    """A whole run: its identity, the model and every stage."""

    method: str = knob("lapo-entropy", Text(r"[A-Za-z0-9][A-Za-z0-9._+-]*", "a name of letters, digits, . _ + -"),
                       "name of the method (a preset name, or your own)")
    kind: str = knob("lam", OneOf(("lam", "bc", "idm")), "lam (latent actions), bc or idm (baselines trained on labels)")
    seed: int = knob(0, Num(integer=True, lo=0, hi=2**32 - 1), "seed of every random choice of the run")
    device: str = knob("auto", Text(r"auto|cpu|cuda(:[0-9]+)?", "auto, cpu, cuda or cuda:N"),
                       "where to train: auto picks CUDA (with bf16) when present")
    labels: int = knob(0, COUNT, "label budget in trajectories (a seeded choice)")
    model: LAMConfig = section(LAMConfig, "the latent action model")
    train: TrainConfig = section(TrainConfig, "stage 1: train")
    bc: BCConfig = section(BCConfig, "stage 3: latent behaviour cloning")
    decoder: DecoderConfig = section(DecoderConfig, "stage 4: latent -> action decoder")
    eval: EvalConfig = section(EvalConfig, "stage 5: evaluation")
