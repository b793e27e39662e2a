"""The ``thirdspace`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from thirdspace.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(
        args.config,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
        scenes_dir=getattr(args, "scenes", None),
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from thirdspace import webclient
    from thirdspace.app import create_app

    settings = _settings(args)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.no_build and webclient.CLIENT_SOURCE.is_dir() and webclient.needs_build():
        try:
            webclient.build()
        except webclient.ClientBuildError as err:
            print(f"thirdspace: {err}", file=sys.stderr)
            return 2
    try:
        import uvloop
    except ImportError:
        uvloop = None
    app = create_app(settings)
    print(f"Third Space at http://{settings.host}:{settings.port}/", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None, loop=uvloop.new_event_loop() if uvloop else None)
    return 0


def cmd_build_client(args: argparse.Namespace) -> int:
    from thirdspace import webclient

    try:
        webclient.build()
    except webclient.ClientBuildError as err:
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_scene_validate(args: argparse.Namespace) -> int:
    from thirdspace.scenes.model import SceneError, load_file

    failed = 0
    for path in args.files:
        try:
            scene = load_file(Path(path))
        except SceneError as err:
            failed += 1
            for issue in err.issues:
                print(issue, file=sys.stderr)
        else:
            print(f"{path}: ok ({scene.id}, {len(scene.document['nodes'])} nodes)")
    return 1 if failed else 0


def cmd_bench_sync(args: argparse.Namespace) -> int:
    import json

    from thirdspace.sync.bench import run
    from thirdspace.sync.engine import SyncSettings

    settings = SyncSettings(interest_radius_m=args.radius, max_visible=args.max_visible, budget_bytes=args.budget)
    result = run(args.entities, seconds=args.seconds, tick_hz=args.hz, ack_delay=args.ack_delay, settings=settings)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    import json

    from thirdspace.loadtest import LoadTestError, run

    try:
        result = run(args.url, args.scene, args.clients, hz=args.hz, seconds=args.seconds, processes=args.processes)
    except LoadTestError as err:
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0 if result["errors"] == 0 else 1


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thirdspace", description="Shared virtual third spaces.")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the scenes, the web client and the WebSocket")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir", type=Path)
    serve.add_argument("--scenes", type=Path, help="directory of scene documents")
    serve.add_argument("--no-build", action="store_true", help="do not (re)build the web client")
    serve.set_defaults(func=cmd_serve)

    build = sub.add_parser("build-client", help="install and bundle the web client (needs Node.js)")
    build.set_defaults(func=cmd_build_client)

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    sync = bench_sub.add_parser("sync", help="the sync kernels on a recorded crowd, against a naive baseline")
    sync.add_argument("--entities", type=int, default=1000)
    sync.add_argument("--seconds", type=float, default=10.0)
    sync.add_argument("--hz", type=float, default=20.0)
    sync.add_argument("--ack-delay", type=_positive_int, default=1, help="ticks before a snapshot's ack reaches the server (1 or more)")
    sync.add_argument("--radius", type=float, default=30.0, help="interest radius in metres")
    sync.add_argument("--max-visible", type=int, default=64)
    sync.add_argument("--budget", type=int, default=1200, help="bytes per client per tick")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(func=cmd_bench_sync)

    load = sub.add_parser("loadtest", help="bot visitors against a running server")
    load.add_argument("--url", required=True, help="ws://HOST:PORT/ws")
    load.add_argument("--scene", required=True)
    load.add_argument("--clients", type=int, default=50)
    load.add_argument("--hz", type=float, default=20.0)
    load.add_argument("--seconds", type=float, default=30.0)
    load.add_argument("--processes", type=int, default=0, help="bot processes (default: one per 125 clients, at most the cores)")
    load.add_argument("--json", action="store_true")
    load.set_defaults(func=cmd_loadtest)

    scene = sub.add_parser("scene", help="scene documents")
    scene_sub = scene.add_subparsers(dest="scene_command", required=True)
    validate = scene_sub.add_parser("validate", help="check scene files against the schema")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_scene_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:  # bad settings
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
