"""Run prototype.py for one named configuration over seeds (2 workers) and append JSON lines.

    python sweep.py RESULTS.jsonl NAME [--seeds 0,1,2,3,4,5] [--workers 2]

NAME is a key of configs.json (prototype arguments). Seed s trains init s on the dataset
``data_seed = s % 6``, so seeds 6..11 are second initializations of datasets 0..5 (restarts).
Prints one summary line: per-seed AMI, used codes and reconstruction error.
"""
import argparse
import json
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("name")
    p.add_argument("--seeds", default="0,1,2,3,4,5")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    args = json.loads((HERE / "configs.json").read_text())[a.name]

    def one(seed: int) -> dict:
        cmd = [sys.executable, str(HERE / "prototype.py"), *shlex.split(args), "--seed", str(seed),
               "--data_seed", str(seed % 6)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            return {"seed": seed, "error": r.stderr[-300:]}
        return {**json.loads(lines[-1]), "name": a.name, "args": args}

    with ThreadPoolExecutor(a.workers) as ex:
        results = list(ex.map(one, [int(s) for s in a.seeds.split(",")]))
    with open(a.out, "a") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    print(a.name, "AMI", [r.get("ami") for r in results], "used", [r.get("used") for r in results],
          "rec", [r.get("hard_rec") for r in results])


if __name__ == "__main__":
    main()
