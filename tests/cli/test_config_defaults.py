"""No default written twice: every flag that sets a config field has that field's default, and
the numbers and names with one home (max_moves 5000, the architecture names, the simulation
budgets) appear once in the source."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ringrift.ai.engines import check_model_given
from ringrift.ai.options import EngineOptions
from ringrift.bench.scale import ScaleBenchSettings
from ringrift.bench.step_cost import StepCostSettings
from ringrift.cli.main import build_parser
from ringrift.data.export import ExportFilters, run_export
from ringrift.errors import ConfigError
from ringrift.evaluate.engine_spec import DEFAULT_MODEL_ENGINE
from ringrift.evaluate.gauntlet import Gauntlet, GauntletConfig, run_gauntlet
from ringrift.evaluate.match import MatchConfig
from ringrift.evaluate.promotion import gate_and_promote
from ringrift.evaluate.tournament import TournamentConfig
from ringrift.loop.config import LoopConfig
from ringrift.loop.demo import DemoSettings
from ringrift.output_paths import check_output_dir
from ringrift.selfplay.daemon import DaemonConfig
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.serve.loadtest import LoadTestSettings
from ringrift.train.benchmark import TrainBenchSettings
from ringrift.train.config import TrainConfig
from ringrift.train.distributed import launch_torchrun, torchrun_command
from ringrift.train.launch_settings import LaunchSettings
from ringrift.train.mine_settings import MineSettings
from ringrift.train.nnue_config import NNUETrainConfig
from ringrift.train.prioritized import parse_beta
from ringrift.tune.pbt import PBTSettings
from ringrift.tune.study import TuneSettings

SRC = Path(__file__).resolve().parents[2] / "src" / "ringrift"

# command -> [(config class, {flag dest: field name} for dests named otherwise)]
CONFIGS = {
    "selfplay": [(SelfplayConfig, {}),
                 (EngineOptions, {"heuristic_profile_file": "heuristic_profile_path",
                                  "model": "model_path", "mcts_simulations": "simulations"}),
                 (DaemonConfig, {"status_interval": "status_interval_s"})],
    "train": [(TrainConfig, {}), (LaunchSettings, {})],
    "train-nnue": [(NNUETrainConfig, {})],
    "distill": [(TrainConfig, {"student_arch": "model_version"})],
    "loop": [(LoopConfig, {"eval_mcts_simulations": "eval_simulations"})],
    "gauntlet": [(GauntletConfig, {})],
    "promote": [(GauntletConfig, {})],
    "match": [(MatchConfig, {})],
    "tournament": [(TournamentConfig, {})],
    "pbt": [(PBTSettings, {})],
    "tune": [(TuneSettings, {"space": "space_path"})],
    "mine": [(MineSettings, {})],
    "demo": [(DemoSettings, {})],
    "bench train": [(TrainBenchSettings, {})],
    "bench presets": [(StepCostSettings, {})],
    "bench scale": [(ScaleBenchSettings, {})],
    "bench serve": [(LoadTestSettings, {})],
}
# flags whose parser default is None on purpose: resolved from the config at run time (the
# daemon needs to know whether the user gave them), or a field of another meaning
RESOLVED_LATER = {
    ("selfplay", "num_games"), ("selfplay", "seed"), ("selfplay", "output_dir"),
    ("selfplay", "threads"),  # EngineOptions.threads None means 1 thread, the flag's default
    ("loop", "iterations"), ("loop", "run_dir"),
    # "NAME=RATE,..." text, parsed into the field; None: no override of the field's default {}
    ("gauntlet", "thresholds"), ("promote", "thresholds"), ("loop", "thresholds"),
    # the default store's path; the field's None means "do not register" (--no-register)
    ("pbt", "registry"),
}
# the least each command must check, so the test cannot pass by matching nothing
AT_LEAST = {"selfplay": 15, "train": 30, "train-nnue": 12, "distill": 28, "loop": 25,
            "gauntlet": 7, "promote": 7, "match": 6, "tournament": 5, "pbt": 17, "tune": 8,
            "mine": 4, "demo": 14, "bench train": 13,
            "bench presets": 4, "bench scale": 11,
            "bench serve": 10}


# command lines (less the output flags) for the library-error tests
GAUNTLET = ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
            "--name", "c"]
SELFPLAY = ["selfplay", "--board-type", "square8", "--num-players", "2"]


def _subparser(name: str) -> argparse.ArgumentParser:
    """The parser of command `name` ("bench train": a nested command)."""
    parser = build_parser()
    for word in name.split():
        parser = next(action for action in parser._actions
                      if isinstance(action, argparse._SubParsersAction)).choices[word]
    return parser


def _field_defaults(cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


@pytest.mark.parametrize("command", sorted(CONFIGS))
def test_flag_defaults_are_the_config_defaults(command):
    parser = _subparser(command)
    checked = 0
    for cls, renamed in CONFIGS[command]:
        defaults = _field_defaults(cls)
        for action in parser._actions:
            field = renamed.get(action.dest, action.dest)
            if (field not in defaults or (command, action.dest) in RESOLVED_LATER
                    or action.required):  # a required flag has no default to compare
                continue
            expected = defaults[field]
            got = action.default
            if isinstance(expected, tuple | list) and isinstance(got, str):  # --opponents a,b
                got = type(expected)(got.split(","))
            assert got == expected, f"{command} --{action.dest}: {got!r} != {cls.__name__}." \
                                    f"{field} = {expected!r}"
            checked += 1
    assert checked >= AT_LEAST[command], checked


# flags whose default is a library function's parameter (a setting passed to the call, not a
# config field): (command, flag dest, function, parameter)
PARAMETER_FLAGS = [
    ("gauntlet", "workers", Gauntlet.run, "workers"),
    ("gauntlet", "batch_size", Gauntlet.run, "batch_size"),
    ("promote", "workers", Gauntlet.run, "workers"),
    ("promote", "batch_size", Gauntlet.run, "batch_size"),
    ("export", "workers", run_export, "workers"),
]


@pytest.mark.parametrize("command,dest,func,param", PARAMETER_FLAGS)
def test_flag_defaults_are_the_functions_defaults(command, dest, func, param):
    actions = {a.dest: a for a in _subparser(command)._actions}
    expected = inspect.signature(func).parameters[param].default
    assert expected is not inspect.Parameter.empty
    assert actions[dest].default == expected


def _parameter(func, name: str):
    return inspect.signature(func).parameters[name].default


def test_the_library_calls_default_like_their_flags():
    """The functions the commands call with these settings have the same defaults."""
    for func in (run_gauntlet, gate_and_promote):
        for name in ("workers", "batch_size"):
            assert _parameter(func, name) == _parameter(Gauntlet.run, name), (func, name)
    assert _parameter(gate_and_promote, "engine") == DEFAULT_MODEL_ENGINE
    for command in ("gauntlet", "promote"):
        actions = {a.dest: a for a in _subparser(command)._actions}
        assert actions["engine"].default == DEFAULT_MODEL_ENGINE
    from ringrift.train.hard_positions import mine_hard_positions

    mine = _field_defaults(MineSettings)
    assert {n: _parameter(mine_hard_positions, n) for n in mine} == mine
    for func in (torchrun_command, launch_torchrun):
        assert _parameter(func, "nnodes") == LaunchSettings().nnodes


def test_the_parser_reads_its_defaults_without_torch():
    """`ringrift --help` / `ringrift mine --help` stay fast: building every command's flags
    (mine's and train's defaults included) imports no torch."""
    code = ("import sys; from ringrift.cli.main import build_parser; build_parser(); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "False"


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command words, parser) for every command and nested command (`bench serve`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


def test_the_default_game_flags_are_selfplay_configs():
    """Every --num-players/--board-type with a default has the default game's (SelfplayConfig:
    the configs of loop, train and train-nnue require the player count, models describe and
    the benchmarks build no config with one)."""
    game = {"num_players": SelfplayConfig.__dataclass_fields__["num_players"].default,
            "board_type": SelfplayConfig.__dataclass_fields__["board_type"].default}
    checked = set()
    for words, parser in _commands(build_parser()):
        for action in parser._actions:
            if action.dest in game and action.default is not None:
                assert action.default == game[action.dest], (words, action.dest)
                checked.add((" ".join(words), action.dest))
    players = {name for name, dest in checked if dest == "num_players"}
    assert players >= {"loop", "train", "train-nnue", "models describe", "bench engine",
                       "bench search", "bench train", "bench scale", "bench serve", "match",
                       "pbt", "tune"}, players
    boards = {name for name, dest in checked if dest == "board_type"}
    assert boards >= {"bench engine", "bench search", "bench train", "bench scale",
                      "bench serve"}, boards


def test_registry_flags_default_to_the_stores_path():
    from ringrift.registry import DEFAULT_REGISTRY

    defaults = {" ".join(words): action.default for words, parser in _commands(build_parser())
                for action in parser._actions
                if action.dest == "registry" and action.default is not None}
    assert set(defaults.values()) == {str(DEFAULT_REGISTRY)}, defaults
    assert {"models list", "promote", "pbt"} <= set(defaults), defaults


def test_gpu_evaluator_flags_are_the_services_defaults():
    import inspect

    from ringrift.exec.gpu_evaluator import EvaluatorService, RayEvaluatorService

    actions = {a.dest: a for a in _subparser("selfplay")._actions}
    for service in (EvaluatorService, RayEvaluatorService):
        params = inspect.signature(service).parameters
        assert actions["gpu_batch_size"].default == params["batch_size"].default
        assert actions["gpu_max_wait_ms"].default == params["max_wait_s"].default * 1000


def test_defaults_resolved_at_run_time_come_from_the_config(tmp_path, capsys):
    from ringrift.cli.main import main

    out = tmp_path / "games"
    assert main(["selfplay", "--board-type", "square8", "--num-players", "2", "--max-moves",
                 "3", "--output-dir", str(out), "--quiet"]) == 0
    games = SelfplayConfig.__dataclass_fields__["num_games"].default
    assert capsys.readouterr().out.startswith(f"{games} games of square8")


def _python_sources():
    for path in sorted(SRC.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("pattern,home", [
    (r"\b5000\b|\b5_000\b", "ai/game.py"),  # max_moves
    (r"[\"']v3[\"']", "nn/architectures.py"),  # architecture names
    (r"[\"']throughput[\"']|[\"']ultimate[\"']", "ai/search/gumbel.py"),  # simulation budgets
])
def test_written_once(pattern, home):
    found = [str(p.relative_to(SRC)) for p, text in _python_sources()
             if re.search(pattern, text)]
    assert found == [home], found


@pytest.mark.parametrize("make,field,argv,flag", [
    (lambda: LoopConfig("square8", 2, "r", min_window=0), "min_window",
     ["loop", "--board-type", "square8", "--min-window", "0"], "--min-window"),
    (lambda: LoopConfig("square8", 2, "r", eval_simulations=0), "eval_simulations",
     ["loop", "--board-type", "square8", "--eval-mcts-simulations", "0"],
     "--eval-mcts-simulations"),
    (lambda: LoopConfig("square8", 2, "r", lr_span="run"), "samples_per_epoch",
     ["loop", "--board-type", "square8", "--lr-span", "run"], "--samples-per-epoch"),
    (lambda: GauntletConfig("square8", 2, thresholds={"mcts": 0.5}), "thresholds",
     ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
      "--name", "cand", "--thresholds", "mcts=0.5"], "--thresholds"),
    (lambda: GauntletConfig("square8", 2, opponents=("random",), sprt=(0.0, 50.0)), "sprt",
     ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
      "--name", "cand", "--opponents", "random", "--sprt", "0,50"], "--sprt"),
    # values the CLI parses (cli/_flag_values.py) and the configs check
    (lambda: GauntletConfig("square8", 2, thresholds={"random": 1.5}), "thresholds",
     ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
      "--name", "cand", "--thresholds", "random=1.5"], "--thresholds"),
    (lambda: GauntletConfig("square8", 2, sprt=(50.0, 0.0)), "sprt",
     ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
      "--name", "cand", "--sprt", "50,0"], "--sprt"),
    (lambda: GauntletConfig("square8", 2, opponents=("random", "random")), "opponents",
     ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
      "--name", "cand", "--opponents", "random,random"], "--opponents"),
    (lambda: LoopConfig("square8", 2, "r", thresholds={"heuristic": 2.0}), "thresholds",
     ["loop", "--board-type", "square8", "--thresholds", "heuristic=2"], "--thresholds"),
    (lambda: LoopConfig("square8", 2, "r", sprt=[5.0, 5.0]), "sprt",
     ["loop", "--board-type", "square8", "--sprt", "5,5"], "--sprt"),
    (lambda: LoopConfig("square8", 2, "r", eval_opponents=["random", "random"]),
     "eval_opponents", ["loop", "--board-type", "square8", "--eval-opponents", "random,random"],
     "--eval-opponents"),
    # library checks below the configs (exec/, ai/), raised while the config validates
    (lambda: LoopConfig("square8", 2, "r", ray_address="auto"), "ray_address",
     ["loop", "--board-type", "square8", "--ray-address", "auto"], "--ray-address"),
    (lambda: SelfplayConfig("square8", 2, engine="mixed", mix="random:-1"), "mix",
     [*SELFPLAY, "--engine", "mixed", "--mix", "random:-1"], "--mix"),
    (lambda: SelfplayConfig("square8", 2, engine="mixed", mix="random:1,nope:1"), "mix",
     [*SELFPLAY, "--engine", "mixed", "--mix", "random:1,nope:1"], "--mix"),
])
def test_library_errors_name_the_field_and_the_cli_the_flag(tmp_path, capsys, make, field,
                                                             argv, flag):
    from ringrift.cli.main import main
    from ringrift.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        make().validate()
    assert info.value.field == field and str(info.value).startswith(f"{field} ")
    out = {"loop": ["--run-dir", str(tmp_path / "r")],
           "selfplay": ["--output-dir", str(tmp_path / "games")]}.get(
        argv[0], ["--db", str(tmp_path / "e.db")])
    assert main([*argv, *out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"ringrift {argv[0]}: error: {flag} {info.value.problem}"), err


def _exec_check(name: str, *args):
    from ringrift import exec as executor

    return lambda: getattr(executor, name)(*args)


def _search_engine(options):
    from ringrift.ai.search.engines import make_gumbel
    from ringrift.rules.spec import GameSpec

    return lambda: make_gumbel(GameSpec("square8", 2), 0, options)


def _engine_options(**kwargs):
    from ringrift.evaluate.engine_spec import engine_options

    return lambda: engine_options(**kwargs)


def _device(name: str):
    from ringrift.nn.inference import resolve_device

    return lambda: resolve_device(name)


def _evaluator(**kwargs):
    from ringrift.exec.gpu_evaluator import EvaluatorService

    return lambda: EvaluatorService("unused.pt", 1, **kwargs)


def _mix(text: str):
    from ringrift.ai.mixed import parse_mix

    return lambda: parse_mix(text)


def _serve_engines(text: str):
    from ringrift.serve.loadtest import parse_engines

    return lambda: parse_engines(text)


@pytest.mark.parametrize("call,field,argv,flag", [
    (_exec_check("check_workers", 0), "workers",
     ["match", "--board-type", "square8", "--candidate", "random"], "--workers"),
    (_exec_check("check_workers", 0), "workers", GAUNTLET, "--workers"),
    (_exec_check("check_batch_size", 0), "batch_size",
     ["tournament", "--board-type", "square8", "--num-players", "2", "--participants", "a,b"],
     "--batch-size"),
    (_exec_check("check_backend", "slurm"), "backend", SELFPLAY, "--backend"),
    (_exec_check("check_backend", "local", "auto"), "ray_address", ["pbt", "--board-type",
                                                                   "square8"], "--ray-address"),
    (_search_engine(EngineOptions(simulations=0)), "simulations", SELFPLAY,
     "--mcts-simulations"),
    (_search_engine(EngineOptions(gumbel_considered=0)), "gumbel_considered", SELFPLAY,
     "--gumbel-considered"),
    (_engine_options(simulations=0), "simulations", GAUNTLET, "--mcts-simulations"),
    (_engine_options(extra=["nope=1"]), "extra", GAUNTLET, "--engine-option"),
    (_mix("random:x"), "mix", SELFPLAY, "--mix"),
    (_device("nonsense:device"), "device", ["train", "--board-type", "square8"], "--device"),
    (_device("nonsense:device"), "device", GAUNTLET, "--device"),
    (_evaluator(batch_size=0), "gpu_batch_size", SELFPLAY, "--gpu-batch-size"),
    (_evaluator(max_wait_s=-1), "gpu_max_wait_s", SELFPLAY, "--gpu-max-wait-ms"),
    (_serve_engines("nope"), "engines", ["bench", "serve"], "--engines"),  # a nested command
    (lambda: LoadTestSettings(duration=0).validate(), "duration", ["bench", "serve"],
     "--duration"),
    (lambda: TrainConfig("square8", 2, ["x.npz"], "m.pt", model_version="v9").validate(),
     "model_version", ["distill", "--board-type", "square8", "--teacher", "t.pt"],
     "--student-arch"),
    (lambda: PBTSettings("square8", data_paths=[], run_dir=Path("r")).validate(),
     "data_paths", ["pbt", "--board-type", "square8"], "--data-path"),
    (lambda: check_model_given("policy-only", EngineOptions()), "model_path", SELFPLAY,
     "--model"),
    (lambda: check_output_dir("", "output_dir"), "output_dir", SELFPLAY, "--output-dir"),
    (lambda: ExportFilters(min_moves=5, max_moves=1).validate(), "min_moves",
     ["export", "--board-type", "square8", "--num-players", "2", "--output", "x.npz"],
     "--min-moves"),
    (lambda: parse_beta("x"), "per_beta", ["train", "--board-type", "square8"], "--per-beta"),
    (lambda: TrainBenchSettings(batch_size=1).validate(), "batch_size", ["bench", "train"],
     "--batch-size"),
    (lambda: StepCostSettings(batches=(4, 2)).validate(), "batches", ["bench", "presets"],
     "--batches"),
    (lambda: torchrun_command(0, []), "nproc_per_node", ["train", "--board-type", "square8"],
     "--nproc-per-node"),
    (lambda: NNUETrainConfig(["missing.db"], "square8", 2, "m.pt").validate(), "db_paths",
     ["train-nnue", "--db", "missing.db", "--board-type", "square8", "--save-path", "m.pt"],
     "--db"),
    (lambda: NNUETrainConfig(["missing.db"], "square8", 2, "m.pt", hidden=0).validate(),
     "hidden", ["train-nnue", "--db", "missing.db", "--board-type", "square8", "--save-path",
                "m.pt"], "--hidden"),
])
def test_library_checks_name_the_field_and_the_cli_the_flag(call, field, argv, flag):
    """Checks a command line cannot reach with that value (argparse choices or the flag range
    check come first) still name the field in the library and translate to the flag."""
    import ringrift.cli.main as cli

    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.field == field and str(info.value).startswith(f"{field} ")
    parser = build_parser()
    args = parser.parse_args(argv)
    assert cli._as_flags(parser, args, info.value) == f"{flag} {info.value.problem}"


# library errors still naming flags, (module, flag) -> why they stay
FLAG_NAMING_ERRORS = {
    **dict.fromkeys([("serve/models.py", "--model"), ("serve/models.py", "--board-type"),
                     ("serve/models.py", "--num-players")],
                    "the production model needs the server's board and player count: no one "
                    "field to name (ModelSource.game is None)"),
    ("loop/async_eval.py", "--resume"): "what to run after a worker crashed, not a bad setting",
    ("train/config.py", "--output"): "a command line to run (`ringrift export ... --output`)",
}


def _raised_texts(text: str):
    """The argument text of each `raise ...Error(...)` (parentheses balanced)."""
    for match in re.finditer(r"raise \w*Error\(", text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        yield text[match.end():i - 1]


def test_library_errors_name_fields_not_flags():
    """Outside cli/ (and the few command modules defining their own flags: add_argument),
    errors name the field; cli/main.py shows the flag."""
    found = set()
    for path, text in _python_sources():
        rel = str(path.relative_to(SRC))
        if rel.startswith("cli/") or "add_argument(" in text:
            continue
        for raised in _raised_texts(text):
            for flag in re.findall(r"(?<![\w-])--(?:[a-z][a-z-]*|\{)", raised):
                found.add((rel, flag))
    assert found == set(FLAG_NAMING_ERRORS), sorted(found - set(FLAG_NAMING_ERRORS))
