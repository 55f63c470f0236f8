"""The cost of the piecewise IDM (``model.idm_cells``) against the one-head model, per training step.

    python benchmarks/idm_cells.py [--cells 16] [--obs vector,image] [--rounds 5] [--device cpu]

For lapo-entropy at its CPU-scale sizes (vectors of width 4 and 64 px images, the preset's batch
size), the training step of ``benchmarks/train.py`` (loss + backward + AdamW step on random
batches built before the clock starts) runs with ``model.idm_cells = 0`` and ``= N`` in
interleaved rounds; the table gives each one's median CPU seconds per step (wall seconds on
CUDA) and their ratio. The ratio is the point: absolute times depend on the machine and its load,
and interleaving exposes both models to the same load.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from identlam.presets import get_preset  # noqa: E402
from train import IMAGE_SHAPE, autocast, build_step, resolve_device, synchronize  # noqa: E402

STEPS_PER_ROUND = 10


def make(obs_kind: str, cells: int, device: torch.device):
    cfg = get_preset("lapo-entropy", "cpu", obs_kind)
    cfg.model = dataclasses.replace(cfg.model, idm_cells=cells)
    net, batches, loss_fn = build_step(cfg, IMAGE_SHAPE if obs_kind == "image" else (4,), cfg.train.batch_size, device)
    net.to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.train.optim.lr)

    def step(i: int) -> None:
        with autocast(device):
            loss = loss_fn(batches[i % len(batches)], i)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step(0)  # calibrates the partition and warms the allocator
    return step


def seconds(step, device: torch.device) -> float:
    synchronize(device)
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    start = clock()
    for i in range(STEPS_PER_ROUND):
        step(i + 1)
    synchronize(device)
    return (clock() - start) / STEPS_PER_ROUND


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=16)
    ap.add_argument("--obs", default="vector,image")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    print(f"lapo-entropy training step, {args.rounds} interleaved rounds of {STEPS_PER_ROUND} steps, "
          f"{'wall' if device.type == 'cuda' else 'CPU'} seconds per step, {torch.get_num_threads()} threads, {device}")
    print(f"{'obs':8s} {'one head':>10s} {f'{args.cells} cells':>10s} {'ratio':>7s}")
    for kind in args.obs.split(","):
        one, many = make(kind, 0, device), make(kind, args.cells, device)
        a, b = [], []
        for _ in range(args.rounds):
            a.append(seconds(one, device))
            b.append(seconds(many, device))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{kind:8s} {ma:10.4f} {mb:10.4f} {mb / ma:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
