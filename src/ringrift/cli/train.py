"""`ringrift train`, `ringrift transfer` and `ringrift distill`: training commands."""

from __future__ import annotations

import argparse

from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a policy/value network on exported data",
                              description="Train a v2/v3 network on .npz training files.")
    p.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, default=2, choices=PLAYER_COUNTS)
    p.add_argument("--model-version", default="v2", choices=("v2", "v3"),
                   help="v2: 96x6 residual tower (fast); v3: 192x12 with SE (strong)")
    p.add_argument("--init-weights", help="start from this model file (same architecture/board)")
    p.add_argument("--init-optimizer", metavar="CHECKPOINT",
                   help="start AdamW from the moments in this training checkpoint (a file in "
                   "<model>_ckpt/), e.g. the run that made --init-weights")
    _add_training_flags(p)
    p.set_defaults(func=_run_train)

    p = subparsers.add_parser("distill", help="train a student network on a teacher's outputs",
                              description="Distil a teacher model into a (smaller) student: "
                              "KL at --temperature over legal moves, plus teacher values.")
    p.add_argument("--teacher", required=True, help="teacher model file")
    p.add_argument("--student-arch", default="v2", choices=("v2", "v3"))
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--board-type", choices=BOARD_TYPES, help="default: the teacher's")
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS, help="default: the teacher's")
    _add_training_flags(p)
    p.set_defaults(func=_run_distill)

    p = subparsers.add_parser("transfer", help="initialise a model for another player count",
                              description="Copy trunk and policy head; resize value/rank heads.")
    p.add_argument("--source", required=True, help="trained model file")
    p.add_argument("--num-players", type=int, required=True, choices=PLAYER_COUNTS)
    p.add_argument("--output", required=True, help="model file to write")
    p.set_defaults(func=_run_transfer)


