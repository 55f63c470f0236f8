"""Training throughput of every preset, and how much of the machine the image step uses.

For each preset (identlam.presets) and each observation kind (vectors, 64 px RGB images), at the
preset's CPU-scale sizes, this times the training step the pipeline runs:

- LAM presets: ``LatentActionModel.loss(batch, step, total_steps)`` + backward + AdamW step;
- ``idm``: the supervision head's ``label_loss`` on a label-split batch + backward + step;
- ``bc``: the BC ``Policy`` with cross-entropy on true actions + backward + step.

Batches are random (uint8 images, float32 vectors, k ~ U{1..K}), built before the clock starts
and cycled, so data loading is not timed. ``samples/s`` counts the unlabelled batch (the
labelled one for ``idm`` and ``bc``). One step per row also runs under
``torch.utils.flop_counter.FlopCounterMode`` (forward and backward; optimizer arithmetic is not
counted), which gives GFLOP/step and the achieved GFLOP/s. ``of matmul`` divides that by the
FLOP/s of a large fp32 matmul measured in the same process with the same threads (each row runs
in a fresh process, which measures the matmul before and after the row): the ratio is what the
measurement is for, since absolute speeds depend on the machine and on its load. The
last column is a preset's FLOPs per sample over those of ``lapo`` on the same observations
(counted in the same process even when ``lapo`` is not among the rows). Recomputed work counts:
the categorical image step recomputes its per-code decoder in the backward pass on CPU
(``PixelFDM.per_code_errors``), and those FLOPs are in GFLOP/step. The table ends with the
command that reproduces it and the machine's load average.

A step can exceed 100% of the matmul: convolutions run in a different library (oneDNN on CPU)
that may reach a higher rate than the matmul library (MKL) on the same core, so the table also
prints the rate of a 3x3 convolution as a second reference.

On a shared CPU, wall-clock rates fall whenever other processes take the cores. The table
therefore also gives rates per second of this process's CPU time (``steps/cpu-s``), and on CPU
the FLOP ratio uses CPU time on both sides (model step and matmul), which other processes'
load does not change. On CUDA every rate is per wall-clock second.

    python benchmarks/train.py                       # all presets, vectors and images, CPU
    python benchmarks/train.py --presets lapo-entropy,laom --obs image --steps 3
    python benchmarks/train.py --device auto --json out.json   # CUDA (bf16 autocast) if present
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from identlam.io import atomic_write_json
from identlam.models import LatentActionModel
from identlam.models.policy import Policy
from identlam.presets import PRESET_NAMES, get_preset

IMAGE_SHAPE = (64, 64, 3)
N_ACTIONS = 4  # discrete actions for the supervision heads and BC
N_BATCHES = 2  # distinct random batches, cycled
BASELINE = "lapo"  # FLOPs per sample are also printed relative to this preset's


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast(device: torch.device):
    """As in training: bf16 autocast on CUDA, fp32 on CPU."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Clock:
    """Elapsed wall-clock and process CPU seconds of a block."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        synchronize(self.device)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        synchronize(self.device)
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def matmul_flops_per_s(n: int, device: torch.device, reps: int = 5) -> tuple[float, float]:
    """(per wall second, per CPU second) FLOP rate of an (n, n) @ (n, n) fp32 matmul
    (2 n^3 FLOPs), median over ``reps``."""
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, generator=g, device=device)
    b = torch.randn(n, n, generator=g, device=device)
    a @ b  # warm-up: allocations and kernel selection
    walls, cpus = [], []
    for _ in range(reps):
        with Clock(device) as clock:
            a @ b
        walls.append(clock.wall)
        cpus.append(clock.cpu)
    return 2 * n**3 / statistics.median(walls), 2 * n**3 / max(statistics.median(cpus), 1e-9)


def conv_flops_per_s(device: torch.device, reps: int = 5) -> tuple[float, float]:
    """The same rates for a 3x3 conv, 64 -> 64 channels on (32, 64, 16, 16): a second reference,
    since the conv library (oneDNN on CPU) can outrun the matmul library on some CPUs."""
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(32, 64, 16, 16, generator=g, device=device)
    w = torch.randn(64, 64, 3, 3, generator=g, device=device)
    flops = 2 * 32 * 64 * 16 * 16 * 64 * 9
    F.conv2d(x, w, padding=1)
    walls, cpus = [], []
    for _ in range(reps):
        with Clock(device) as clock:
            F.conv2d(x, w, padding=1)
        walls.append(clock.wall)
        cpus.append(clock.cpu)
    return flops / statistics.median(walls), flops / max(statistics.median(cpus), 1e-9)


def random_obs(shape, frames: int, batch: int, g: torch.Generator, device) -> torch.Tensor:
    if len(shape) == 3:
        h, w, c = shape
        return torch.randint(0, 256, (batch, h, w, c * frames), generator=g, dtype=torch.uint8).to(device)
    return torch.randn(batch, shape[0] * frames, generator=g).to(device)


def random_windows(shape, m, batch: int, g: torch.Generator, device, actions: bool = False) -> dict:
    """A batch in the layout of identlam.data's Windows (plus ``actions`` for a label batch)."""
    out = {key: random_obs(shape, m.frame_stack, batch, g, device)
           for key in ("obs_t", "obs_next", "obs_future", "obs_past")}
    out["k"] = torch.randint(1, m.future_k + 1, (batch,), generator=g).to(device)
    if actions:
        out["actions"] = torch.randint(0, N_ACTIONS, (batch,), generator=g).to(device)
    return out


