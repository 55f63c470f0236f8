"""Run an experiment: plan the tasks (datasets, shared LAM stages, cells), run them on a backend
in dependency order, show progress, then rebuild the results table.

Backends: ``local`` (a pool of worker processes on this machine) and ``ray`` (Ray tasks with
CPU/GPU requests, on a local Ray instance or a cluster given by its address). Both run the same
:func:`identlam.runner.cell.execute`, so they give the same table for the same seeds.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from identlam.errors import ConfigError
from identlam.io import atomic_write_text
from identlam.provenance import recorded_source, source_hash
from identlam.runner.cell import dataset_path, execute, init_worker
from identlam.runner.spec import Cell, Experiment


RUN_TASKS = ("cell", "recompute")  # the tasks that are runs of the grid (counted in the progress)
RECOMPUTE_MARKER = "recompute.json"  # a pass of --recompute-offline under way: {"started": time}


def plan(exp: Experiment, out: Path, cells: list[Cell] | None = None,
         recompute_since: float | None = None) -> tuple[list[dict], int]:
    """The tasks still to do for ``cells`` (default: every cell; each task with ``deps``: ids of
    tasks that must succeed first) and the number of those cells already finished. A LAM stage is
    shared (``out/shared``) when several cells of the whole experiment need it, so that a selection
    run first trains it where the rest of the sweep finds it. With ``recompute_since`` (a time),
    each finished run whose ``metrics.json`` is older gets a task recomputing its offline report."""
    tasks: dict[str, dict] = {}
    cells = exp.cells if cells is None else cells
    unfinished = [c for c in exp.cells if not (out / "runs" / c.run_id / "done").is_file()]
    selected = {c.run_id for c in cells}
    todo = [c for c in unfinished if c.run_id in selected]
    base = {"out": str(out), "threads": exp.threads}
    if recompute_since is not None:
        for cell in cells:
            metrics = out / "runs" / cell.run_id / "metrics.json"
            if cell not in todo and metrics.is_file() and metrics.stat().st_mtime < recompute_since:
                tasks[cell.run_id] = {**base, "id": cell.run_id, "kind": "recompute", "run_id": cell.run_id,
                                      "regions": cell.regions, "deps": [], "label": f"{cell.run_id} (offline report)"}
    for cell in todo:
        path = dataset_path(out, cell.data, cell.data_key)
        if cell.data["source"] != "file" and not path.is_file():
            tasks.setdefault(f"data:{cell.data_key}", {**base, "id": f"data:{cell.data_key}", "kind": "data",
                                                       "data": cell.data, "path": str(path), "deps": [],
                                                       "label": f"data {path.name}"})
    shared_counts = Counter(c.train_key for c in exp.cells if c.stages[0] == "train")
    for cell in todo:
        path = dataset_path(out, cell.data, cell.data_key)
        deps = [f"data:{cell.data_key}"] if f"data:{cell.data_key}" in tasks else []
        common = {**base, "data_path": str(path), "preset": cell.preset, "scale": exp.scale, "seed": cell.seed,
                  "overrides": cell.overrides}
        shared = None
        if shared_counts[cell.train_key] > 1:
            shared = out / "shared" / f"train-{cell.train_key}"
            tid = f"train:{cell.train_key}"
            if not (shared / "model.pt").is_file():
                tasks.setdefault(tid, {**common, "id": tid, "kind": "train", "dir": str(shared), "deps": list(deps),
                                       "label": f"shared LAM stage {cell.train_key}"})
                deps = deps + [tid]
        tasks[cell.run_id] = {**common, "id": cell.run_id, "kind": "cell", "run_id": cell.run_id,
                              "stages": list(cell.stages), "regions": cell.regions, "episodes": cell.episodes,
                              "shared": str(shared) if shared else None, "deps": deps, "label": cell.run_id,
                              "record": record(exp, cell)}
    redo = sum(t["kind"] == "recompute" for t in tasks.values())
    return list(tasks.values()), len(cells) - len(todo) - redo


def record(exp: Experiment, cell: Cell) -> dict[str, Any]:
    """What ``runs/ID/cell.json`` keeps: enough to rebuild the table row without the TOML."""
    return {"experiment": exp.name, "run_id": cell.run_id, "params": cell.params, "seed": cell.seed,
            "columns": exp.columns, "metrics": exp.metrics, **{k: v for k, v in asdict(cell).items()
                                                               if k not in ("params", "seed", "run_id")}}


class LocalBackend:
    name = "local"

    def __init__(self, workers: int, threads: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a worker never inherits a half-initialized torch from this process
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=init_worker, initargs=(threads, os.getpid()))
        self.slots = workers

    def submit(self, task: dict) -> Any:
        return self.pool.submit(execute, task)

    def wait(self, handles: list, timeout: float) -> list:
        from concurrent.futures import FIRST_COMPLETED, wait

        return list(wait(handles, timeout=timeout, return_when=FIRST_COMPLETED).done)

    def result(self, handle: Any) -> dict:
        return handle.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    name = "ray"

    def __init__(self, workers: int, threads: int, gpus: float | str, address: str | None):
        try:
            import ray
        except ImportError:
            raise ConfigError("--backend ray needs Ray: pip install 'identlam[ray]'") from None
        self.ray = ray
        env = {"OMP_NUM_THREADS": str(threads)}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        self.started = not ray.is_initialized()
        if self.started:
            kwargs: dict[str, Any] = {"include_dashboard": False, "runtime_env": {"env_vars": env},
                                      "log_to_driver": False}
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=workers * threads, **kwargs)
        cluster_gpus = ray.cluster_resources().get("GPU", 0)
        per_cell = (1 if cluster_gpus else 0) if gpus == "auto" else float(gpus)
        self.slots = max(1, int(ray.cluster_resources().get("CPU", workers) // threads))
        self.remote = ray.remote(execute).options(num_cpus=threads, num_gpus=per_cell, max_retries=0)

    def submit(self, task: dict) -> Any:
        return self.remote.remote(task)

    def wait(self, handles: list, timeout: float) -> list:
        done, _ = self.ray.wait(handles, num_returns=1, timeout=timeout)
        return done

    def result(self, handle: Any) -> dict:
        return self.ray.get(handle)

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


class InlineBackend:
    """One worker: the tasks run in this process, one after the other (no process start, no
    second import of torch: the runner then costs next to nothing over the pipeline itself)."""

    name = "local"
    slots = 1

    def __init__(self, threads: int):
        from identlam.runner.cell import set_threads

        set_threads(threads)

    def submit(self, task: dict) -> Any:
        return _Finished(execute(task))

    def wait(self, handles: list, timeout: float) -> list:
        return handles[:1]

    def result(self, handle: Any) -> dict:
        return handle.result


    def close(self) -> None:
        pass


class _Finished:
    """The handle of a task that ran inline (hashable by identity, like a future)."""

    def __init__(self, result: dict):
        self.result = result


def make_backend(name: str, workers: int, threads: int, gpus: float | str, address: str | None):
    if name == "local":
        if address:
            raise ConfigError("--address is for --backend ray")
        return InlineBackend(threads) if workers == 1 else LocalBackend(workers, threads)
    if name == "ray":
        return RayBackend(workers, threads, gpus, address)
    raise ConfigError(f"--backend: expected local or ray, got {name!r}")


def run_tasks(tasks: list[dict], backend, total: int, finished: int, echo: Callable[[str], None]) -> dict[str, str]:
    """Run ``tasks`` in dependency order; returns {task id: error} for every task that failed."""
    waiting = {t["id"]: t for t in tasks}
    running: dict[Any, dict] = {}
    errors: dict[str, str] = {}
    # the ETA comes from runs that started from nothing: a run resumed from its checkpoint
    # finishes in a fraction of a run's time (used only until a fresh one has finished)
    cell_seconds: list[float] = []
    resumed_seconds: list[float] = []
    done = finished
    progress = Progress(total, echo)
    progress.line(done, running.values(), cell_seconds, backend.slots)
    while waiting or running:
        for tid, task in list(waiting.items()):
            failed_dep = next((d for d in task["deps"] if d in errors), None)
            if failed_dep is not None:
                del waiting[tid]
                errors[tid] = f"{failed_dep} failed: {errors[failed_dep]}"
                if task["kind"] in RUN_TASKS:
                    done += 1
                    progress.finish(task, errors[tid], None, done)
                    _record_failure(task, errors[tid])
            elif not any(d in waiting or d in {t["id"] for t in running.values()} for d in task["deps"]):
                if len(running) < backend.slots:  # no queue: the submitted tasks are the running ones
                    del waiting[tid]
                    task["started"] = time.time()
                    task["resumed"] = task["kind"] == "cell" and _has_checkpoint(task)
                    running[backend.submit(task)] = task
        if not running:
            continue
        for handle in backend.wait(list(running), timeout=1.0):
            task = running.pop(handle)
            result = backend.result(handle)
            if not result["ok"]:
                errors[task["id"]] = result["error"]
            if task["kind"] in RUN_TASKS:
                done += 1
                if result["ok"]:
                    (resumed_seconds if task.get("resumed") else cell_seconds).append(result["seconds"])
                progress.finish(task, result["error"], result["seconds"], done,
                                progress.status(done, running.values(), cell_seconds or resumed_seconds,
                                                backend.slots))
            else:
                progress.note(f"{task['label']}: {'ok' if result['ok'] else 'FAILED: ' + result['error']} "
                              f"({result['seconds']:.1f} s)")
        progress.line(done, running.values(), cell_seconds or resumed_seconds, backend.slots)
    progress.close()
    return errors


def _record_failure(task: dict, error: str) -> None:
    from identlam.io import atomic_write_json

    atomic_write_json(Path(task["out"]) / "failed" / f"{task['run_id']}.json",
                      {"run_id": task["run_id"], "error": error, "cell": task["record"]})


def _has_checkpoint(task: dict) -> bool:
    """Whether a run starts from a checkpoint an interrupted sweep left in ``runs/.tmp/ID``."""
    return any((Path(task["out"]) / "runs" / ".tmp" / task["run_id"] / "checkpoints").glob("*.pt"))


class Progress:
    """Runs done / total, the running ones and an ETA: one rewritten line in a terminal, plain
    lines (one per finished run) otherwise."""

    def __init__(self, total: int, echo: Callable[[str], None]):
        self.total, self.echo = total, echo
        self.tty = echo is print and sys.stdout.isatty()
        self.start = time.time()

    def finish(self, task: dict, error: str | None, seconds: float | None, done: int, status: str = "") -> None:
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        outcome = "done" if error is None else f"FAILED: {error}"
        self.note(f"[{done}/{self.total}] {task['label']} {outcome}{took}" + (f" ({status})" if status else ""))

    def status(self, done: int, running, seconds: list[float], slots: int) -> str:
        """``running: a, b; ETA 1m20s`` (the ETA once a run has finished)."""
        names = [t["label"] for t in running if t["kind"] in RUN_TASKS]
        eta = ""
        if seconds and done < self.total:
            left = (self.total - done) * (sum(seconds) / len(seconds)) / max(1, min(slots, self.total - done))
            eta = f"; ETA {_duration(left)}"
        shown = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        return f"running: {shown or '-'}{eta}"

    def note(self, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\033[K")
        self.echo(text)

    def line(self, done: int, running, seconds: list[float], slots: int) -> None:
        if self.tty:
            sys.stdout.write(f"\r\033[K{done}/{self.total} runs done; {self.status(done, running, seconds, slots)}")
            sys.stdout.flush()

    def close(self) -> None:
        if self.tty:
            sys.stdout.write("\r\033[K")
            sys.stdout.flush()
        self.echo(f"sweep took {_duration(time.time() - self.start)}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _recompute_start(marker: Path) -> float | None:
    import json

    try:
        return float(json.loads(marker.read_text())["started"])
    except (OSError, ValueError, KeyError, TypeError):  # none, or torn: a new pass
        return None


def _note_other_code(out: Path, cells: list[Cell], echo: Callable[[str], None]) -> None:
    """Say which finished runs were made by other identlam code than this one: a run is keyed by
    its config alone, so the sweep keeps them, with the numbers that code gave."""
    here, others = source_hash(), Counter()
    for cell in cells:
        run = out / "runs" / cell.run_id
        if not (run / "done").is_file():
            continue
        try:
            source = recorded_source(json.loads((run / "result.json").read_text()))
        except (OSError, ValueError):
            source = None
        if source != here:
            others[f"by source {source}" if source else "with none recorded"] += 1
    if others:
        made = ", ".join(f"{n} {which}" for which, n in others.most_common())
        echo(f"note: {sum(others.values())} finished run(s) in {out / 'runs'} were made by other identlam code "
             f"({made}; this is source {here}) and are kept with that code's numbers; delete their folders, "
             "or run into a new --out, to make them with this code")


def run_experiment(exp: Experiment, out: str | Path, *, backend: str = "local", workers: int = 1,
                   address: str | None = None, echo: Callable[[str], None] = print,
                   cells: list[Cell] | None = None, recompute_offline: bool = False) -> dict[str, Any]:
    """Run every unfinished cell of ``exp`` (or of its selection ``cells``) into ``out``, then
    rebuild ``out/results.csv`` (from every finished run of the store).

    ``recompute_offline``: also compute the offline report of every finished run again (after
    identlam's metrics changed), keeping its training and online returns. The pass is resumable:
    ``out/recompute.json`` holds its start, a rerun skips the runs recomputed since, and the file
    goes when a pass over the whole experiment (no ``cells`` selection) ends without a failure.

    Returns ``{"total", "finished_before", "ran", "failed": {run_id: error}}`` for the cells run.
    """
    from identlam.io import atomic_write_json
    from identlam.runner.results import write_results

    out = Path(out)
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "experiment.toml", exp.text or exp.path.read_text())
    since = None
    marker = out / RECOMPUTE_MARKER
    if recompute_offline:
        since = _recompute_start(marker)
        if since is None:
            since = time.time()
            atomic_write_json(marker, {"started": since})
        else:
            echo(f"continuing the recomputation of offline reports started {time.ctime(since)}: runs recomputed "
                 f"since are kept (delete {marker} to start over)")
    tasks, finished = plan(exp, out, cells, since)
    total = len(exp.cells if cells is None else cells)
    _note_other_code(out, exp.cells if cells is None else cells, echo)
    selection = "" if cells is None else f" (selected by --only from {len(exp.cells)})"
    failed: dict[str, str] = {}
    if finished == total:
        echo(f"{exp.name}: all {total} runs{selection} already finished in {out}; nothing to do")
    else:
        redo = sum(t["kind"] == "recompute" for t in tasks)
        recomputed = f", {redo} of them finished runs whose offline report is recomputed" if redo else ""
        echo(f"{exp.name}: {total - finished} of {total} runs{selection} to do ({finished} finished before{recomputed}) "
             f"with {workers} {backend} worker(s) -> {out}")
        engine = make_backend(backend, workers, exp.threads, exp.gpus, address)
        try:
            errors = run_tasks(tasks, engine, total, finished, echo)
        finally:
            engine.close()
        failed = {k: v for k, v in errors.items() if any(t["id"] == k and t["kind"] in RUN_TASKS for t in tasks)}
    if recompute_offline and not failed and cells is None:
        marker.unlink(missing_ok=True)
    ids = {c.run_id for c in exp.cells}
    stale = [p.name for p in (out / "runs").glob("*/done") if p.parent.name not in ids]
    if stale:
        echo(f"note: {len(stale)} finished run(s) in {out / 'runs'} are not in this config (an earlier version of "
             "it?); they stay in results.csv until their folders are deleted")
    write_results(out)
    return {"total": total, "finished_before": finished, "ran": total - finished, "failed": failed}
