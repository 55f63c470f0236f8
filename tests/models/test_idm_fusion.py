"""The IDM's input fusion (concat | gated) and the linear MLP encoder (mlp_layers = 0)."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from identlam.errors import ConfigError
from identlam.models import LatentActionModel
from identlam.models.encoders import GatedFusion
from lam_batches import make_batch, tiny_config

VEC = (5,)


def _lam(**kw):
    return LatentActionModel(tiny_config(**kw), VEC, "discrete", n_actions=3, seed=0)


def _circle_pairs(n: int, seed: int):
    """(o, o', a): a point on the unit circle steps by +-0.2 rad; a = 1 for counter-clockwise."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n)
    a = rng.integers(0, 2, n)
    theta2 = theta + np.where(a == 1, 0.2, -0.2)
    o = np.stack([np.cos(theta), np.sin(theta)], 1)
    o2 = np.stack([np.cos(theta2), np.sin(theta2)], 1)
    return torch.tensor(o, dtype=torch.float32), torch.tensor(o2, dtype=torch.float32), a


def _linear_accuracy(features: torch.Tensor, a: np.ndarray, features_test: torch.Tensor, a_test) -> float:
    clf = LogisticRegression(C=1e4, max_iter=5000).fit(features.detach().numpy(), a)
    return clf.score(features_test.detach().numpy(), a_test)


def test_gated_features_make_a_state_dependent_action_linearly_decodable():
    # the direction of a step on a circle is the sign of the cross product o x o' (bilinear):
    # no linear function of [o, o'] decides it, the factored products do
    o, o2, a = _circle_pairs(2000, seed=0)
    ot, o2t, at = _circle_pairs(1000, seed=1)
    torch.manual_seed(0)
    gated, concat = GatedFusion(2, 2, 8), GatedFusion(2, 2, 0)
    with torch.no_grad():
        acc_gated = _linear_accuracy(gated(o, o2), a, gated(ot, o2t), at)
        acc_concat = _linear_accuracy(concat(o, o2), a, concat(ot, o2t), at)
    assert acc_gated > 0.99
    assert acc_concat < 0.75


def test_gated_fusion_appends_factor_products_and_concat_has_no_parameters():
    torch.manual_seed(0)
    s, f = torch.randn(7, 3), torch.randn(7, 4)
    gated = GatedFusion(3, 4, 5)
    out = gated(s, f)
    assert out.shape == (7, 3 + 4 + 5) == (7, gated.out_dim)
    torch.testing.assert_close(out[:, :3], s)
    torch.testing.assert_close(out[:, 3:7], f)
    torch.testing.assert_close(out[:, 7:], (s @ gated.u.weight.T) * (f @ gated.v.weight.T))
    concat = GatedFusion(3, 4, 0)
    assert list(concat.parameters()) == []
    torch.testing.assert_close(concat(s, f), torch.cat([s, f], -1))


def test_concat_models_keep_their_parameter_names():
    # checkpoints written before the fusion switch existed still load
    names = set(_lam(bottleneck="categorical").state_dict())
    assert not any(n.startswith("idm_fusion") for n in names)
    gated = set(_lam(bottleneck="categorical", idm_fusion="gated", idm_factors=6).state_dict())
    assert gated - names == {"idm_fusion.u.weight", "idm_fusion.v.weight"}


@pytest.mark.parametrize("bottleneck", ["categorical", "vq", "none"])
def test_gated_model_trains_and_labels(bottleneck):
    lam = _lam(bottleneck=bottleneck, idm_fusion="gated", idm_factors=6)
    out = lam.loss(make_batch(VEC), 0, 10)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert lam.idm_fusion.u.weight.grad.abs().sum() > 0 and lam.idm_fusion.v.weight.grad.abs().sum() > 0


def test_linear_encoder_is_affine():
    lam = _lam(mlp_layers=0)
    x, y = torch.randn(4, 5), torch.randn(4, 5)
    enc = lam.encoder
    with torch.no_grad():
        torch.testing.assert_close(enc(0.3 * x + 0.7 * y), 0.3 * enc(x) + 0.7 * enc(y), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kw,needle", [
    (dict(idm_fusion="product"), "model.idm_fusion"),
    (dict(idm_fusion="gated", idm_factors=0), "model.idm_factors"),
    (dict(mlp_layers=-1), "model.mlp_layers"),
])
def test_bad_fusion_settings_name_the_field(kw, needle):
    with pytest.raises(ConfigError) as e:
        _lam(**kw)
    assert needle in str(e.value) and "\n" not in str(e.value)