def build_step(cfg, obs_shape, batch_size: int, device):
    """(trainable module, list of batches, loss function of (batch, step)) for one preset."""
    m, g = cfg.model, torch.Generator().manual_seed(0)
    if cfg.kind == "bc":
        image = len(obs_shape) == 3
        stacked = (*obs_shape[:2], obs_shape[2] * m.frame_stack) if image else (obs_shape[0] * m.frame_stack,)
        net = Policy(stacked, N_ACTIONS, hidden_dim=cfg.bc.hidden_dim, impala_scale=cfg.bc.impala_scale,
                     channels=m.impala_channels, res_blocks=m.impala_res_blocks, seed=0)
        batches = [random_windows(obs_shape, m, batch_size, g, device, actions=True) for _ in range(N_BATCHES)]
        return net, batches, lambda b, step: F.cross_entropy(net(b["obs_t"]).float(), b["actions"])
    net = LatentActionModel(m, obs_shape, "discrete", n_actions=N_ACTIONS, seed=0)
    if cfg.kind == "idm":
        batches = [random_windows(obs_shape, m, batch_size, g, device, actions=True) for _ in range(N_BATCHES)]
        return net, batches, lambda b, step: net.label_loss(b, step)
    batches = []
    for _ in range(N_BATCHES):
        b = random_windows(obs_shape, m, batch_size, g, device)
        if m.label_coef > 0:
            b["labels"] = random_windows(obs_shape, m, m.label_batch_size, g, device, actions=True)
        batches.append(b)
    return net, batches, lambda b, step: net.loss(b, step, cfg.train.steps).loss


def make_step(name: str, obs_kind: str, args, device):
    """(step function of the step index, batch size) for one preset's training step."""
    cfg = get_preset(name, "cpu", obs_kind)
    obs_shape = IMAGE_SHAPE if obs_kind == "image" else (args.vector_dim,)
    batch_size = args.batch_size or cfg.train.batch_size
    net, batches, loss_fn = build_step(cfg, obs_shape, batch_size, device)
    net.to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.train.optim.lr, weight_decay=cfg.train.optim.weight_decay)

    def step(i: int) -> None:
        with autocast(device):
            loss = loss_fn(batches[i % N_BATCHES], i)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step, batch_size


def counted_flops(step, i: int) -> float:
    counter = FlopCounterMode(display=False)
    with counter:
        step(i)
    return counter.get_total_flops()


def baseline_flops_per_sample(obs_kind: str, args, device) -> float:
    """FLOPs per sample of one ``BASELINE`` step (counted, not timed), when it is not a row."""
    step, batch_size = make_step(BASELINE, obs_kind, args, device)
    step(0)
    return counted_flops(step, 1) / batch_size


def bench(name: str, obs_kind: str, args, device, matmul: float) -> dict:
    step, batch_size = make_step(name, obs_kind, args, device)
    for i in range(args.warmup):
        step(i)
    flops = counted_flops(step, args.warmup)
    with Clock(device) as clock:
        for i in range(args.steps):
            step(args.warmup + 1 + i)
    steps_per_s, steps_per_cpu_s = args.steps / clock.wall, args.steps / max(clock.cpu, 1e-9)
    # the comparable rate: CPU time on a CPU (immune to other processes' load), wall time on CUDA
    rate, baseline = (steps_per_cpu_s, matmul[1]) if device.type == "cpu" else (steps_per_s, matmul[0])
    return {"preset": name, "obs": obs_kind, "batch": batch_size, "steps_per_s": steps_per_s,
            "samples_per_s": steps_per_s * batch_size, "steps_per_cpu_s": steps_per_cpu_s,
            "gflop_per_step": flops / 1e9, "flop_per_sample": flops / batch_size, "gflop_per_s": flops * rate / 1e9,
            "fraction_of_matmul": flops * rate / baseline}


