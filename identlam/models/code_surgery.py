"""Label-free operations on the codes of a categorical latent action model.

``symmetric_start`` zeroes the output layer of the forward model so that every code makes the
same first prediction. Deterministic annealing (:mod:`identlam.models.schedules`) relies on it:
the entropy bonus keeps ``q`` spread only while no code is much better than the others; with
the default (orthogonal, gain sqrt 2) output layer the per-code errors at step 0 differ by
about 100 times the variance of a PointMass target, so ``q`` collapses onto the luckiest code
in the first steps, whatever the bonus (measured: docs/identification.md). From the symmetric
start the codes split only as the data demand, which is the premise of annealing.
"""

from __future__ import annotations

from torch import nn

OUTPUT_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def output_layer(module: nn.Module) -> nn.Module:
    """The last Linear/Conv layer of ``module`` in registration order (its output layer).

    The forward models of :mod:`identlam.models` register their output layer last
    (``ConditionedMLP.out``, ``PixelFDM.final[-1]``); a module without such a layer is an error.
    """
    last = None
    for m in module.modules():
        if isinstance(m, OUTPUT_LAYERS):
            last = m
    if last is None:
        raise TypeError(f"{type(module).__name__} has no Linear/Conv layer to zero")
    return last


def symmetric_start(fdm: nn.Module) -> nn.Module:
    """Zero the output layer (weights and bias) of ``fdm`` in place and return that layer.

    Afterwards ``fdm(x, e_a)`` is the same (zero: no change predicted, with ``predict_delta``)
    for every code ``a``; gradients still reach the zeroed layer, so training proceeds normally.
    """
    layer = output_layer(fdm)
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer
