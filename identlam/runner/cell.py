"""What a worker does: make a dataset, train a shared LAM stage, or run one cell of the sweep.

Every task goes through the public ``identlam`` commands (``generate``, ``collect``, ``train``,
``relabel``, ``bc``, ``decode``, ``evaluate``, ``pipeline``), called in-process with
:func:`identlam.cli.main`, so the runner follows the command line's contract, not internals.

A task is a plain dict (picklable for process pools and Ray) and returns a plain dict
``{"ok", "error", "seconds"}``. Visibility rules of the results store:

- a cell works in ``runs/.tmp/ID`` (an interrupted cell resumes there: the pipeline skips
  finished stages), writes ``result.json`` then the ``done`` marker last, and only then is renamed
  to ``runs/ID`` (one atomic rename), so ``runs/`` never shows a partial run;
- a shared LAM stage is trained in ``shared/.tmp/train-KEY`` and renamed to ``shared/train-KEY``;
  a cell that uses it starts with a hard link of its ``model.pt`` (stage 1 is then skipped);
- a failed cell leaves ``failed/ID.json`` with its one-line error (a rerun retries it);
- recomputing a finished run's offline report (``identlam run --recompute-offline``) works in
  ``runs/ID`` itself: ``identlam evaluate`` replaces ``metrics.json`` in one rename under the
  run's lock, then ``result.json`` is replaced from it, so the run is never shown unfinished.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from identlam.io import atomic_write_json, atomic_write_text
from identlam.provenance import code_version

SHARED_FILES = ("model.pt", "restarts.json")  # stage-1 outputs a cell reuses as they are
COPIED_FILES = ("log.jsonl",)  # appended to by later stages: copied, not linked


def set_threads(threads: int) -> None:
    """Tiny networks: one thread per worker beats sharing cores between workers' thread pools."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def init_worker(threads: int, sweep_pid: int) -> None:
    """Process-pool initializer: threads, and exit as soon as the sweep's process is gone.

    A sweep killed with SIGKILL cannot stop its workers; without this they would finish their
    cell and rename it into place while the rerun works on the same cell. ``sweep_pid`` comes
    from the sweep, not from ``os.getppid()`` here: a sweep killed while its workers still import
    torch has already left them to init, whose pid they would then take for the sweep's.
    """
    set_threads(threads)
    if os.getppid() != sweep_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != sweep_pid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def execute(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task (``kind``: data, train or cell); never raises for a failure of the work."""
    start = time.perf_counter()
    set_threads(task["threads"])
    os.environ.setdefault("IDENTLAM_CACHE", str(Path(task["out"]) / "cache"))
    try:
        error = {"data": _data, "train": _shared_train, "cell": _cell, "recompute": _recompute}[task["kind"]](task)
    except Exception as err:  # a bug in a stage must not stop the other cells; the log keeps it
        error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return {"ok": error is None, "error": error, "seconds": time.perf_counter() - start}


def dataset_path(out: str | Path, data: dict[str, Any], key: str) -> Path:
    if data["source"] == "file":
        return Path(data["path"])
    env = str(data["env"]).replace("/", "-")
    return Path(out) / "data" / f"{env}_s{data['seed']}_{key}.h5"


def _data(task: dict[str, Any]) -> str | None:
    data, path = task["data"], Path(task["path"])
    if path.is_file():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = [("generate" if data["source"] == "synthetic" else "collect"), data["env"], "--out", str(path),
            "--episodes", str(data["episodes"]), "--steps", str(data["steps"]), "--seed", str(data["seed"])]
    for key, value in data["params"].items():
        argv += ["--set", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    if data.get("policy"):
        argv += ["--policy", data["policy"]]
    argv.append("--quiet")
    log = path.with_suffix(".log")
    return _command(argv, log)


def _shared_train(task: dict[str, Any]) -> str | None:
    final = Path(task["dir"])
    if (final / "model.pt").is_file():
        return None
    tmp = final.parent / ".tmp" / final.name
    tmp.mkdir(parents=True, exist_ok=True)
    error = _command(["train", *_run_args(task, tmp)], tmp / "run.log")
    if error is None:
        _publish(tmp, final)
    return error


def _cell(task: dict[str, Any]) -> str | None:
    out, run_id, t0 = Path(task["out"]), task["run_id"], time.perf_counter()
    final = out / "runs" / run_id
    if (final / "done").is_file():
        return None
    tmp = out / "runs" / ".tmp" / run_id
    tmp.mkdir(parents=True, exist_ok=True)
    failed = out / "failed" / f"{run_id}.json"
    failed.unlink(missing_ok=True)
    atomic_write_json(tmp / "cell.json", task["record"])
    if task.get("shared") and not (tmp / "model.pt").is_file():
        _reuse_stage(Path(task["shared"]), tmp)
    log = tmp / "run.log"

    def fail(error: str) -> str:
        atomic_write_json(failed, {"run_id": run_id, "error": error, "log": str(log), "cell": task["record"]})
        return error

    stages = task["stages"]
    evaluate = ([] if task.get("episodes") is None else ["--episodes", str(task["episodes"])]) + \
        ([] if task.get("regions") is None else ["--regions", task["regions"]])
    if list(stages) == ["train", "relabel", "bc", "decode", "evaluate"]:
        commands = [["pipeline", *_run_args(task, tmp), *evaluate]]  # checks the regions before training
    else:
        error = _regions_misfit(task) if "evaluate" in stages else None
        if error is not None:
            return fail(error)
        commands = [["train", *_run_args(task, tmp)]]
        commands += [[stage, str(tmp), "--threads", str(task["threads"]), *(evaluate if stage == "evaluate" else [])]
                     for stage in stages[1:]]
    for argv in commands:
        error = _command(argv, log)
        if error is not None:
            return fail(error)
    metrics = flatten_metrics(tmp / "metrics.json")
    atomic_write_json(tmp / "result.json", {"metrics": metrics, "seconds": time.perf_counter() - t0,
                                            "code": code_version()})
    atomic_write_text(tmp / "done", "")
    _publish(tmp, final)
    return None


def _recompute(task: dict[str, Any]) -> str | None:
    """A finished run's offline report computed again in place; its online returns and training kept."""
    run = Path(task["out"]) / "runs" / task["run_id"]
    argv = ["evaluate", str(run), "--recompute-offline", "--threads", str(task["threads"])]
    error = _command(argv + ([] if task.get("regions") is None else ["--regions", task["regions"]]), run / "run.log")
    if error is None:
        result = json.loads((run / "result.json").read_text())
        # "code" stays the code that trained the run; the offline metrics are now this code's
        atomic_write_json(run / "result.json", {**result, "metrics": flatten_metrics(run / "metrics.json"),
                                                "offline_code": code_version()})
    return error


def _regions_misfit(task: dict[str, Any]) -> str | None:
    """The evaluation's region spec checked against the dataset's held-out states before training, as
    ``identlam pipeline`` does (a collect source's state dimension is known only once its dataset is
    made): a spec that does not fit would fail the run at its evaluation, after training."""
    if task.get("regions") is None:
        return None
    from identlam.errors import IdentlamError
    from identlam.train.evaluate import check_regions_fit_data
    from identlam.train.pipeline import make_config

    try:
        cfg = make_config(task["data_path"], task["preset"], scale=task["scale"], seed=task["seed"],
                          overrides=_set_args(task))
        check_regions_fit_data(task["regions"], cfg, task["data_path"])
    except IdentlamError as err:
        return str(err)
    return None


def _set_args(task: dict[str, Any]) -> list[str]:
    """The run's config overrides as ``key=value`` (the form of ``--set``)."""
    return [f"{key}={json.dumps(value)}" for key, value in task["overrides"].items()]


def _run_args(task: dict[str, Any], out: Path) -> list[str]:
    argv = ["--data", task["data_path"], "--method", task["preset"], "--scale", task["scale"],
            "--seed", str(task["seed"]), "--out", str(out), "--threads", str(task["threads"])]
    for assignment in _set_args(task):
        argv += ["--set", assignment]
    return argv


def _reuse_stage(shared: Path, run: Path) -> None:
    for name in SHARED_FILES:
        src = shared / name
        if src.is_file():
            try:
                os.link(src, run / name)
            except OSError:  # another filesystem: a copy is as good
                shutil.copy2(src, run / name)
    for name in COPIED_FILES:
        if (shared / name).is_file():
            shutil.copy2(shared / name, run / name)


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished directory into place in one rename; a copy that won a race stays."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _command(argv: list[str], log: Path) -> str | None:
    """``identlam ARGV`` in this process, its output appended to ``log``; the error line or None."""
    from identlam.cli import main

    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as fh:
        fh.write(f"$ identlam {' '.join(argv)}\n")
        fh.flush()
        start = time.perf_counter()
        with _redirected(fh):
            try:
                rc = main(argv)
            except SystemExit as stop:  # argparse rejects an argument
                rc = stop.code if isinstance(stop.code, int) else 2
        fh.write(f"# identlam {argv[0]}: exit status {rc} after {time.perf_counter() - start:.1f} s\n")
    if rc == 0:
        return None
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip() and not ln.startswith("# ")]
    errors = [ln for ln in lines if "error:" in ln]
    return (errors or lines or [f"identlam {argv[0]} exited with status {rc}"])[-1].strip()


@contextlib.contextmanager
def _redirected(fh) -> Iterator[None]:
    """stdout and stderr of this process (Python and C level) into ``fh`` for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(fh.fileno(), 1)
    os.dup2(fh.fileno(), 2)
    try:
        with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def flatten_metrics(path: Path) -> dict[str, float]:
    """The numbers of ``metrics.json``: offline scores by their name, online ones as ``online.NAME``,
    the label-free quality as ``label_free.NAME``, and each point of the decoder curves (true
    actions decoded from B labelled transitions) as ``decoder.NAME@B``, e.g.
    ``decoder.global_lookup@16``."""
    from identlam.metrics._report import DECODERS

    if not path.is_file():
        return {}
    report = json.loads(path.read_text())
    out: dict[str, float] = {}
    offline = report.get("offline") or {}
    for key, value in (offline.get("score") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
    curves = ((offline.get("details") or {}).get("parts") or {}).get("decoder_curves") or {}
    for name, values in curves.items():
        if name in DECODERS:
            out.update({f"decoder.{name}@{b}": float(v) for b, v in zip(curves["budgets"], values)})
    for part in ("online", "label_free"):
        for key, value in (report.get(part) or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f"{part}.{key}"] = float(value)
    return out