def print_table(rows: list[dict], conv: tuple[float, float], args, device) -> None:
    per = "CPU" if device.type == "cpu" else "wall"
    print(f"device {device}, torch threads {args.threads}; baseline: fp32 matmul {args.matmul_size}^2, measured in each "
          f"row's own process before and after its steps (columns 'matmul' and 'after'); fp32 3x3 conv 64->64 "
          f"(reference): {conv[0] / 1e9:.1f} GFLOP per wall s, {conv[1] / 1e9:.1f} per CPU s")
    head = (f"{'preset':<16} {'obs':<6} {'batch':>5} {'steps/s':>8} {'samples/s':>10} {'steps/cpu-s':>11} "
            f"{'GFLOP/step':>10} {'GFLOP/' + per + '-s':>12} {'matmul':>7} {'after':>6} {'of matmul':>9} "
            f"{'FLOP/sample vs ' + BASELINE:>18}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['preset']:<16} {r['obs']:<6} {r['batch']:>5} {r['steps_per_s']:>8.2f} {r['samples_per_s']:>10.1f} "
              f"{r['steps_per_cpu_s']:>11.2f} {r['gflop_per_step']:>10.3f} {r['gflop_per_s']:>12.2f} "
              f"{r['matmul_gflop_per_s']:>7.1f} {r['matmul_after'] / r['matmul_gflop_per_s']:>6.0%} "
              f"{r['fraction_of_matmul']:>9.1%} {r['flop_per_sample_vs_baseline']:>17.2f}x")


def run_row(name: str, kind: str, args, device) -> dict:
    """One row with its own matmul baseline (before and after), in this process."""
    matmul = matmul_flops_per_s(args.matmul_size, device)
    row = bench(name, kind, args, device, matmul)
    after = matmul_flops_per_s(args.matmul_size, device)
    i = 1 if device.type == "cpu" else 0  # the rate the row's ratio uses
    return {**row, "matmul_gflop_per_s": matmul[i] / 1e9, "matmul_after": after[i] / 1e9}


def row_in_subprocess(name: str, kind: str, argv: list[str]) -> dict:
    """Each row runs in a fresh interpreter: the C allocator's state left by one preset (its
    mmap threshold, the heap it kept) changed the next preset's page faults, and with them its
    speed by up to 2x in one process, so rows sharing a process depended on their order."""
    cmd = [sys.executable, __file__, *argv, "--row", f"{name}:{kind}"]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def command_line(argv) -> str:
    """The command that reproduces this table."""
    return " ".join(["python benchmarks/train.py", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", default=",".join(PRESET_NAMES), help="comma-separated preset names")
    p.add_argument("--obs", default="vector,image", help="vector, image or both (comma-separated)")
    p.add_argument("--steps", type=int, default=5, help="timed steps per row")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps before the FLOP-counted one")
    p.add_argument("--batch-size", type=int, default=0, help="0 = the preset's train.batch_size")
    p.add_argument("--vector-dim", type=int, default=8, help="D of the vector observations")
    p.add_argument("--matmul-size", type=int, default=2048)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (the CPU may be shared)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    p.add_argument("--row", default=None, help=argparse.SUPPRESS)  # PRESET:OBS, one row as JSON (internal)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    presets = [n for n in args.presets.split(",") if n]
    kinds = [k for k in args.obs.split(",") if k]
    for n in presets:
        get_preset(n)  # fail on an unknown name before any timing
    if args.row:
        name, kind = args.row.split(":")
        print(json.dumps(run_row(name, kind, args, device)))
        return 0
    forwarded = [a for a in (sys.argv[1:] if argv is None else argv)]
    rows = []
    for kind in kinds:
        for name in presets:
            rows.append(row_in_subprocess(name, kind, forwarded))
            print(f"  done {name} {kind}: {rows[-1]['steps_per_s']:.2f} steps/s", file=sys.stderr, flush=True)
        own = [r for r in rows if r["obs"] == kind and r["preset"] == BASELINE]
        base = own[0]["flop_per_sample"] if own else baseline_flops_per_sample(kind, args, device)
        for r in rows:
            if r["obs"] == kind:
                r["flop_per_sample_vs_baseline"] = r["flop_per_sample"] / base
    conv = conv_flops_per_s(device)
    print_table(rows, conv, args, device)
    print(f"command: {command_line(argv)}  (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    if args.json:
        atomic_write_json(args.json, {"device": str(device), "threads": torch.get_num_threads(),
                                      "conv_flops_per_s": conv,
                                      "rows": rows, "args": vars(args)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
