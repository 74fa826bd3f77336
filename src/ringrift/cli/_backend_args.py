"""The executor flags shared by the commands that play games (`--backend`, `--ray-address`)."""

from __future__ import annotations

import argparse


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --backend and --ray-address (see `ringrift.exec`)."""
    parser.add_argument("--backend", default="local", choices=("local", "ray"),
                        help="where --workers run: local processes (default) or Ray actors")
    parser.add_argument("--ray-address", default=None, metavar="ADDR",
                        help="--backend ray: 'auto' or HOST:PORT joins a running Ray cluster "
                        "(default: start a local Ray instance)")


def check_backend_arguments(args: argparse.Namespace) -> None:
    """UserError when --ray-address comes without --backend ray."""
    from ringrift.exec import check_backend

    check_backend(args.backend, args.ray_address)
