"""Experiment configs: every bad field is one line naming its key; grid expansion; shared keys."""

from __future__ import annotations

import subprocess
import sys

import pytest
from runner_fixtures import TINY, write_toml

from identlam.errors import ConfigError
from identlam.runner.checks import config_description
from identlam.runner.spec import column_orders, load_experiment

BAD = """
name = "bad"
seeds = [0, -1]
colour = "red"
stages = ["relabel"]

[set]
"train.steps" = "many"

[data.pm]
source = "synthetic"
env = "pointmass"
episodes = 1
params = { Q = 3 }

[methods.a]
preset = "lapo-nope"

[methods.b]
preset = "lapo-entropy"
set = { "model.not_a_field" = 1 }

[methods.c]
preset = "lapo-entropy"
set = { "model.entropy_weight" = 0 }

[data.dcs]
source = "collect"
env = "nowhere/nothing"

[grid]
data = ["pm"]
method = ["a", "b"]
model.n_codes = ["eight"]
"""

# each bad field above and the key its line must name
BAD_KEYS = ["seeds", "colour", "stages", "set.train.steps", "data.pm.episodes", "data.pm.params",
            "methods.a.preset", "methods.b.set.model.not_a_field", "methods.c.set.model.entropy_weight",
            "data.dcs.env", "grid.model.n_codes"]


def test_every_bad_field_is_one_line_naming_it(tmp_path):
    path = write_toml(tmp_path, BAD)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    lines = str(info.value).splitlines()
    assert len(lines) == len(BAD_KEYS), lines
    for key, line in zip(sorted(BAD_KEYS), sorted(lines, key=lambda ln: ln.split(": ")[1])):
        assert line.startswith(f"{path}: {key}: "), (key, line)


