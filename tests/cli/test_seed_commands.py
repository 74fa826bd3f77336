"""Every command line of the seed's README (../shared/seed/000_23707b07b6d54201.txt), with
`ringrift` in place of `python scripts/X.py` / `python -m app.training.X`, on tiny sizes.

Each test quotes the seed's line. Sizes are cut (games, epochs, simulations) and a flag is added
only to keep a run tiny (--max-samples, --channels/--blocks, --eval-games, --max-games for the
daemon, which otherwise runs until stopped); every flag of the seed's line is kept as written.
The commands run in one scratch folder, in the order of the seed's workflows, because later
lines read what earlier ones wrote (data/games, data/training, models/).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ringrift.cli.main import build_parser, main
from ringrift.data.gamedb import GameDB
from ringrift.data.npz_format import read_npz

TINY_TRAIN = ["--max-samples", "256", "--channels", "16", "--blocks", "1", "--no-progress",
              "--no-tensorboard"]


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch folder holding what the seed's first steps make: heuristic games of hex8 2p
    (in data/games), their export, and a small trained model."""
    folder = tmp_path_factory.mktemp("seed")
    old = os.getcwd()
    os.chdir(folder)
    try:
        # (Quick start 2, heuristic bootstrap, on the board of the later lines)
        assert main(["selfplay", "--board", "hex8", "--num-players", "2", "--engine",
                     "heuristic", "--num-games", "6", "--quiet"]) == 0
        assert main(["export", "--use-discovery", "--board-type", "hex8", "--num-players", "2",
                     "--output", "data/training/hex8_2p.npz"]) == 0
        # Workflow 4, step 1 (no --data-path: the export above is the default)
        assert main(["train", "--board-type", "hex8", "--num-players", "2", "--save-path",
                     "models/hex8_2p_candidate.pt", "--epochs", "1", *TINY_TRAIN]) == 0
    finally:
        os.chdir(old)
    return folder


