"""`ringrift models`: list, show, register, promote and archive models in the model registry."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ringrift.errors import UserError
from ringrift.registry import DEFAULT_REGISTRY
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="manage the model registry",
                                   description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", default=str(DEFAULT_REGISTRY), metavar="PATH",
                        help="registry database (default: %(default)s)")
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    p = actions.add_parser("list", parents=[common], help="list registered models")
    p.add_argument("--board-type", choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS)
    p.add_argument("--stage", choices=("development", "staging", "production", "archived",
                                       "rejected"))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_list)

    p = actions.add_parser("show", parents=[common], help="show one model and its history")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_show)

    p = actions.add_parser("register", parents=[common], help="register a model file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", required=True)
    p.add_argument("--board-type", choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS)
    p.add_argument("--architecture")
    p.add_argument("--encoder-version")
    p.add_argument("--parent", metavar="ID|SHA256", help="parent model id or SHA-256")
    p.add_argument("--metrics", metavar="JSON", help="metrics as a JSON object")
    p.add_argument("--training-data", metavar="JSON", help="training data as JSON")
    p.set_defaults(func=_register)

    p = actions.add_parser("promote", parents=[common], help="move a model to staging or "
                           "production (production archives the previous one)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--to", required=True, choices=("staging", "production"))
    p.add_argument("--reason", default="")
    p.add_argument("--evidence", metavar="JSON", help="evidence (e.g. gate results) as JSON")
    p.set_defaults(func=_promote)

    p = actions.add_parser("archive", parents=[common], help="archive a model")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--reason", default="")
    p.set_defaults(func=_archive)

    from ringrift.cli.models_describe import add_describe

    add_describe(actions)


def _open(args: argparse.Namespace, create: bool = False):
    from ringrift.registry import ModelRegistry

    return ModelRegistry(args.registry, create=create)


def _list(args: argparse.Namespace) -> int:
    with _open(args) as registry:
        entries = registry.list_models(board_type=args.board_type, num_players=args.num_players,
                                       stage=args.stage)
    if args.json:
        print(json.dumps({"registry": args.registry,
                          "models": [e.to_dict() for e in entries]}, indent=2))
        return 0
    if not entries:
        print("no models")
        return 0
    header = ("ID", "NAME", "VER", "STAGE", "BOARD", "PLAYERS", "ARCH", "ENC", "RATING",
              "SHA256", "CREATED")
    rows = [(str(e.id), e.name, str(e.version), e.stage, e.board_type, str(e.num_players),
             e.architecture, e.encoder_version, _rating_text(e), e.sha256[:12],
             e.created_at[:19]) for e in entries]
    _print_table(header, rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    with _open(args) as registry:
        entry = registry.get(args.id)
        history = registry.history(args.id)
    if args.json:
        print(json.dumps({**entry.to_dict(), "transitions": [t.to_dict() for t in history]},
                         indent=2))
        return 0
    fields = entry.to_dict()
    fields["rating"] = _rating_text(entry)
    del fields["rating_low"], fields["rating_high"]
    width = max(len(k) for k in fields)
    for key, value in fields.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True)
        print(f"{key:<{width}}  {'-' if value is None else value}")
    print("\ntransitions:")
    _print_table(("AT", "FROM", "TO", "REASON"),
                 [(t.at[:19], t.from_stage or "-", t.to_stage, t.reason) for t in history])
    return 0


def _register(args: argparse.Namespace) -> int:
    metrics = _json_arg(args.metrics, "--metrics", require_object=True)
    training = _json_arg(args.training_data, "--training-data")
    _check_model_file(args.file, args.board_type, args.num_players)
    with _open(args, create=True) as registry:
        result = registry.register(args.file, args.name, board_type=args.board_type,
                                   num_players=args.num_players, architecture=args.architecture,
                                   encoder_version=args.encoder_version, parent=args.parent,
                                   training_data=training, metrics=metrics)
    e = result.entry
    what = "registered" if result.created else "already registered"
    print(f"{what}: id {e.id}, {e.name} version {e.version} ({e.board_type} "
          f"{e.num_players}p, {e.architecture}, sha256 {e.sha256[:12]}), stage {e.stage}")
    return 0


def _check_model_file(path: str, board_type: str | None, num_players: int | None) -> None:
    """Refuse what is not a model file before it enters the registry: an empty or random file,
    a pickle with objects (loaded with weights only, never unpickled), a payload without
    weights, or one whose metadata names another board or player count than the flags (a
    daemon would refuse to play it)."""
    import pickle
    import zipfile
    from pathlib import Path

    import torch

    from ringrift.errors import UserError

    file = Path(path)
    if not file.is_file():
        raise UserError(f"{path}: no such file")
    if file.stat().st_size == 0:
        raise UserError(f"{path}: empty file, not a model")
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile,
            OSError, AttributeError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a model file (cannot be loaded with weights only: "
                        f"{first[:160]})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("model_state"), dict):
        raise UserError(f"{path}: not a model file (no model_state weights)")
    meta = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    for flag, given, key in (("--board-type", board_type, "board_type"),
                             ("--num-players", num_players, "num_players")):
        recorded = meta.get(key)
        if given is not None and recorded is not None and recorded != given:
            raise UserError(f"{path}: the model is for {key.replace('_', ' ')} {recorded}, "
                            f"not {flag} {given}")


def _promote(args: argparse.Namespace) -> int:
    evidence = _json_arg(args.evidence, "--evidence")
    with _open(args) as registry:
        before = registry.get_production(*_config(registry, args.id))
        entry = registry.transition(args.id, args.to, reason=args.reason, evidence=evidence)
    print(f"model {entry.id} ({entry.name} v{entry.version}) is now {entry.stage}")
    if args.to == "production" and before is not None and before.id != entry.id:
        print(f"model {before.id} ({before.name} v{before.version}) archived: superseded")
    return 0


def _archive(args: argparse.Namespace) -> int:
    with _open(args) as registry:
        entry = registry.archive(args.id, reason=args.reason)
    print(f"model {entry.id} ({entry.name} v{entry.version}) is now {entry.stage}")
    return 0


def _config(registry: Any, model_id: int) -> tuple[str, int]:
    entry = registry.get(model_id)
    return entry.board_type, entry.num_players


def _json_arg(text: str | None, flag: str, require_object: bool = False) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{flag} is not valid JSON: {exc.msg}") from None
    if require_object and not isinstance(value, dict):
        raise UserError(f"{flag} must be a JSON object")
    return value


def _rating_text(entry: Any) -> str:
    if entry.rating is None:
        return "-"
    if entry.rating_low is None or entry.rating_high is None:
        return f"{entry.rating:.0f}"
    return f"{entry.rating:.0f} [{entry.rating_low:.0f}, {entry.rating_high:.0f}]"


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