def test_cli_exits_2_before_running_anything(tmp_path):
    path = write_toml(tmp_path, BAD)
    out = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-m", "identlam", "run", str(path), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "grid.model.n_codes" in proc.stderr and "methods.a.preset" in proc.stderr
    assert "model.entropy.weight" in proc.stderr  # the renamed field's new name
    assert not out.exists()


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_experiment(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_experiment(write_toml(tmp_path, "name = [", "broken.toml"))


def test_product_and_zipped_axes(tmp_path):
    text = TINY.replace('[grid]\nmethod = ["entropy", "lambda0"]',
                        '[grid]\nmethod = ["entropy", "lambda0"]\n"model.n_codes" = [4, 8, 16]\n'
                        '[grid.zip]\n"train.steps" = [10, 20]\n"train.batch_size" = [8, 16]\n')
    exp = load_experiment(write_toml(tmp_path, text))
    assert len(exp.cells) == 2 * 3 * 2 * 2  # methods x codes x zipped pairs x seeds
    pairs = {(c.overrides["train.steps"], c.overrides["train.batch_size"]) for c in exp.cells}
    assert pairs == {(10, 8), (20, 16)}  # zipped: varied together, never crossed
    assert {c.params["model.n_codes"] for c in exp.cells} == {4, 8, 16}
    assert exp.columns[:2] == ["data", "method"] and "train.steps" in exp.columns
    assert len({c.run_id for c in exp.cells}) == len(exp.cells)
    bad = text.replace('"train.batch_size" = [8, 16]', '"train.batch_size" = [8, 16, 32]')
    with pytest.raises(ConfigError, match="grid.zip: lists must have equal lengths"):
        load_experiment(write_toml(tmp_path, bad, "bad.toml"))


def test_grid_union_and_data_axes(tmp_path):
    text = TINY.replace('[grid]\nmethod = ["entropy", "lambda0"]',
                        '[[grid]]\nmethod = ["entropy"]\n"env.K" = [2, 4]\n[[grid]]\nmethod = ["lambda0"]\n')
    exp = load_experiment(write_toml(tmp_path, text))
    assert len(exp.cells) == (2 + 1) * 2
    ks = sorted(c.data["params"]["K"] for c in exp.cells)
    assert ks == [2, 2, 2, 2, 4, 4]
    assert len({c.data_key for c in exp.cells}) == 4  # (K=2, K=4) x the two run seeds


def test_column_orders_follow_the_config_grid_by_grid():
    import tomllib

    raw = tomllib.loads('''
[[grid]]
data = ["vanilla", "easy"]
method = ["lapo", "laom"]
"env.rho" = [0.9, 0.5]
seeds = [0]
[grid.zip]
"train.steps" = [20, 10]
"train.batch_size" = [8, 16]
[[grid]]
data = ["hard", "easy"]
method = ["laom"]
model = { n_codes = [8, 4] }
''')
    assert column_orders(raw) == {"data": ["vanilla", "easy", "hard"], "method": ["lapo", "laom"],
                                  "env.rho": [0.9, 0.5], "train.steps": [20, 10], "train.batch_size": [8, 16],
                                  "model.n_codes": [8, 4]}
    assert column_orders({}) == {}


def test_later_stages_share_the_lam_stage(tmp_path):
    text = TINY.replace('[grid]\nmethod = ["entropy", "lambda0"]',
                        '[grid]\nmethod = ["entropy"]\n"decoder.steps" = [5, 10]\nlabels = [1, 2]\n')
    exp = load_experiment(write_toml(tmp_path, text))
    by_seed = {}
    for cell in exp.cells:
        by_seed.setdefault(cell.seed, set()).add(cell.train_key)
    assert all(len(keys) == 1 for keys in by_seed.values())  # label budget and decoder: one LAM per seed
    assert len({c.run_id for c in exp.cells}) == 8
    supervised = text.replace('preset = "lapo-entropy"\n\n[methods.lambda0]',
                              'preset = "lapo-entropy"\nset = { "model.label_coef" = 1.0 }\n\n[methods.lambda0]')
    exp = load_experiment(write_toml(tmp_path, supervised, "sup.toml"))
    assert len({c.train_key for c in exp.cells if c.seed == 0}) == 2  # labels now reach stage 1


def test_file_source_is_keyed_by_content(tmp_path):
    from identlam.data.cli import generate

    generate("pointmass", tmp_path / "a.h5", 4, 10, 0, {"K": 2})
    text = TINY.replace('source = "synthetic"\nenv = "pointmass"\nepisodes = 8\nsteps = 20\nseed = "run"\n'
                        'params = { K = 2 }', 'source = "file"\npath = "a.h5"')
    first = load_experiment(write_toml(tmp_path, text))
    assert {c.data["path"] for c in first.cells} == {str((tmp_path / "a.h5").resolve())}
    generate("pointmass", tmp_path / "a.h5", 4, 10, 1, {"K": 2})  # same name, other bytes
    second = load_experiment(write_toml(tmp_path, text))
    assert {c.data_key for c in first.cells}.isdisjoint({c.data_key for c in second.cells})
    with pytest.raises(ConfigError, match="data.pm.path: dataset file 'b.h5' does not exist"):
        load_experiment(write_toml(tmp_path, text.replace("a.h5", "b.h5")))
    # keys a file source does not use were ignored; a file that is not a dataset failed every run
    with pytest.raises(ConfigError, match="^[^\n]*: data.pm.episodes: not a key of a file source[^\n]*$"):
        load_experiment(write_toml(tmp_path, text.replace('path = "a.h5"', 'path = "a.h5"\nepisodes = 8')))
    (tmp_path / "notes.h5").write_text("not a dataset")
    with pytest.raises(ConfigError, match="^[^\n]*: data.pm.path: [^\n]*notes.h5: not an HDF5 file$"):
        load_experiment(write_toml(tmp_path, text.replace("a.h5", "notes.h5")))
    with pytest.raises(ConfigError, match="^[^\n]*: data.pm.regions: [^\n]*DIM 3 is outside the state's dimensions 0..1$"):
        load_experiment(write_toml(tmp_path, text.replace('path = "a.h5"', 'path = "a.h5"\nregions = "threshold:3:0"')))


PAPER = TINY + """
[paper]
seeds = [0, 1, 2]
unset = ["model.embed_dim"]   # the preset's value applies

[paper.set.train]             # the same key as [set]'s "train.steps"
steps = 3000

[paper.data.pm]
episodes = 300
params = { obs_dim = 6 }

[paper.methods.lambda0]
set = { "model.hidden_dim" = 64 }
"""


def test_the_paper_table_is_merged_table_by_table_only_at_paper_scale(tmp_path):
    path = write_toml(tmp_path, PAPER)
    cpu = load_experiment(path)
    assert cpu.name == "tiny" and cpu.text == PAPER  # the store keeps the file as written
    assert [c.run_id for c in cpu.cells] == [c.run_id for c in load_experiment(write_toml(tmp_path, TINY, "t.toml")).cells]
    paper = load_experiment(path, paper_scale=True)
    assert paper.name == "tiny-paper" and len(paper.cells) == 2 * 3  # a list (seeds) is replaced whole
    for cell in paper.cells:
        # a table merges key by key: the named keys change, the others stay
        assert cell.data["episodes"] == 300 and cell.data["steps"] == 20
        assert cell.data["params"] == {"K": 2, "obs_dim": 6}
        assert cell.overrides["train.steps"] == 3000 and cell.overrides["train.batch_size"] == 16
        assert "model.embed_dim" not in cell.overrides and "train.steps" in cell.overrides
        hidden = 64 if cell.params["method"] == "lambda0" else 16
        assert cell.overrides["model.hidden_dim"] == hidden
        assert cell.overrides.get("model.entropy.weight", 1) == (0 if cell.params["method"] == "lambda0" else 1)
    assert not {c.run_id for c in paper.cells} & {c.run_id for c in cpu.cells}
    # the store's copy is the config as run: it loads (at CPU scale, no [paper] left) to the same runs
    again = load_experiment(write_toml(tmp_path, paper.text, "as_run.toml"))
    assert again.name == "tiny-paper" and [c.run_id for c in again.cells] == [c.run_id for c in paper.cells]
    with pytest.raises(ConfigError, match="paper: no \\[paper\\] table"):
        load_experiment(write_toml(tmp_path, TINY, "plain.toml"), paper_scale=True)


def test_a_configs_description_is_its_opening_comment_and_survives_paper_scale(tmp_path):
    header = ("\n# Does entropy identify the actions?   Prediction: higher AMI\n# with it.\n#\n"
              "# identlam run tiny.toml --workers 2\n# A well-\n# known test.\n"
              "# Paper scale (CUDA): the [paper] table below.\n# (its seeds)\n")
    path = write_toml(tmp_path, header + PAPER + "# a comment further down is not the description\n")
    described = ("Does entropy identify the actions? Prediction: higher AMI with it. "
                 "`identlam run tiny.toml --workers 2` A well-known test.")
    assert config_description(path.read_text()) == described
    assert config_description(TINY) == "" and config_description("name = 'x'\n# late\n") == ""
    # the paper-scale config as run keeps the description (not the note on how to run it) for the report
    as_run = load_experiment(path, paper_scale=True).text
    assert as_run.startswith(header.lstrip().split("# Paper scale")[0] + "# Paper scale: tiny.toml with its [paper] table")
    assert config_description(as_run) == described
    assert "[paper] table below" not in as_run


def test_a_bad_paper_value_is_one_line_naming_it_at_either_scale(tmp_path):
    unknown = write_toml(tmp_path, TINY + '\n[paper]\ncolour = "red"\n', "unknown.toml")
    for paper_scale in (False, True):
        with pytest.raises(ConfigError, match=f"^{unknown}: paper.colour: unknown key"):
            load_experiment(unknown, paper_scale=paper_scale)
    bad = write_toml(tmp_path, TINY + '\n[paper.set]\n"train.steps" = "many"\n', "bad.toml")
    typo = write_toml(tmp_path, TINY + '\n[paper]\nunset = ["train.stepz"]\n', "typo.toml")
    with pytest.raises(ConfigError, match="paper.unset: 'train.stepz' is in no \\[set\\]"):
        load_experiment(typo, paper_scale=True)
    malformed = write_toml(tmp_path, 'set = 5\nmethods = "none"\n[paper]\nunset = ["train.steps"]\n', "malformed.toml")
    with pytest.raises(ConfigError, match="paper.unset: 'train.steps' is in no"):  # not a traceback
        load_experiment(malformed, paper_scale=True)
    load_experiment(bad)  # a bad paper-scale value does not stop the CPU-scale runs
    with pytest.raises(ConfigError, match=r"\(at paper scale\): set.train.steps"):
        load_experiment(bad, paper_scale=True)
    proc = subprocess.run([sys.executable, "-m", "identlam", "run", str(bad), "--scale", "paper", "--dry-run"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "set.train.steps" in proc.stderr


SYNTHETIC = 'source = "synthetic"\nenv = "pointmass"\nepisodes = 8\nsteps = 20\nseed = "run"\nparams = { K = 2 }'


@pytest.mark.parametrize("old, new, message", [
    # the name is a folder of the store (results/NAME) and of the report (figures/NAME.png, data/NAME/)
    ('name = "tiny"', 'name = "../elsewhere"', "name: expected a name that can be a file name"),
    ('name = "tiny"', 'name = ""', "name: expected a name that can be a file name"),
    ('name = "tiny"', 'name = ".."', "name: expected a name that can be a file name"),
    # a value of the wrong type where a table or a name belongs (each was a traceback)
    (SYNTHETIC, 'source = "file"\npath = 3', "data.pm.path: expected the path of a dataset file, got 3"),
    (SYNTHETIC, 'source = "file"\npath = "."', "data.pm.path: '.' is a directory, not a dataset file"),
    ('[methods.lambda0]\npreset = "lapo-entropy"\nset = { "model.entropy.weight" = 0 }',
     '[methods]\nlambda0 = "lapo-entropy"', 'methods.lambda0: expected a table with preset = "..."'),
    ('method = ["entropy", "lambda0"]', 'method = [["entropy"]]', "grid.method: ['entropy'] is not a method"),
    ('method = ["entropy", "lambda0"]', 'method = [{ preset = "lapo" }]', "grid.method: {'preset': 'lapo'} is not a method"),
    ('method = ["entropy", "lambda0"]', 'method = [""]', "grid.method: '' is not a method"),
    # errors that named neither the file nor the key
    ('seeds = [0, 1]', 'scale = "gpu"\nseeds = [0, 1]', "scale: expected cpu or paper, got 'gpu'"),
    ('seeds = [0, 1]', 'seeds = [0, 4294967296]', "seeds: expected a non-empty list of integers in [0, 4294967295]"),
    ('method = ["entropy", "lambda0"]', 'method = ["entropy"]\nseeds = [1099511627776]',
     "grid.seeds: expected a non-empty list of integers in [0, 4294967295]"),
    # a data seed that `identlam generate --seed` refuses: every run failed
    ('seed = "run"', 'seed = 4294967296', 'data.pm.seed: expected an integer in [0, 4294967295] or "run"'),
    # values that were accepted: a stage twice (other run ids for the same runs), GPUs per task not
    # a finite number, a description that is not text
    ('stages = ["train", "relabel", "evaluate"]', 'stages = ["train", "relabel", "relabel", "evaluate"]',
     "stages: expected stages in order"),
    ('seeds = [0, 1]', 'seeds = [0, 1]\ngpus = nan', 'gpus: expected a number >= 0 or "auto", got nan'),
    ('seeds = [0, 1]', 'seeds = [0, 1]\ngpus = inf', 'gpus: expected a number >= 0 or "auto", got inf'),
    ('seeds = [0, 1]', 'seeds = [0, 1]\ndescription = 5', "description: expected str, got 5"),
    # a seed override replaced the run's --seed: the runs of seeds 0 and 1 were one same run
    ('"train.steps" = 12', '"train.steps" = 12\nseed = 3', "set.seed: the run seed is not a run-config override"),
    ('set = { "model.entropy.weight" = 0 }', 'set = { seed = 3 }', "methods.lambda0.set.seed: the run seed is not"),
    ('method = ["entropy", "lambda0"]', 'method = ["entropy"]\nseed = [3, 4]', "grid.seed: the run seed is not"),
    # a metric listed twice gave each run two rows of it: claims on it read "several runs per seed"
    ('metrics = ["ami", "used_codes", "action_probe_accuracy"]', 'metrics = ["ami", "used_codes", "ami"]',
     "metrics: 'ami' is listed twice"),
    ('metrics = ["ami", "used_codes", "action_probe_accuracy"]', 'metrics = ["ami", ""]',
     "metrics: expected a list of metric names, got ['ami', '']"),
    # a key that the kind of source does not use: a synthetic source's policy made `identlam generate`
    # refuse every dataset (a file source's: test_file_source_is_keyed_by_content)
    (SYNTHETIC, SYNTHETIC + '\npolicy = "expert"', "data.pm.policy: not a key of a synthetic source"),
    # a region spec that does not fit the source's states failed each run at its evaluation, after training
    (SYNTHETIC, SYNTHETIC + '\nregions = "threshold:2:0.5"',
     "data.pm.regions: --regions 'threshold:2:0.5': DIM 2 is outside the state's dimensions 0..1"),
    (SYNTHETIC, SYNTHETIC + '\nregions = "grid:2000"', "data.pm.regions: --regions 'grid:2000': 2000**2 cells"),
])
def test_a_malformed_value_is_one_line_naming_its_key(tmp_path, old, new, message):
    assert old in TINY
    path = write_toml(tmp_path, TINY.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:  # not a traceback, not accepted
        load_experiment(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value) and "\n" not in str(info.value)


def test_a_collect_source_parameter_its_environment_does_not_take_is_one_line(tmp_path):
    # it was found only when the dataset task built the environment: every run of the source failed
    import gymnasium

    import identlam.envs as envs

    class Toy(gymnasium.Env):
        def __init__(self, size: int = 4):
            self.size = size

    def positive_size(size: int = 4):  # the family's value check, called without building
        if size < 1:
            raise envs.EnvError(f"parameter 'size': expected >= 1, got {size}")

    envs.register_family("toy", ("grid", "wide"), Toy, kwargs={"wide": {"size": 9}}, check=positive_size)
    try:
        source = 'source = "collect"\nenv = "toy/grid"\npolicy = "random"\nepisodes = 8\nsteps = 20\nseed = "run"\n'
        text = TINY.replace('source = "synthetic"\nenv = "pointmass"\nepisodes = 8\nsteps = 20\nseed = "run"\n', source)
        assert text != TINY
        assert len(load_experiment(write_toml(tmp_path, text.replace("{ K = 2 }", "{ size = 3 }"))).cells) == 4
        for params, message in [("{ colour = 3 }", "parameter 'colour': unknown for environment 'toy/grid'"),
                                ("{ size = 3 }", "parameter 'size': fixed by the environment id 'toy/wide'"),
                                ("{ size = 0 }", "parameter 'size': expected >= 1, got 0")]:
            bad = text.replace("{ K = 2 }", params)
            bad = bad.replace("toy/grid", "toy/wide") if "fixed" in message else bad
            path = write_toml(tmp_path, bad, "bad.toml")
            with pytest.raises(ConfigError) as info:
                load_experiment(path)
            assert str(info.value) == f"{path}: data.pm.params: {message}"
    finally:
        envs.unregister_family("toy")
