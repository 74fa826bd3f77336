"""`ringrift train`, `ringrift transfer` and `ringrift distill`: training commands."""

from __future__ import annotations

import argparse

from ringrift.config_defaults import field_default
from ringrift.errors import UserError
from ringrift.nn.architectures import ARCHITECTURE_NAMES
from ringrift.rules.spec import BOARD_TYPES, DEFAULT_NUM_PLAYERS, PLAYER_COUNTS, GameSpec
from ringrift.train.config import (
    AMP_DTYPES,
    DISTILL_TEMPERATURE,
    EARLY_STOPPING_PATIENCE,
    TrainConfig,
)
from ringrift.train.launch_settings import LaunchSettings
from ringrift.train.schedule import SCHEDULES as LR_SCHEDULES


def _d(name: str):
    """The default of TrainConfig field `name`: every training flag's default lives there."""
    return field_default(TrainConfig, name)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a policy/value network on exported data",
                              description="Train a v2/v3 network on .npz training files.")
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    # (TrainConfig requires the count: the default game's, whose selfplay data it trains on)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,
                   default=DEFAULT_NUM_PLAYERS)
    p.add_argument("--model-version", default=_d("model_version"), choices=ARCHITECTURE_NAMES,
                   help="v2 (small): 96x6 residual tower (fast); v3 (large): 192x12 with SE "
                   "(strong)")
    p.add_argument("--init-weights", help="start from this model file (same architecture/board)")
    p.add_argument("--init-optimizer", metavar="CHECKPOINT",
                   help="start AdamW from the moments in this training checkpoint (a file in "
                   "<model>_ckpt/), e.g. the run that made --init-weights")
    _add_training_flags(p)
    d = p.add_argument_group(
        "distributed", "several processes with DistributedDataParallel, started by torchrun "
        "(gloo on the CPU, nccl on CUDA: one process per GPU); --batch-size stays the global "
        "batch. Equivalent: torchrun --nproc-per-node N -m ringrift.train FLAGS")
    d.add_argument("--nproc-per-node", type=int,
                   default=field_default(LaunchSettings, "nproc_per_node"), metavar="N",
                   help="training processes on this machine (default %(default)s: no torchrun)")
    d.add_argument("--nnodes", type=int, default=field_default(LaunchSettings, "nnodes"),
                   metavar="N",
                   help="machines taking part (run the same command on each)")
    d.add_argument("--rdzv-endpoint", metavar="HOST:PORT",
                   help="with --nnodes > 1: the rendezvous address, the same on every machine")
    p.set_defaults(func=_run_train)

    p = subparsers.add_parser("distill", help="train a student network on a teacher's outputs",
                              description="Distil a teacher model into a (smaller) student: "
                              "KL at --temperature over legal moves, plus teacher values.")
    p.add_argument("--teacher", "--teacher-model", required=True, help="teacher model file")
    p.add_argument("--student-arch", default=_d("model_version"), choices=ARCHITECTURE_NAMES,
                   help="student architecture: v2 (small) or v3 (large)")
    p.add_argument("--temperature", type=float, default=DISTILL_TEMPERATURE)
    p.add_argument("--board-type", choices=BOARD_TYPES, help="default: the teacher's")
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS, help="default: the teacher's")
    _add_training_flags(p)
    p.set_defaults(func=_run_distill)

    p = subparsers.add_parser("transfer", help="initialise a model for another player count",
                              description="Copy trunk and policy head; resize value/rank heads.")
    p.add_argument("--source", required=True, help="trained model file")
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,
                   help="player count of the new model (default 4: the seed's 2p -> 4p)")
    p.add_argument("--board-type", choices=BOARD_TYPES,
                   help="the source's board, checked (the source file names it)")
    p.add_argument("--output", required=True, help="model file to write")
    p.set_defaults(func=_run_transfer)


