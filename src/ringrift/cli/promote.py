"""`ringrift promote --gauntlet`: gate a model and promote it to production if it passes.

Registers the model file if needed, runs the gauntlet (the "previous" opponent is the registry's
current production model, tested with the SPRT when --sprt is given), then moves the model to
staging and production with the evidence recorded, or to rejected when it fails. An SPRT that
reaches --sprt-max-games undecided leaves the model in development. A model rejected before is
not played again: its recorded rejection is reported. Exit status: 0 promoted (or already in
production), 1 not promoted (rejected now or before, or undecided), 2 bad input.
"""

from __future__ import annotations

import argparse
import json

from ringrift.cli.gauntlet import (
    GauntletProgress,
    add_candidate_arguments,
    add_gauntlet_arguments,
    config_from_args,
    options_from_args,
)
from ringrift.errors import UserError
from ringrift.registry import DEFAULT_REGISTRY


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("promote", help="gate a model with the gauntlet and promote it",
                              description=__doc__.splitlines()[0])
    p.add_argument("--gauntlet", action="store_true",
                   help="gate with the gauntlet (the only way this command promotes; move "
                        "models by hand with `ringrift models promote`)")
    add_candidate_arguments(p, model_required=True)
    add_gauntlet_arguments(p)
    p.add_argument("--registry", default=str(DEFAULT_REGISTRY), metavar="PATH",
                   help="model registry (default %(default)s; created if missing)")
    p.add_argument("--model-name", help="registry name for a new model (default <board>_<n>p)")
    p.add_argument("--architecture", help="for registering: if the model's sidecar lacks it")
    p.add_argument("--encoder-version", help="for registering: if the sidecar lacks it")
    p.add_argument("--parent", metavar="ID|SHA256", help="for registering: parent model")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ringrift.evaluate.engine_spec import EngineSpec
    from ringrift.evaluate.promotion import gate_and_promote, opponent_summary
    from ringrift.registry import ModelRegistry

    if not args.gauntlet:
        raise UserError("promote needs --gauntlet (to move a model by hand use "
                        "`ringrift models promote`)")
    config = config_from_args(args)
    options = options_from_args(args)
    # the candidate must be playable before the registry file is created
    EngineSpec.build(args.engine, options, args.name).check(config.spec)
    progress = GauntletProgress(args.quiet)
    with ModelRegistry(args.registry) as registry:
        try:
            outcome = gate_and_promote(
                registry, args.model, config, engine=args.engine, options=options,
                name=args.name, model_name=args.model_name, architecture=args.architecture,
                encoder_version=args.encoder_version, parent=args.parent, db_path=args.db,
                on_game=progress, workers=args.workers, batch_size=args.batch_size,
                backend=args.backend, ray_address=args.ray_address)
        finally:
            progress.close()
        entry = registry.get(outcome.model_id)
    if args.json:
        print(json.dumps({**outcome.to_dict(), "registry": args.registry}, indent=2))
    else:
        if outcome.gauntlet is not None:
            print("\n".join(outcome.gauntlet.table()))
        label = f"model {entry.id} ({entry.name} v{entry.version})"
        if outcome.status == "already_rejected":  # one line: nothing was played
            print(f"{label} was already rejected: {opponent_summary(outcome.evidence)}")
            return 1
        print({"promoted": f"{label} promoted to production",
               "already_production": f"{label} is already in production",
               "rejected": f"{label} rejected",
               "undecided": f"{label} not promoted: undecided, left in {entry.stage}"}
              [outcome.status])
        rating = outcome.evidence.get("rating")
        if rating:
            print(f"rating {rating['elo']:.0f} [{rating['low']:.0f}, {rating['high']:.0f}] "
                  f"(anchor random = 0)")
    return 0 if outcome.promoted else 1