def _add_training_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-path", required=True, action="extend", nargs="+",
                   help=".npz training file(s); may be repeated")
    p.add_argument("--save-path", required=True, help="final model file (.pt)")
    p.add_argument("--batch-size", type=int, default=512, help="samples per micro-batch")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW weight decay")
    p.add_argument("--lr-scheduler", default="cosine", choices=("none", "step", "cosine"),
                   help="per-step schedule after warmup (default cosine)")
    p.add_argument("--warmup-epochs", type=float, default=0.0, help="linear warmup length")
    p.add_argument("--lr-step-size", type=int, help="step schedule: epochs between decays "
                   "(default epochs/3)")
    p.add_argument("--lr-gamma", type=float, default=0.1, help="step schedule: decay factor")
    p.add_argument("--early-stopping", type=int, default=0, metavar="N",
                   help="stop after N epochs without a better validation loss (0: off)")
    p.add_argument("--elo-early-stopping-patience", type=int, default=0, metavar="N",
                   help="stop after N Elo checks without a gain of more than "
                   "--elo-min-improvement, keeping the best-Elo weights (0: off)")
    p.add_argument("--elo-min-improvement", type=float, default=5.0, metavar="E",
                   help="Elo gain that counts as an improvement (default 5)")
    p.add_argument("--elo-check-every", type=int, default=1, metavar="K",
                   help="epochs between Elo checks (default 1)")
    p.add_argument("--elo-games", type=int, default=20,
                   help="games per opponent per Elo check (the fixed opponent and the "
                   "previous check's weights; default 20)")
    p.add_argument("--elo-opponent", default="heuristic",
                   help="the fixed opponent engine of the Elo checks, rated 0 (default heuristic)")
    p.add_argument("--val-split", type=float, default=0.1,
                   help="fraction of games held out for validation")
    p.add_argument("--grad-accum", type=int, default=1,
                   help="micro-batches per optimizer step")
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: CUDA bf16, or fp16 with loss scaling; CPU bf16 "
                   "where the CPU has native bf16 (AVX512-BF16/AMX), else ignored")
    p.add_argument("--amp-dtype", default="bf16", choices=("bf16", "fp16"))
    p.add_argument("--entropy-weight", type=float, default=0.0,
                   help="bonus on policy entropy over legal moves")
    p.add_argument("--label-smoothing", type=float, default=0.0,
                   help="mix this much of the uniform legal-move distribution into targets")
    p.add_argument("--value-weight", type=float, default=1.0)
    p.add_argument("--rank-weight", type=float, default=0.5)
    p.add_argument("--rank-head", action="store_true", help="add the per-player rank head")
    p.add_argument("--ownership-weight", type=float, default=0.0,
                   help="> 0: add the auxiliary per-cell final-ownership head with this loss "
                   "weight (data exported with ownership targets)")
    p.add_argument("--game-length-weight", type=float, default=0.0,
                   help="> 0: add the auxiliary remaining-game-length head with this weight")
    p.add_argument("--pcgrad", action="store_true",
                   help="PCGrad projection between policy and value gradients on the trunk")
    p.add_argument("--augment", action="store_true",
                   help="train on a random board symmetry of each sample (8 square, 12 hex)")
    p.add_argument("--prioritized-replay", action="store_true",
                   help="draw training samples in proportion to (last loss)^alpha, with "
                   "importance-sampling weights")
    p.add_argument("--per-alpha", type=float, default=0.6,
                   help="prioritized replay: priority exponent (0: uniform)")
    p.add_argument("--per-beta", default="0.4->1.0", metavar="START->END",
                   help="prioritized replay: IS-weight exponent, annealed over the run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in <save-path stem>_ckpt/")
    p.add_argument("--max-samples", type=int, help="use only the first N samples")
    p.add_argument("--samples-per-epoch", type=int, metavar="N",
                   help="an epoch trains on N training samples drawn at random, anew each "
                   "epoch (default: all of them)")
    p.add_argument("--encoder-version", type=int,
                   help="require this encoder version (default: the first file's)")
    p.add_argument("--channels", type=int, help="override the preset's tower width")
    p.add_argument("--blocks", type=int, help="override the preset's tower depth")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="STEPS",
                   help="regular checkpoint interval in optimizer steps (0: off)")
    p.add_argument("--keep-checkpoints", type=int, default=3,
                   help="step checkpoints to keep (the best is always kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard logs")


def _config(args: argparse.Namespace, model_version: str, board_type: str,
            num_players: int, init_weights: str | None, init_optimizer: str | None = None):
    from ringrift.train.config import TrainConfig

    return TrainConfig(
        board_type=board_type, num_players=num_players, data_paths=list(args.data_path),
        save_path=args.save_path, model_version=model_version, batch_size=args.batch_size,
        epochs=args.epochs, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        lr_scheduler=args.lr_scheduler, warmup_epochs=args.warmup_epochs,
        lr_step_size=args.lr_step_size, lr_gamma=args.lr_gamma,
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
    from ringrift.train.trainer import train

    cfg = _config(args, args.model_version, args.board_type, args.num_players, args.init_weights,
                  args.init_optimizer)
    return _exit_status(train(cfg))


def _run_distill(args: argparse.Namespace) -> int:
    from ringrift.errors import UserError
    from ringrift.nn.models import read_sidecar
    from ringrift.train.distill import distill

    meta = read_sidecar(args.teacher).get("metadata", {})
    board = args.board_type or meta.get("board_type")
    players = args.num_players or meta.get("num_players")
    if board is None or players is None:
        raise UserError(f"{args.teacher}: no board_type/num_players in its metadata")
    cfg = _config(args, args.student_arch, board, players, None)
    return _exit_status(distill(cfg, args.teacher, args.temperature))


def _run_transfer(args: argparse.Namespace) -> int:
    from ringrift.train.transfer import transfer_model

    meta = transfer_model(args.source, args.num_players, args.output)
    print(f"wrote {args.output}: {meta['architecture']} {meta['board_type']} "
          f"{meta['num_players']}p from {meta['transferred_from']['num_players']}p "
          f"(parent {meta['parent_model'][:12]})")
    return 0