def _add_training_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-path", action="extend", nargs="+",
                   help=".npz training file(s); may be repeated (default "
                   "data/training/<board>_<N>p.npz, where the seed's export writes)")
    p.add_argument("--save-path", help="final model file (default models/<board>_<N>p_<arch>.pt; "
                   "distill: models/<teacher>_<arch>_student.pt)")
    p.add_argument("--batch-size", type=int, default=_d("batch_size"), help="samples per micro-batch")
    p.add_argument("--epochs", type=int, default=_d("epochs"))
    p.add_argument("--learning-rate", type=float, default=_d("learning_rate"))
    p.add_argument("--weight-decay", type=float, default=_d("weight_decay"), help="AdamW weight decay")
    p.add_argument("--lr-scheduler", default=_d("lr_scheduler"), choices=LR_SCHEDULES,
                   help="per-step schedule after warmup (default cosine)")
    p.add_argument("--warmup-epochs", type=float, default=_d("warmup_epochs"), help="linear warmup length")
    p.add_argument("--lr-step-size", type=int, help="step schedule: epochs between decays "
                   "(default epochs/3)")
    p.add_argument("--lr-min", type=float, default=_d("lr_min"),
                   help="cosine schedule: the learning rate it decays to (default %(default)s)")
    p.add_argument("--lr-gamma", type=float, default=_d("lr_gamma"), help="step schedule: decay factor")
    p.add_argument("--early-stopping", type=int, nargs="?", const=EARLY_STOPPING_PATIENCE,
                   default=_d("early_stopping"), metavar="N",
                   help="stop after N epochs without a better validation loss (0: off; "
                   "bare: %(const)s)")
    p.add_argument("--elo-early-stopping-patience", type=int,
                   default=_d("elo_early_stopping_patience"), metavar="N",
                   help="stop after N Elo checks without a gain of more than "
                   "--elo-min-improvement, keeping the best-Elo weights (0: off)")
    p.add_argument("--elo-min-improvement", type=float, default=_d("elo_min_improvement"), metavar="E",
                   help="Elo gain that counts as an improvement (default 5)")
    p.add_argument("--elo-check-every", type=int, default=_d("elo_check_every"), metavar="K",
                   help="epochs between Elo checks (default 1)")
    p.add_argument("--elo-games", type=int, default=_d("elo_games"),
                   help="games per opponent per Elo check (the fixed opponent and the "
                   "previous check's weights; default 20)")
    p.add_argument("--elo-opponent", default=_d("elo_opponent"),
                   help="the fixed opponent engine of the Elo checks, rated 0 (default heuristic)")
    p.add_argument("--val-split", type=float, default=_d("val_split"),
                   help="fraction of games held out for validation")
    p.add_argument("--grad-accum", type=int, default=_d("grad_accum"),
                   help="micro-batches per optimizer step")
    p.add_argument("--amp", action="store_true", default=_d("amp"),
                   help="mixed precision: CUDA bf16, or fp16 with loss scaling; CPU bf16 "
                   "where the CPU has native bf16 (AVX512-BF16/AMX), else ignored")
    p.add_argument("--amp-dtype", default=_d("amp_dtype"), choices=AMP_DTYPES)
    p.add_argument("--entropy-weight", type=float, default=_d("entropy_weight"),
                   help="bonus on policy entropy over legal moves")
    p.add_argument("--label-smoothing", type=float, default=_d("label_smoothing"),
                   help="mix this much of the uniform legal-move distribution into targets")
    p.add_argument("--value-weight", type=float, default=_d("value_weight"))
    p.add_argument("--rank-weight", type=float, default=_d("rank_weight"))
    p.add_argument("--rank-head", action="store_true", default=_d("rank_head"),
                   help="add the per-player rank head")
    p.add_argument("--ownership-weight", type=float, default=_d("ownership_weight"),
                   help="> 0: add the auxiliary per-cell final-ownership head with this loss "
                   "weight (data exported with ownership targets)")
    p.add_argument("--game-length-weight", type=float, default=_d("game_length_weight"),
                   help="> 0: add the auxiliary remaining-game-length head with this weight")
    p.add_argument("--pcgrad", action="store_true", default=_d("pcgrad"),
                   help="PCGrad projection between policy and value gradients on the trunk")
    p.add_argument("--augment", action="store_true", default=_d("augment"),
                   help="train on a random board symmetry of each sample (8 square, 12 hex)")
    p.add_argument("--prioritized-replay", action="store_true", default=_d("prioritized_replay"),
                   help="draw training samples in proportion to (last loss)^alpha, with "
                   "importance-sampling weights")
    p.add_argument("--per-alpha", type=float, default=_d("per_alpha"),
                   help="prioritized replay: priority exponent (0: uniform)")
    p.add_argument("--per-beta", default=_d("per_beta"), metavar="START->END",
                   help="prioritized replay: IS-weight exponent, annealed over the run")
    p.add_argument("--seed", type=int, default=_d("seed"))
    p.add_argument("--device", default=_d("device"), help="auto, cpu, cuda or cuda:N")
    p.add_argument("--resume", action="store_true", default=_d("resume"),
                   help="continue from the newest checkpoint in <save-path stem>_ckpt/")
    p.add_argument("--max-samples", type=int, help="use only the first N samples")
    p.add_argument("--samples-per-epoch", type=int, metavar="N",
                   help="an epoch trains on N training samples drawn at random, anew each "
                   "epoch (default: all of them)")
    p.add_argument("--encoder-version", type=int,
                   help="require this encoder version (default: the first file's)")
    p.add_argument("--channels", type=int, help="override the preset's tower width")
    p.add_argument("--blocks", type=int, help="override the preset's tower depth")
    p.add_argument("--checkpoint-every", type=int, default=_d("checkpoint_every"), metavar="STEPS",
                   help="regular checkpoint interval in optimizer steps (0: off)")
    p.add_argument("--keep-checkpoints", type=int, default=_d("keep_checkpoints"),
                   help="step checkpoints to keep (the best is always kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard logs")


