"""`ringrift serve`: the HTTP service and the board page (see ringrift.serve.app)."""

from __future__ import annotations

import argparse

from ringrift.cli.engine import add_model_flags


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="HTTP service (moves, analysis, metrics) and the board in the browser")
    from ringrift.serve.config import ServeConfig

    defaults = ServeConfig()
    add_model_flags(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default loopback only)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--games-db", default=None,
                        help="game database whose games the board page can replay")
    parser.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes,
                        help="largest request body (413 above)")
    parser.add_argument("--body-timeout", type=float, default=defaults.body_timeout_s,
                        help="seconds a client has to send its whole body (408 after)")
    parser.add_argument("--max-connections", type=int, default=defaults.max_connections,
                        help="concurrent connections (503 above)")
    parser.add_argument("--log-level", default="warning",
                        choices=("critical", "error", "warning", "info", "debug"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ringrift.cli.engine import model_source_from_args
    from ringrift.errors import UserError

    if not 0 <= args.port < 65536:
        raise UserError("--port must be between 0 and 65535")
    if args.max_body_bytes < 1024 or args.body_timeout <= 0 or args.max_connections < 1:
        raise UserError("--max-body-bytes (>= 1024), --body-timeout and --max-connections must "
                        "be positive")
    if args.games_db is not None and not Path(args.games_db).is_file():
        raise UserError(f"--games-db {args.games_db}: no such file")
    _check_port_free(args.host, args.port)
    source, limits = model_source_from_args(args)

    import uvicorn

    from ringrift.serve.app import create_app
    from ringrift.serve.config import ServeConfig

    config = ServeConfig(limits, max_body_bytes=args.max_body_bytes,
                         body_timeout_s=args.body_timeout, max_active=args.max_active,
                         reload_interval=args.reload_interval, games_db=args.games_db,
                         max_connections=args.max_connections)
    app = create_app(source, config)
    model = source.current.describe()["name"]
    print(f"ringrift serve: http://{args.host}:{args.port}/ (model {model}; board page at /, "
          f"API docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                limit_concurrency=config.max_connections, timeout_keep_alive=5)
    return 0


def _check_port_free(host: str, port: int) -> None:
    """UserError now rather than uvicorn's exit 3 after the model has loaded."""
    import socket

    from ringrift.errors import UserError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UserError(f"--host {host}: {exc}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