@pytest.fixture
def here(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    return workspace


def test_selfplay_heuristic_bootstrap(here, capsys):
    # python scripts/selfplay.py --board square8 --num-players 2 --engine heuristic
    #   --num-games 1000
    code, out = run(["selfplay", "--board", "square8", "--num-players", "2", "--engine",
                     "heuristic", "--num-games", "3", "--quiet"], capsys)
    assert code == 0
    assert "3 games of square8 2p (heuristic) -> data/games/selfplay_square8_2p/games.db" in out
    with GameDB("data/games/selfplay_square8_2p/games.db") as db:
        assert db.count_games(board_type="square8", num_players=2) == 3


def test_selfplay_gumbel_with_gpu_and_output_dir(here, capsys):
    # python scripts/selfplay.py --board hex8 --num-players 2 --engine gumbel --num-games 1000
    #   --batch-size 64 --use-gpu --output-dir data/games/selfplay_hex8_2p
    code, out = run(["selfplay", "--board", "hex8", "--num-players", "2", "--engine", "gumbel",
                     "--num-games", "2", "--batch-size", "64", "--use-gpu", "--output-dir",
                     "data/games/gumbel_hex8_2p", "--mcts-simulations", "8", "--max-moves",
                     "12", "--quiet"], capsys)
    assert code == 0
    assert "2 games of hex8 2p (gumbel) -> data/games/gumbel_hex8_2p/games.db" in out


def test_export_variants(here, capsys):
    # python scripts/export_replay_dataset.py --db data/games/selfplay_hex8_2p.db
    #   --board-type hex8 --num-players 2 --output data/training/hex8_2p.npz
    db = "data/games/selfplay_hex8_2p/games.db"
    code, out = run(["export", "--db", db, "--board-type", "hex8", "--num-players", "2",
                     "--output", "data/training/hex8_2p_db.npz"], capsys)
    assert code == 0 and "samples from 6 games" in out
    # ... --require-completed --min-moves 20 --max-moves 500 --output ..._filtered.npz
    code, out = run(["export", "--db", db, "--board-type", "hex8", "--num-players", "2",
                     "--require-completed", "--min-moves", "20", "--max-moves", "500",
                     "--output", "data/training/hex8_2p_filtered.npz"], capsys)
    assert code == 0
    arrays, meta = read_npz("data/training/hex8_2p_filtered.npz")
    kept = len(np.unique(arrays["game_ids"]))
    assert meta["counts"]["games"] == kept  # the games actually kept, not those selected
    assert f"samples from {kept} games" in out
    # --min-moves above every game's length: all selected games dropped, and said so
    code, out = run(["export", "--db", db, "--board-type", "hex8", "--num-players", "2",
                     "--min-moves", "100000", "--output", "data/training/none.npz"], capsys)
    assert "0 samples from 0 games" in out and "6 games selected, 6 dropped" in out
    # ... --use-discovery --use-cache
    for expected in ("games encoded", "up to date"):
        code, out = run(["export", "--use-discovery", "--board-type", "hex8", "--num-players",
                         "2", "--use-cache", "--output", "data/training/hex8_2p_cached.npz"],
                        capsys)
        assert code == 0 and expected in out


@pytest.mark.slow
def test_train_v3_as_written(here, capsys):
    # python -m app.training.train --board-type hex8 --num-players 2
    #   --data-path data/training/hex8_2p.npz --model-version v3 --batch-size 512 --epochs 20
    code, out = run(["train", "--board-type", "hex8", "--num-players", "2", "--data-path",
                     "data/training/hex8_2p.npz", "--model-version", "v3", "--batch-size", "512",
                     "--epochs", "1", "--max-samples", "160", "--no-progress",
                     "--no-tensorboard"], capsys)
    assert code == 0, out
    meta = json.loads(Path("models/hex8_2p_v3.pt.json").read_text())["metadata"]
    assert meta["architecture"] == "v3" and meta["board_type"] == "hex8"


def test_train_bare_early_stopping_and_lr_scheduler(here, capsys):
    # python -m app.training.train ... --early-stopping --lr-scheduler cosine
    #   --learning-rate 0.001 --save-path models/sq8_2p_new.pth
    code, _ = run(["train", "--board-type", "hex8", "--num-players", "2", "--data-path",
                   "data/training/hex8_2p.npz", "--early-stopping", "--lr-scheduler", "cosine",
                   "--learning-rate", "0.001", "--epochs", "1", "--save-path",
                   "models/hex8_2p_new.pth", *TINY_TRAIN], capsys)
    assert code == 0 and Path("models/hex8_2p_new.pth").is_file()
    args = build_parser().parse_args(["train", "--board-type", "hex8", "--early-stopping"])
    from ringrift.train.config import EARLY_STOPPING_PATIENCE

    assert args.early_stopping == EARLY_STOPPING_PATIENCE > 0


def test_python_m_ringrift_train(here):
    # python -m app.training.train ...  ->  python -m ringrift.train ...  (the same command:
    # a missing data file is its one-line error, exit 2)
    done = subprocess.run([sys.executable, "-m", "ringrift.train", "--board-type", "hex8",
                           "--num-players", "2", "--data-path", "data/training/missing.npz"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ringrift train: error: ") and "missing.npz" in done.stderr
    assert "Traceback" not in done.stderr


def test_gauntlet_and_auto_promote(here, capsys):
    # python scripts/quick_gauntlet.py --model models/hex8_2p_candidate.pt --board-type hex8
    #   --num-players 2 --games 100
    code, out = run(["gauntlet", "--model", "models/hex8_2p_candidate.pt", "--board-type",
                     "hex8", "--num-players", "2", "--games", "2", "--quiet"], capsys)
    assert code in (0, 1) and "random" in out and "heuristic" in out
    # python scripts/auto_promote.py --gauntlet --model models/hex8_2p_candidate.pt
    #   --board-type hex8 --num-players 2
    code, out = run(["promote", "--gauntlet", "--model", "models/hex8_2p_candidate.pt",
                     "--board-type", "hex8", "--num-players", "2", "--games", "2", "--quiet",
                     "--thresholds", "random=none,heuristic=none"], capsys)
    assert code == 0, out
    from ringrift.registry import ModelRegistry

    with ModelRegistry("models/registry.db", create=False) as registry:
        assert registry.get_production("hex8", 2) is not None


def test_quality_db_npz_detailed_and_all(here, capsys):
    # python -m app.training.data_quality --db data/games/selfplay.db
    code, out = run(["quality", "--db", "data/games/selfplay_hex8_2p/games.db"], capsys)
    assert code == 0 and "quality score 100/100" in out
    # python -m app.training.data_quality --npz data/training/hex8_2p.npz --detailed
    code, out = run(["quality", "--npz", "data/training/hex8_2p.npz", "--detailed"], capsys)
    assert code == 0 and "samples:" in out
    # python -m app.training.data_quality --all
    done = subprocess.run([sys.executable, "-m", "ringrift.data.quality", "--all"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "selfplay_hex8_2p/games.db: quality score" in done.stdout
    assert "databases under data/games:" in done.stdout


def test_daemon_with_games_per_batch(here, capsys):
    # python -m app.training.background_selfplay --board-type hex8 --num-players 2
    #   --engine gumbel --games-per-batch 100 --daemon
    code, out = run(["selfplay", "--board-type", "hex8", "--num-players", "2", "--engine",
                     "gumbel", "--games-per-batch", "2", "--daemon", "--max-games", "2",
                     "--mcts-simulations", "4", "--max-moves", "8", "--output-dir",
                     "data/games/daemon_hex8_2p", "--status-interval", "1000"], capsys)
    assert code == 0, out
    with GameDB("data/games/daemon_hex8_2p/games.db") as db:
        assert db.count_games() == 2


def test_transfer_2p_to_4p_then_fine_tune(here, capsys):
    # python scripts/transfer_2p_to_4p.py --source models/canonical_sq8_2p.pth
    #   --output models/sq8_4p_init.pth --board-type square8
    code, out = run(["transfer", "--source", "models/hex8_2p_candidate.pt", "--output",
                     "models/hex8_4p_init.pth", "--board-type", "hex8"], capsys)
    assert code == 0 and "hex8 4p from 2p" in out
    code, out = run(["transfer", "--source", "models/hex8_2p_candidate.pt", "--output",
                     "models/x.pth", "--board-type", "square8"], capsys)
    assert code == 2 and "is a hex8 model" in out
    # python scripts/selfplay.py --board square8 --num-players 4 --engine heuristic
    #   --num-games 3000
    assert run(["selfplay", "--board", "hex8", "--num-players", "4", "--engine", "heuristic",
                "--num-games", "2", "--max-moves", "200", "--quiet"], capsys)[0] == 0
    assert run(["export", "--use-discovery", "--board-type", "hex8", "--num-players", "4",
                "--output", "data/training/hex8_4p.npz"], capsys)[0] == 0
    # python -m app.training.train --board-type square8 --num-players 4
    #   --init-weights models/sq8_4p_init.pth --learning-rate 0.0005 --epochs 30
    code, out = run(["train", "--board-type", "hex8", "--num-players", "4", "--init-weights",
                     "models/hex8_4p_init.pth", "--learning-rate", "0.0005", "--epochs", "1",
                     *TINY_TRAIN], capsys)
    assert code == 0 and Path("models/hex8_4p_v2.pt").is_file()


def test_distill_teacher_model_student_arch(here, capsys):
    # python -m app.training.distillation --teacher-model models/hex8_2p_large.pt
    #   --student-arch small --temperature 2.0
    code, out = run(["distill", "--teacher-model", "models/hex8_2p_candidate.pt",
                     "--student-arch", "small", "--temperature", "2.0", "--epochs", "1",
                     *TINY_TRAIN], capsys)
    assert code == 0, out
    student = Path("models/hex8_2p_candidate_v2_student.pt")
    assert json.loads(Path(f"{student}.json").read_text())["metadata"]["architecture"] == "v2"


@pytest.mark.slow
def test_training_loop_auto_promote(here, capsys):
    # python scripts/run_training_loop.py --board-type hex8 --num-players 2
    #   --selfplay-games 1000 --training-epochs 50 --auto-promote
    code, out = run(["loop", "--board-type", "hex8", "--num-players", "2", "--selfplay-games",
                     "4", "--training-epochs", "1", "--auto-promote", "--iterations", "1",
                     "--channels", "8", "--blocks", "1", "--eval-games", "2"], capsys)
    assert code == 0, out
    assert "run folder: runs/hex8_2p_" in out and "promoted" in out
    run_dir = out.split("run folder: ")[1].split()[0]
    assert json.loads(Path(run_dir, "loop_config.json").read_text())["auto_promote"] is True


def test_budget_names_in_every_simulation_flag():
    parser = build_parser()
    lines = [
        (["loop", "--board-type", "hex8", "--mcts-simulations", "quality",
          "--eval-mcts-simulations", "throughput"], ("mcts_simulations", 800)),
        (["gauntlet", "--board-type", "hex8", "--num-players", "2", "--mcts-simulations",
          "standard"], ("mcts_simulations", 150)),
        (["promote", "--gauntlet", "--model", "m.pt", "--board-type", "hex8", "--num-players",
          "2", "--mcts-simulations", "ultimate"], ("mcts_simulations", 1600)),
        (["match", "--board-type", "hex8", "--candidate", "gumbel", "--mcts-simulations",
          "quality", "--opponent-mcts-simulations", "64"], ("mcts_simulations", 800)),
        (["selfplay", "--board-type", "hex8", "--num-players", "2", "--mcts-simulations",
          "throughput"], ("mcts_simulations", 64)),
    ]
    for argv, (dest, value) in lines:
        assert getattr(parser.parse_args(argv), dest) == value, argv
    from ringrift.evaluate.engine_spec import engine_options

    assert engine_options(extra=["simulations=quality"]).simulations == 800


def test_board_is_an_alias_of_board_type_everywhere():
    parser = build_parser()
    for argv in (["train", "--board", "hex8"], ["export", "--board", "hex8", "--num-players",
                 "2", "--output", "x.npz"], ["gauntlet", "--board", "hex8", "--num-players", "2"],
                 ["loop", "--board", "hex8"]):
        assert parser.parse_args(argv).board_type == "hex8", argv


def test_a_closed_pipe_exits_quietly(tmp_path):
    # `ringrift ... | head`: no BrokenPipeError traceback
    code = ("import sys, ringrift.cli.quality as q\n"
            "q.run = lambda args: [print('x' * 99) for _ in range(200000)] and 0\n"
            "from ringrift.cli.main import main\n"
            "sys.exit(main(['quality', '--db', 'unused.db']))\n")
    done = subprocess.run(f"{sys.executable} -c \"{code}\" | head -c 10", shell=True,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.stdout == "x" * 10
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


@pytest.mark.slow
def test_population_based_training(here, capsys):
    # python -m app.training.pbt --board-type square8 --num-players 2 --population-size 8
    #   --generations 10   (no data named: train's default file, data/training/<board>_<N>p.npz)
    code, out = run(["pbt", "--board-type", "hex8", "--num-players", "2", "--population-size",
                     "2", "--generations", "1", "--steps-per-generation", "1", "--games", "2",
                     "--channels", "8", "--blocks", "1", "--batch-size", "32", "--no-register",
                     "--run-dir", "runs/pbt_seed"], capsys)
    assert code == 0, out
    assert "best member:" in out and Path("runs/pbt_seed/generations.txt").is_file()