def _config(args: argparse.Namespace, model_version: str, spec: GameSpec,
            init_weights: str | None, init_optimizer: str | None = None):
    from ringrift.nn.architectures import resolve_architecture
    from ringrift.train.config import default_data_paths, default_save_path

    model_version = resolve_architecture(model_version)
    return TrainConfig(
        board_type=spec.board_type, num_players=spec.num_players,
        data_paths=list(args.data_path or default_data_paths(spec)),
        save_path=args.save_path or default_save_path(spec, model_version),
        model_version=model_version, batch_size=args.batch_size,
        epochs=args.epochs, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        lr_scheduler=args.lr_scheduler, warmup_epochs=args.warmup_epochs,
        lr_step_size=args.lr_step_size, lr_gamma=args.lr_gamma, lr_min=args.lr_min,
        early_stopping=args.early_stopping, val_split=args.val_split,
        elo_early_stopping_patience=args.elo_early_stopping_patience,
        elo_min_improvement=args.elo_min_improvement, elo_check_every=args.elo_check_every,
        elo_games=args.elo_games, elo_opponent=args.elo_opponent,
        grad_accum=args.grad_accum, amp=args.amp, amp_dtype=args.amp_dtype,
        entropy_weight=args.entropy_weight, label_smoothing=args.label_smoothing,
        value_weight=args.value_weight, rank_weight=args.rank_weight, rank_head=args.rank_head,
        pcgrad=args.pcgrad, augment=args.augment, seed=args.seed, device=args.device,
        prioritized_replay=args.prioritized_replay, per_alpha=args.per_alpha,
        per_beta=args.per_beta, ownership_weight=args.ownership_weight,
        game_length_weight=args.game_length_weight,
        init_weights=init_weights, init_optimizer=init_optimizer,
        resume=args.resume, max_samples=args.max_samples,
        samples_per_epoch=args.samples_per_epoch, encoder_version=args.encoder_version,
        channels=args.channels, blocks=args.blocks, checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints, progress=False if args.no_progress else None,
        tensorboard=not args.no_tensorboard)


def _exit_status(result) -> int:
    return 0 if result.interrupted_by is None else 128 + int(result.interrupted_by)


def _run_train(args: argparse.Namespace) -> int:
    from ringrift.train.distributed import launched_by_torchrun
    from ringrift.train.trainer import train

    if (args.nproc_per_node > 1 or args.nnodes > 1) and not launched_by_torchrun():
        return _launch_torchrun(args)
    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    cfg = _config(args, args.model_version, spec, args.init_weights, args.init_optimizer)
    return _exit_status(train(cfg))


def _run_distill(args: argparse.Namespace) -> int:
    from ringrift.nn.models import read_sidecar
    from ringrift.train.distill import distill

    meta = read_sidecar(args.teacher).get("metadata", {})
    board = args.board_type or meta.get("board_type")
    players = args.num_players or meta.get("num_players")
    if board is None or players is None:
        raise UserError(f"{args.teacher}: no board_type/num_players in its metadata")
    if args.save_path is None:
        from pathlib import Path

        from ringrift.nn.architectures import resolve_architecture

        args.save_path = str(Path("models") / f"{Path(args.teacher).stem}_"
                             f"{resolve_architecture(args.student_arch)}_student.pt")
    cfg = _config(args, args.student_arch,
                  GameSpec.checked(board, players, error=UserError), None)
    return _exit_status(distill(cfg, args.teacher, args.temperature))


def _run_transfer(args: argparse.Namespace) -> int:
    from ringrift.nn.models import read_sidecar
    from ringrift.train.transfer import SEED_TARGET_PLAYERS, transfer_model

    source_board = read_sidecar(args.source).get("metadata", {}).get("board_type")
    if args.board_type is not None and args.board_type != source_board:
        raise UserError(f"--board-type {args.board_type}: {args.source} is a {source_board} model")
    meta = transfer_model(args.source, args.num_players or SEED_TARGET_PLAYERS, args.output)
    print(f"wrote {args.output}: {meta['architecture']} {meta['board_type']} "
          f"{meta['num_players']}p from {meta['transferred_from']['num_players']}p "
          f"(parent {meta['parent_model'][:12]})")
    return 0


def _launch_torchrun(args: argparse.Namespace) -> int:
    """Start this same command under torchrun's elastic agent (which starts the ranks)."""
    import sys

    from ringrift.train.distributed import check_distributed_options, launch_torchrun

    # the ranks get this command line again (they see torchrun's environment and train)
    if sys.argv[1:2] != ["train"]:
        raise UserError("--nproc-per-node is for the `ringrift train` command line; in Python "
                        "run torchrun -m ringrift.train FLAGS")
    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    cfg = _config(args, args.model_version, spec, args.init_weights, args.init_optimizer)
    cfg.validate()  # a bad flag fails here, once, not in N ranks
    check_distributed_options(cfg)
    return launch_torchrun(args.nproc_per_node, sys.argv[2:], nnodes=args.nnodes,
                           rdzv_endpoint=args.rdzv_endpoint)
