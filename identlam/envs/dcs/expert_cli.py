"""``identlam expert train|score|list``: state-based experts for the Distracting Control Suite."""

from __future__ import annotations

import argparse
import json

from identlam.argtypes import nonneg_int, output_dir, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expert", help="train, score or list state-based DCS experts (stable-baselines3)",
                       description="State-based experts for the Distracting Control Suite: train one with "
                                   "stable-baselines3 (resumable), score an expert file, or list the shipped ones.")
    esub = p.add_subparsers(dest="expert_command", metavar="ACTION", required=True,
                            help="train, score or list")

    t = esub.add_parser("train", help="train a state-based expert for a suite task; rerun to resume",
                        description="Train a PPO or SAC expert on the proprioceptive state of a dm_control task; "
                                    "checkpoints in OUT/checkpoint, rerunning resumes, the actor goes to OUT/expert.zip.")
    t.add_argument("task", help="DOMAIN-TASK, e.g. cheetah-run")
    t.add_argument("--out", required=True, type=output_dir,
                   help="run directory (checkpoints, expert.zip, summary.json)")
    t.add_argument("--algo", choices=("ppo", "sac"), default="ppo", help="stable-baselines3 algorithm (default ppo)")
    t.add_argument("--steps", type=positive_int, default=3_000_000, help="total environment steps")
    t.add_argument("--seed", type=nonneg_int, default=0, help="seed of the model and the environments")
    t.add_argument("--n-envs", type=positive_int, default=8, help="environments stepped together (default 8)")
    t.add_argument("--hidden", type=positive_int, default=128, help="actor width (the part that ships)")
    t.add_argument("--n-steps", type=positive_int, default=512, help="PPO rollout length per environment")
    t.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    t.add_argument("--checkpoint-every", type=positive_int, default=200_000, help="steps between checkpoints")
    t.add_argument("--eval-episodes", type=positive_int, default=5, help="seeded episodes scored at export")
    t.set_defaults(func=_train)

    s = esub.add_parser("score", help="mean return of an expert zip on seeded full episodes",
                        description="Score an expert file (or the shipped expert of a task) on seeded, "
                                    "full-length episodes of its task and print the returns as JSON.")
    s.add_argument("expert", help="an expert.zip, or a task name for the shipped expert")
    s.add_argument("--episodes", type=positive_int, default=10, help="episodes (default 10)")
    s.add_argument("--seed", type=nonneg_int, default=12345, help="seed of the first episode")
    s.set_defaults(func=_score)

    ls = esub.add_parser("list", help="the experts shipped with the package and their recorded returns",
                         description="List the experts shipped with the package: task, algorithm, steps, "
                                     "recorded mean return and the command that made each.")
    ls.set_defaults(func=_list)


def _train(args) -> int:
    from identlam.envs.dcs.expert_train import ExpertConfig, train_expert

    cfg = ExpertConfig(task=args.task, algo=args.algo, steps=args.steps, seed=args.seed, n_envs=args.n_envs,
                       device=args.device, checkpoint_every=args.checkpoint_every,
                       eval_episodes=args.eval_episodes, hidden=args.hidden, n_steps=args.n_steps)
    print(json.dumps(train_expert(cfg, args.out), indent=2))
    return 0


def _score(args) -> int:
    from pathlib import Path

    from identlam.envs.dcs.expert_file import shipped_experts
    from identlam.envs.dcs.expert_train import score_expert_file

    path = args.expert
    if not Path(path).exists():
        path = shipped_experts().get(path.removeprefix("dcs/"), path)
    print(json.dumps(score_expert_file(path, args.episodes, args.seed)))
    return 0


def _list(args) -> int:
    from identlam.envs.dcs.expert_file import load_expert, shipped_experts

    for task, path in shipped_experts().items():
        meta = load_expert(path).meta
        print(f"{task}\t{meta.get('algo')}\t{meta.get('steps')} steps\treturn {meta.get('eval_mean')}\t{meta.get('command')}")
    return 0
