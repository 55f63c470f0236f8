"""The identlam dataset format: write, open and validate, windows, label splits.

``write_dataset`` and ``open_dataset`` are the entry points; ``Dataset.observations`` gives the
windows training may see, ``Dataset.label_split`` the only actions training may see, and
``identlam.data.privileged.privileged(ds)`` everything else (metrics and evaluation only).
"""

from identlam.data.labels import LabelSplit
from identlam.data.reader import Dataset, open_dataset
from identlam.data.schema import FORMAT
from identlam.data.windows import LabeledWindows, WindowSampler, Windows
from identlam.data.writer import write_dataset

__all__ = [
    "FORMAT",
    "Dataset",
    "LabelSplit",
    "LabeledWindows",
    "WindowSampler",
    "Windows",
    "open_dataset",
    "write_dataset",
]
