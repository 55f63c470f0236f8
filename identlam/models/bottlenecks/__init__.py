"""The information bottlenecks between the IDM and the FDM (contract in :mod:`.base`).

Registered by name in :mod:`identlam.models.factory` (``model.bottleneck``): ``none``
(:class:`ContinuousBottleneck`), ``vq`` (:class:`VQBottleneck`), ``fsq``
(:class:`FSQBottleneck`) and ``categorical`` (:class:`CategoricalBottleneck`).
"""

from identlam.models.bottlenecks.base import (DEAD_FRACTION, USAGE_DECAY, Bottled, Bottleneck, BottleneckLoss,
                                              FDMProbe, entropy)
from identlam.models.bottlenecks.categorical import CategoricalBottleneck
from identlam.models.bottlenecks.quantizers import ContinuousBottleneck, FSQBottleneck, VQBottleneck

__all__ = ["DEAD_FRACTION", "USAGE_DECAY", "Bottled", "Bottleneck", "BottleneckLoss", "CategoricalBottleneck",
           "ContinuousBottleneck", "FDMProbe", "FSQBottleneck", "VQBottleneck", "entropy"]
