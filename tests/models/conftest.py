"""Model tests run torch single-threaded: on the shared 2-core machine, two OpenMP threads on
tiny tensors spin against each other (a 32x128 QR takes ~8 ms instead of ~25 us)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
