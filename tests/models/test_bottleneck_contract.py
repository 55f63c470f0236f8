"""Every registered bottleneck meets the declared contract; broken ones are caught.

The contract (identlam/models/bottlenecks/base.py): declared sizes, outputs of the declared
shapes with code ids in range, deterministic eval mode, each loss term reaching exactly the
parts of the model it is meant to train, every trainable parameter trained by some term and
every EMA-updated state changing in training.
"""

from __future__ import annotations

import pytest
import torch
from bottleneck_contract import IMG, VEC, build, check_all, check_gradient_paths, check_training_updates

from identlam.config import validate
from identlam.errors import ConfigError
from identlam.models.bottlenecks import CategoricalBottleneck, FDMProbe, VQBottleneck
from identlam.models.factory import bottleneck_names, register_bottleneck, unregister_bottleneck
from lam_batches import tiny_config


@pytest.mark.parametrize("obs_shape", [VEC, IMG], ids=["vector", "image"])
@pytest.mark.parametrize("name", bottleneck_names())
def test_every_registered_bottleneck_meets_the_contract(name, obs_shape):
    check_all(name, obs_shape)


@pytest.mark.parametrize("kind", ["policy", "marginal"])
def test_every_entropy_term_of_the_categorical_bottleneck_trains_the_idm_only(kind):
    check_gradient_paths(build("categorical", entropy=dict(kind=kind, weight=0.5)))


def test_the_vq_commitment_reaches_the_idm_and_not_the_ema_codebook():
    lam = build("vq")
    assert not any(n.startswith("bottleneck.") for n, _ in lam.named_parameters())  # the codebook is EMA state
    assert lam.bottleneck.loss_terms == {"commitment": ("encoder", "idm")}
    check_gradient_paths(lam)


@pytest.fixture
def registered():
    names = []

    def register(name, builder):
        register_bottleneck(name, builder)
        names.append(name)

    yield register
    for name in names:
        unregister_bottleneck(name)


class FrozenCodebookVQ(VQBottleneck):
    """A VQ whose codebook silently never updates: the quantizer always runs in eval mode."""

    def forward(self, raw):
        self.vq.eval()
        return super().forward(raw)


class DetachedCodesCategorical(CategoricalBottleneck):
    """A categorical bottleneck whose code embeddings never receive the reconstruction's gradient."""

    def reconstruction(self, bottled, fdm: FDMProbe):
        return (bottled.probs * fdm.per_code(self.embedding.detach())).sum(-1)


def test_a_codebook_that_never_updates_is_caught_while_the_reconstruction_falls(registered):
    registered("vq-frozen", lambda cfg, ctx: FrozenCodebookVQ(cfg.vq.codebook_size, cfg.vq.num_codebooks,
                                                              cfg.vq.num_latents, cfg.vq.code_dim))
    with pytest.raises(AssertionError, match="never changed"):
        check_training_updates(build("vq-frozen"))  # the rec check passes first: the loss does fall


def test_code_embeddings_cut_off_from_the_reconstruction_are_caught(registered):
    registered("categorical-detached", lambda cfg, ctx: DetachedCodesCategorical(
        cfg.n_codes, cfg.latent_dim, ctx.state_dim, cfg.hidden_dim, cfg.entropy))
    with pytest.raises(AssertionError, match="should train"):
        check_gradient_paths(build("categorical-detached"))


def test_a_name_is_registered_once_and_unknown_names_are_refused_by_the_config(registered):
    with pytest.raises(ValueError, match="already registered"):
        register_bottleneck("vq", lambda cfg, ctx: None)
    with pytest.raises(ConfigError, match="model.bottleneck"):
        validate(tiny_config(bottleneck="binary"), "model")
    registered("binary", lambda cfg, ctx: None)
    validate(tiny_config(bottleneck="binary"), "model")  # the choices are read from the registry


def test_the_model_has_no_per_bottleneck_branches():
    """lam.py's code (docstrings aside) names no bottleneck class or name and never reads
    cfg.bottleneck: everything per bottleneck goes through the factory and the contract."""
    import ast
    import inspect

    from identlam.models import lam as lam_module

    tree = ast.parse(inspect.getsource(lam_module))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
               and id(n) not in docstrings}
    reads = {(n.value.id, n.attr) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    assert not names & {"CategoricalBottleneck", "VQBottleneck", "FSQBottleneck", "ContinuousBottleneck"}
    assert not strings & set(bottleneck_names())
    assert ("cfg", "bottleneck") not in reads and ("cfg", "entropy") not in reads
    assert not any("temperature" in s for s in strings | names)


def test_checkpoints_keep_their_parameter_names():
    keys = {name: sorted(build(name).state_dict()) for name in ("categorical", "vq", "fsq")}
    assert {"bottleneck.embedding", "bottleneck.policy.0.weight", "bottleneck.usage"} <= set(keys["categorical"])
    assert "bottleneck.vq._codebook.embed" in keys["vq"] and "bottleneck.radix" in keys["vq"]
    assert "bottleneck.fsq.project_in.weight" in keys["fsq"] and "bottleneck.usage" in keys["fsq"]
    assert torch.is_tensor(build("none").state_dict()["idm.out.weight"])
