"""The ``thirdspace`` command."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import NoReturn

from thirdspace.assets.provenance import SOURCE_TYPES
from thirdspace.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(
        args.config,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
        scenes_dir=getattr(args, "scenes", None),
        reimport_scenes=getattr(args, "reimport_scenes", None),
        assets_dir=getattr(args, "assets_dir", None),
        redis_url=getattr(args, "redis_url", None),
        database_url=getattr(args, "database_url", None),
        public_url=getattr(args, "public_url", None),
        node_name=getattr(args, "node_name", None),
        log_format=getattr(args, "log_format", None),
        voice=getattr(args, "voice", None),
        janus_url=getattr(args, "janus_url", None),
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from thirdspace import logs, webclient
    from thirdspace.startup import Steps

    settings = _settings(args)
    logs.setup(settings.log_level, settings.log_format)
    if args.workers is not None:
        return _supervise_workers(args, settings)
    problem = _scenes_problem(settings.scenes_dir)
    if problem:
        return _fail(problem)
    sites = [(settings.host, settings.port, False)]
    if args.worker is not None:  # one of --workers N: the shared port, and its own for visitors sent to it
        own = settings.port + args.worker
        sites = [(settings.host, settings.port, True), (settings.host, own, False)]
        settings = dataclasses.replace(
            settings,
            public_url=settings.public_url or f"ws://{_reachable(settings.host)}:{own}/ws",
            node_name=f"{settings.node_name}-w{args.worker}" if settings.node_name else "",
        )
    elif settings.redis_url and not settings.public_url:
        settings = dataclasses.replace(settings, public_url=f"ws://{_reachable(settings.host)}:{settings.port}/ws")
    # Take the ports now (a taken one is said at once, not after the start-up steps) but listen
    # only once the server can serve: until then a connection is refused, never left hanging.
    try:
        sockets = [sock for host, port, reuse_port in sites for sock in _bind(host, port, reuse_port)]
    except PortError as err:
        return _fail(str(err))
    worker = f"worker {args.worker}: " if args.worker is not None else ""
    if settings.log_format == "json":
        write = logging.getLogger("thirdspace.startup").info
    else:

        def write(line: str) -> None:
            print(worker + line, flush=True)

    steps = Steps(write)
    write(f"Starting Third Space on port {settings.port} (scenes from {settings.scenes_dir}, data in {settings.data_dir})")
    from thirdspace.app import startup_steps

    build = not args.no_build and webclient.CLIENT_SOURCE.is_dir() and webclient.needs_build()
    steps.plan(int(build) + startup_steps(settings))
    if build:
        steps.begin("building the web client with npm (first start, and after its sources change)")
        try:
            webclient.build(log=steps.note)
        except webclient.ClientBuildError as err:
            return _fail(str(err))
    banner = f"Third Space at http://{settings.host}:{settings.port}/" + (
        f" (worker {args.worker}, also on port {sites[-1][1]})" if args.worker is not None else ""
    )
    return _run(settings, sockets, steps, banner, write)


def _fail(message: str, code: int = 2) -> int:
    print(f"thirdspace: {message}", file=sys.stderr)
    return code


def _scenes_problem(directory: Path) -> str:
    """Why ``serve`` would have no scene to show from ``directory``, or ``""``."""
    if not directory.exists():
        return f"no scenes folder {directory} (give one with --scenes DIR, or the scenes_dir setting)"
    if not directory.is_dir():
        return f"--scenes {directory} is a file, not a folder of scene documents"
    if not any(directory.glob("*.json")):
        return f"no scenes in {directory}: a scene is a *.json scene document (docs/scene-format.md)"
    return ""


class PortError(Exception):
    """A port this server cannot take; the message says which and why."""


def _bind(host: str, port: int, reuse_port: bool = False) -> list:
    """Sockets bound to ``host``:``port`` (one per address the name has), not yet listening."""
    import errno
    import socket

    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise PortError(f"cannot listen on host {host!r}: {err.strerror}") from None
    sockets: list[socket.socket] = []
    seen = set()
    for family, kind, proto, _, address in addresses:
        if (family, address) in seen:
            continue
        seen.add((family, address))
        sock = socket.socket(family, kind, proto)
        sockets.append(sock)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait for old connections
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.setblocking(False)
        except OSError as err:
            for other in sockets:
                other.close()
            where = f"port {port} on {address[0]}"
            if err.errno == errno.EADDRINUSE:
                raise PortError(f"{where} is already in use (another server?): stop it, or choose another port with --port") from None
            if err.errno == errno.EACCES:
                raise PortError(f"{where} needs privileges this user does not have: choose a port above 1023 with --port") from None
            if err.errno == errno.EADDRNOTAVAIL:
                raise PortError(f"cannot listen on {address[0]}: it is not an address of this machine (see --host)") from None
            raise PortError(f"cannot listen on {where}: {err.strerror}") from None
    return sockets


def _reachable(host: str) -> str:
    """A host name other machines can use for a node listening on ``host``."""
    import socket

    return socket.gethostname() if host in ("0.0.0.0", "::", "") else host


LISTEN_BACKLOG = 4096


def _run(settings: Settings, sockets: list, steps, banner: str, write) -> int:
    """Run the start-up steps, then listen and serve until SIGINT or SIGTERM; then shut down gracefully (in cluster mode: drain first)."""
    import asyncio
    import signal

    from aiohttp import web

    from thirdspace.app import create_app
    from thirdspace.startup import settle_memory
    from thirdspace.web.limits import LimitedRunner

    try:
        import uvloop
    except ImportError:
        uvloop = None

    async def serve() -> None:
        app = create_app(settings, steps)
        runner = LimitedRunner(app, handle_signals=False, shutdown_timeout=settings.drain_timeout_s + 5)  # counts connections
        await runner.setup()  # on_startup: the store, the asset workers, the kernels, the scenes
        settle_memory()
        try:
            for sock in sockets:
                # listens from here on; a deep queue of waiting connections (up to the kernel's somaxconn) lets a burst of
                # connections from one address be refused one by one while /healthz and visitors still get their turn
                await web.SockSite(runner, sock, backlog=LISTEN_BACKLOG).start()
            took = steps.finish()
            write(f"{banner} (started in {took:.1f} s)")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            logging.getLogger("thirdspace").info("shutting down")
        finally:
            await runner.cleanup()

    try:
        if uvloop is not None:
            uvloop.run(serve())
        else:
            asyncio.run(serve())
    except KeyboardInterrupt:  # Ctrl-C during the start-up steps
        return _fail(f"stopped while starting ({steps.what or 'start-up'})", 130)
    return 0


def _supervise_workers(args: argparse.Namespace, settings: Settings) -> int:
    """``--workers N``: N processes share the port (SO_REUSEPORT), each also on port+i, in cluster mode."""
    import signal
    import subprocess
    import time

    from thirdspace import webclient

    if not settings.redis_url:
        return _fail("--workers needs cluster mode: give --redis redis://HOST:PORT/0 (or redis_url in the config file)")
    if settings.port + args.workers > 65535:
        return _fail(f"--workers {args.workers} listen on ports up to {settings.port + args.workers}, above 65535: choose a lower --port")
    problem = _scenes_problem(settings.scenes_dir)
    if problem:
        return _fail(problem)
    try:  # the shared port and each worker's own: said here once, not by every worker again and again
        for port, reuse_port in [(settings.port, True)] + [(settings.port + i, False) for i in range(1, args.workers + 1)]:
            for sock in _bind(settings.host, port, reuse_port):
                sock.close()
    except PortError as err:
        return _fail(str(err))
    if not args.no_build and webclient.CLIENT_SOURCE.is_dir() and webclient.needs_build():
        print("Building the web client with npm (first start, and after its sources change)", flush=True)
        try:
            webclient.build(log=lambda line: print(f"web client: {line}", flush=True))
        except webclient.ClientBuildError as err:
            return _fail(str(err))
    argv = [a for a in sys.argv[1:]]
    at = argv.index("--workers")
    del argv[at : at + 2]
    command = [sys.executable, "-c", "import sys; from thirdspace.cli import main; sys.exit(main())", *argv, "--no-build"]
    log = logging.getLogger("thirdspace.workers")
    workers: dict[int, subprocess.Popen] = {}
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for process in workers.values():
            process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(1, args.workers + 1):
        workers[index] = subprocess.Popen([*command, "--worker", str(index)])
    print(f"Starting {args.workers} workers for http://{settings.host}:{settings.port}/; each says when it takes visitors", flush=True)
    while workers:
        time.sleep(0.2)
        for index, process in list(workers.items()):
            code = process.poll()
            if code is None:
                continue
            if stopping:
                del workers[index]
            else:  # a worker died: its rooms move to the others through Redis; start a new one
                log.warning("worker %d exited with %d; starting it again", index, code)
                time.sleep(1.0)
                workers[index] = subprocess.Popen([*command, "--worker", str(index)])
    return 0


def cmd_build_client(args: argparse.Namespace) -> int:
    from thirdspace import webclient

    try:
        webclient.build(log=lambda line: print(f"web client: {line}", flush=True))
    except webclient.ClientBuildError as err:
        return _fail(str(err))
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
    result = run(
        args.entities, seconds=args.seconds, tick_hz=args.hz, ack_delay=args.ack_delay, settings=settings, decode=args.decode,
        area_per_visitor_m2=args.area,
    )  # fmt: skip
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0


def cmd_bench_assets(args: argparse.Namespace) -> int:
    import json

    from thirdspace.assets.bench import scene_bytes

    result = scene_bytes(_settings(args))
    if args.json:
        print(json.dumps(result))
        return 0
    for scene_id, figures in result["scenes"].items():
        print(
            f"{scene_id}: {figures['assets']} assets, full {figures['full_bytes']} B, lowest {figures['lowest_bytes']} B "
            f"({figures['lowest_over_full']:.1%}); with br: full {figures['full_bytes_br']} B, lowest {figures['lowest_bytes_br']} B"
        )
    print(f"pipeline: {result['pipeline_seconds']} s")
    return 0


def cmd_bench_scene_load(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import shutil

    from thirdspace.assets.bench import scene_load

    chromium = args.chromium or shutil.which("chromium")
    if not chromium:
        print("thirdspace: Chromium is needed (Debian: apt-get install chromium) or give --chromium PATH", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(scene_load(args.url.rstrip("/"), args.scene, args.runs, chromium))
    except RuntimeError as err:
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else "\n".join(f"{k:>28}: {v}" for k, v in result.items()))
    return 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    import json

    from thirdspace.loadtest import LoadTestError, run

    try:
        result = run(
            args.url, args.scene, args.clients, hz=args.hz, seconds=args.seconds, processes=args.processes,
            stalled=args.stalled, sample_every=args.sample_every, ack_delay=args.ack_delay, voice=args.voice, cpus=args.cpus,
            lean=args.lean,
        )  # fmt: skip
    except LoadTestError as err:
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0 if result["errors"] == 0 else 1


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _param(text: str) -> tuple[str, object]:
    """KEY=VALUE, the value read as JSON when it parses (numbers, lists, true) and as a string otherwise."""
    import json

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _cpu_list(text: str) -> list[int]:
    """CPU numbers as taskset -c takes them: 1, 1,2 or 0-3 (and mixes: 0,2-3)."""
    cpus: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            cpus += range(int(first), int(last or first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CPU numbers like 1 or 1,2 or 0-3, not {text!r}") from None
    if not cpus or min(cpus) < 0:
        raise argparse.ArgumentTypeError(f"expected CPU numbers like 1 or 1,2 or 0-3, not {text!r}")
    return sorted(set(cpus))


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    try:
        seeds = list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or FIRST-LAST, not {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"{text!r} names no seeds")
    return seeds


def _progress(done: int, total: int, label: str) -> None:
    if total < 2:
        return
    width = 30
    filled = width * done // total
    end = "\n" if done == total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:<40}", end=end, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from thirdspace.assets.generators import GenerationRequest, GeneratorError, HttpGenerator, RecipeGenerator
    from thirdspace.assets.recipes import RECIPES, RecipeError

    if args.list:
        if args.json:
            print(json.dumps([recipe.describe() for recipe in RECIPES.values()], indent=2))
            return 0
        for recipe in RECIPES.values():
            print(f"{recipe.name:<16} {recipe.title}: {recipe.description}")
            for key, spec in recipe.schema["properties"].items():
                print(f"    {key}={json.dumps(spec['default'])}  {spec.get('description', '')}")
        return 0
    service = args.service or (_settings(args).generator_url if args.prompt else "")
    if not args.recipe and not args.prompt:
        print("thirdspace: name a RECIPE (see --list), or give --prompt for a text-to-3D service", file=sys.stderr)
        return 2
    if args.prompt and not service:
        print("thirdspace: --prompt needs a text-to-3D service: --service URL or the generator_url setting", file=sys.stderr)
        return 2
    if not args.output:
        print("thirdspace: -o/--output is required", file=sys.stderr)
        return 2
    generator = HttpGenerator(service) if args.prompt else RecipeGenerator()
    seeds = args.seeds or [args.seed]
    batch = len(seeds) > 1
    out = Path(args.output)
    if batch:
        out.mkdir(parents=True, exist_ok=True)
    made_at = args.made_at or _now()
    params = dict(args.param or [])
    for done, seed in enumerate(seeds, 1):
        request = GenerationRequest(args.made_by, made_at, args.recipe, params, seed, args.prompt)
        try:
            data = asyncio.run(generator.generate(request))
        except (RecipeError, GeneratorError) as err:
            if batch:
                print(file=sys.stderr)
            print(f"thirdspace: {err}", file=sys.stderr)
            return 2
        target = out / f"{args.recipe or 'generated'}-{seed}.glb" if batch else out
        target.write_bytes(data)
        _progress(done, len(seeds), target.name)
        if not batch:
            print(f"{target}: {len(data)} bytes")
    return 0


def cmd_asset_import(args: argparse.Namespace) -> int:
    import hashlib

    from thirdspace.assets.checks import ImportLimits, ImportRefused, check_upload
    from thirdspace.assets.gltf import pack
    from thirdspace.assets.library import label
    from thirdspace.assets.provenance import Provenance, read_packet

    settings = _settings(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
    try:
        limits = ImportLimits.from_settings(settings)
        gltf = check_upload(data, limits)
    except ImportRefused as err:
        print(f"thirdspace: refused {args.file}: {err}", file=sys.stderr)
        return 1
    packet = read_packet(gltf.document)
    existing = Provenance.from_packet(packet) if packet else None
    declared = None
    if args.source_type or args.made_by or args.made_at or args.title:
        declared = Provenance(
            source_type=args.source_type or (existing.source_type if existing else "digitalCapture"),
            generator=existing.generator if existing else str(gltf.document.get("asset", {}).get("generator", "unknown")),
            generator_version=existing.generator_version if existing else "",
            made_by=args.made_by or (existing.made_by if existing else "unknown"),
            made_at=args.made_at or (existing.made_at if existing else _now()),
            title=args.title,
        )
    glb = pack(label(gltf, declared, made_by=args.made_by or "unknown"))
    settings.assets_dir.mkdir(parents=True, exist_ok=True)
    target = settings.assets_dir / f"{args.id}.glb"
    target.write_bytes(glb)
    print(f"{target}: {len(glb)} bytes, sha256 {hashlib.sha256(glb).hexdigest()}")
    return 0


def _asset_id(text: str) -> str:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: an asset id is 1-64 lower-case letters, digits, '-' or '_'")
    return text


def _database(args: argparse.Namespace):
    from thirdspace.store import Database

    return Database.open(_settings(args))  # PostgreSQL with database_url, else SQLite in data_dir


def cmd_user_add(args: argparse.Namespace) -> int:
    import sqlite3

    db = _database(args)
    try:
        user, token = db.add_user(args.name, args.role)
    except sqlite3.IntegrityError:
        print(f"thirdspace: there is already a user {args.name!r}", file=sys.stderr)
        return 2
    print(f"Added {user.role} {user.name!r}. Their token (shown only this once; keep it secret):")
    print(token)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    for user in _database(args).users():
        print(f"{user.id:>4}  {user.role:<8} {user.name}")
    return 0


def cmd_user_revoke(args: argparse.Namespace) -> int:
    from thirdspace.store import NotFound

    db = _database(args)
    try:
        token = db.revoke_user(args.id, args.new_token)
    except NotFound:
        print(f"thirdspace: there is no user {args.id} (see thirdspace user list)", file=sys.stderr)
        return 2
    print(f"Revoked user {args.id}: their token no longer works and their sessions have ended.")
    if token:
        print("Their new token (shown only this once; keep it secret):")
        print(token)
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from thirdspace.store import NotFound

    db = _database(args)
    try:
        user = db.remove_user(args.id)
    except NotFound:
        print(f"thirdspace: there is no user {args.id} (see thirdspace user list)", file=sys.stderr)
        return 2
    print(f"Removed {user.role} {user.name!r} (user {user.id}); their sessions have ended.")
    return 0


def cmd_scene_export(args: argparse.Namespace) -> int:
    import json

    from thirdspace.store import NotFound

    db = _database(args)
    try:
        record = db.scene(args.id)
        number = args.revision or (record.published_revision if args.published else record.draft_revision)
        if number is None:
            print(f"thirdspace: scene {args.id!r} has no published revision", file=sys.stderr)
            return 2
        document = db.revision(args.id, number)["document"]
    except NotFound as err:
        print(f"thirdspace: not found: {err}", file=sys.stderr)
        return 2
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, "utf-8")
        print(f"{args.output}: scene {args.id} revision {number}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_scene_import(args: argparse.Namespace) -> int:
    """Each file as its scene's next draft revision (a new scene: revision 1, a draft), with what changed."""
    from thirdspace.scenes.importing import IMPORT_AUTHOR, describe, import_message
    from thirdspace.scenes.model import SceneError, load_file
    from thirdspace.store import Conflict, NotFound

    db = _database(args)
    failed = 0
    for path in args.files:
        try:
            scene = load_file(path)
        except SceneError as err:
            failed += 1
            for issue in err.issues:
                print(issue, file=sys.stderr)
            continue
        if not db.scene_exists(scene.id):
            db.create_scene(scene.document, IMPORT_AUTHOR, import_message(path))
            print(f"{path}: new scene {scene.id}, draft revision 1 (publish it in the curator page)")
            continue
        try:
            record = db.scene(scene.id)
        except NotFound:
            failed += 1
            print(f"{path}: scene {scene.id!r} was taken down; its id cannot be used again", file=sys.stderr)
            continue
        head = db.revision(scene.id, record.draft_revision)
        if head["document"] == scene.document:
            print(f"{path}: scene {scene.id} draft revision {record.draft_revision} is the same; nothing to import")
            continue
        try:
            updated = db.write_draft(scene.id, record.draft_revision, scene.document, IMPORT_AUTHOR, import_message(path))
        except Conflict as err:
            failed += 1
            print(f"{path}: the draft of {scene.id} moved on to revision {err.current} meanwhile; run the import again", file=sys.stderr)
            continue
        published = record.published_revision
        shown = "not published yet" if published is None else f"visitors see revision {published} until you publish"
        print(f"{path}: scene {scene.id} draft revision {updated.draft_revision} (was {record.draft_revision}; {shown})")
        for line in describe(head["document"], scene.document):
            print(line)
    return 1 if failed else 0


def cmd_anchors_print(args: argparse.Namespace) -> int:
    from thirdspace.store import NotFound
    from thirdspace.tours.anchors import print_anchors

    db = _database(args)
    try:
        record = db.scene(args.scene)
        number = record.published_revision or record.draft_revision
        document = db.revision(args.scene, number)["document"]
    except NotFound:
        from thirdspace.scenes.model import SceneError, load_file

        try:  # not in the store yet: a scene file
            document = load_file(_settings(args).scenes_dir / f"{args.scene}.json").document
        except SceneError:
            print(f"thirdspace: no scene {args.scene!r}", file=sys.stderr)
            return 2
    try:
        urls = print_anchors(document, Path(args.output), args.url, args.room)
    except ValueError as err:
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
    for url in urls:
        print(url)
    return 0


def _whole(minimum: int):
    """An option's type: a whole number of at least ``minimum`` (a count, a seed)."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {value}")
        return value

    return whole


_positive_int = _whole(1)


def _number(minimum: float = 0.0, above: bool = False):
    """An option's type: a finite number of at least ``minimum`` (or above it: a duration, a rate)."""

    def number(text: str) -> float:
        import math

        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
        if not math.isfinite(value) or value < minimum or (above and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {'more than' if above else 'at least'} {minimum:g}, not {text}")
        return value

    return number


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line (the usage itself is a ``--help`` away), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="thirdspace", description="Shared virtual third spaces.")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the scenes, the web client and the WebSocket")
    serve.add_argument("--host")
    serve.add_argument("--port", type=_port)
    serve.add_argument("--data-dir", type=Path)
    serve.add_argument("--scenes", type=Path, help="directory of scene documents")
    serve.add_argument(
        "--reimport-scenes",
        action="store_const",
        const=True,
        help="scene files changed since they were stored become their scenes' next draft revisions",
    )
    serve.add_argument("--no-build", action="store_true", help="do not (re)build the web client")
    serve.add_argument("--redis", dest="redis_url", metavar="URL", help="cluster mode: coordinate with other nodes through this Redis")
    serve.add_argument("--database-url", metavar="URL", help="keep the store in PostgreSQL (postgresql://...) instead of SQLite")
    serve.add_argument("--public-url", help="in a cluster, where browsers reach this node's WebSocket (ws[s]://HOST:PORT/ws)")
    serve.add_argument("--node-name", help="this node's id in the cluster")
    serve.add_argument("--workers", type=_whole(1), help="run N worker processes sharing the port (needs --redis)")
    serve.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--log-format", choices=("text", "json"))
    serve.add_argument("--voice", choices=("p2p", "janus", "off"), help="spatial voice: browser to browser (default), via Janus, or none")
    serve.add_argument("--janus-url", metavar="URL", help="with --voice janus: the Janus HTTP API, e.g. http://127.0.0.1:8088/janus")
    serve.set_defaults(func=cmd_serve)

    build = sub.add_parser("build-client", help="install and bundle the web client (needs Node.js)")
    build.set_defaults(func=cmd_build_client)

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    sync = bench_sub.add_parser("sync", help="the sync kernels on a recorded crowd, against a naive baseline")
    sync.add_argument("--entities", type=_whole(1), default=1000)
    sync.add_argument("--seconds", type=_number(above=True), default=10.0)
    sync.add_argument("--hz", type=_number(above=True), default=20.0)
    sync.add_argument("--ack-delay", type=_positive_int, default=1, help="ticks before a snapshot's ack reaches the server (1 or more)")
    sync.add_argument("--radius", type=_number(above=True), default=30.0, help="interest radius in metres")
    sync.add_argument("--max-visible", type=_whole(1), default=64)
    sync.add_argument("--budget", type=_whole(1), default=1200, help="bytes per client per tick")
    sync.add_argument("--decode", type=_whole(0), default=16, help="visitors whose snapshots are decoded and checked against the trace")
    sync.add_argument("--area", type=_number(above=True), default=40.0, help="square metres of plaza per visitor (1.5 packs the crowd)")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(func=cmd_bench_sync)

    assets = bench_sub.add_parser("assets", help="bytes of each scene's lowest levels against full detail")
    assets.add_argument("--scenes", type=Path, help="directory of scene documents")
    assets.add_argument("--json", action="store_true")
    assets.set_defaults(func=cmd_bench_assets)
    scene_load = bench_sub.add_parser("scene-load", help="time to the whole scene at its lowest level, in headless Chromium")
    scene_load.add_argument("--url", required=True, help="http://HOST:PORT of a running server")
    scene_load.add_argument("--scene", default="caravanserai")
    scene_load.add_argument("--runs", type=_positive_int, default=10)
    scene_load.add_argument("--chromium", help="the Chromium binary (default: chromium on PATH)")
    scene_load.add_argument("--json", action="store_true")
    scene_load.set_defaults(func=cmd_bench_scene_load)

    load = sub.add_parser("loadtest", help="bot visitors against a running server")
    load.add_argument("--url", required=True, action="append", help="ws://HOST:PORT/ws (repeat for the nodes of a cluster)")
    load.add_argument("--stalled", type=_whole(0), default=0, help="extra bots that join, then stop reading their socket")
    load.add_argument("--sample-every", type=_number(), default=0.0, help="also sample the servers' memory every S seconds")
    load.add_argument("--scene", required=True)
    load.add_argument("--clients", type=_whole(1), default=50)
    load.add_argument("--hz", type=_number(above=True), default=20.0)
    load.add_argument("--seconds", type=_number(above=True), default=30.0)
    load.add_argument("--processes", type=_whole(0), default=0, help="bot processes (default: one per 125 clients, at most the cores)")
    load.add_argument(
        "--ack-delay", type=_positive_int, default=1, help="bots acknowledge the snapshot this many back (1: the newest, as the browser)"
    )
    load.add_argument("--voice", action="store_true", help="bots turn voice on (every other one speaks) and signal, without audio")
    load.add_argument(
        "--cpus", type=_cpu_list, metavar="LIST", help="run the bot processes on these CPUs, as taskset -c: 1 or 1,2 or 1-3 (default: any)"
    )
    load.add_argument("--lean", action="store_true", help="walking bots on raw sockets, one task for all (no voice, no reconnecting)")
    load.add_argument("--json", action="store_true")
    load.set_defaults(func=cmd_loadtest)

    generate = sub.add_parser("generate", help="make GLB assets from a recipe (or a text-to-3D service)")
    generate.add_argument("recipe", nargs="?", help="recipe name (see --list)")
    generate.add_argument("--list", action="store_true", help="list the recipes and their parameters")
    generate.add_argument("--json", action="store_true", help="with --list: the recipes and their JSON Schemas as JSON")
    generate.add_argument("--param", action="append", type=_param, metavar="KEY=VALUE", help="a recipe parameter (repeatable)")
    generate.add_argument("--seed", type=_whole(0), default=0)
    generate.add_argument("--seeds", type=_seeds, metavar="FIRST-LAST", help="a batch: one file per seed into the -o directory")
    generate.add_argument("--made-by", default="Third Space", help="who made it, for the provenance record")
    generate.add_argument("--made-at", help="when (ISO 8601; default now): give it for byte-identical output")
    generate.add_argument("--prompt", help="a text prompt for the configured text-to-3D service instead of a recipe")
    generate.add_argument("--service", help="URL of a text-to-3D service (default: the generator_url setting)")
    generate.add_argument("-o", "--output", help="output .glb (a directory with --seeds)")
    generate.set_defaults(func=cmd_generate)

    asset = sub.add_parser("asset", help="curators' own models")
    asset_sub = asset.add_subparsers(dest="asset_command", required=True)
    add = asset_sub.add_parser("import", help="check a GLB (or a zip with a .gltf and its files) and add it to the asset directory")
    add.add_argument("file", type=Path)
    add.add_argument("--id", required=True, type=_asset_id, help="the asset id scenes will use")
    add.add_argument(
        "--source-type", choices=SOURCE_TYPES, help="IPTC digital source type (default: what the file declares, else digitalCapture)"
    )
    add.add_argument("--made-by", help="who made the model")
    add.add_argument("--made-at", help="when (ISO 8601; default now)")
    add.add_argument("--title")
    add.add_argument("--assets-dir", type=Path, help="where scenes' assets live (default: the assets_dir setting)")
    add.set_defaults(func=cmd_asset_import)

    scene = sub.add_parser("scene", help="scene documents")
    scene_sub = scene.add_subparsers(dest="scene_command", required=True)
    validate = scene_sub.add_parser("validate", help="check scene files against the schema")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_scene_validate)
    export = scene_sub.add_parser("export", help="write a stored scene back to a JSON file")
    export.add_argument("id")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.add_argument("--revision", type=_positive_int, help="a revision number (default: the draft head)")
    export.add_argument("--published", action="store_true", help="the published revision instead of the draft")
    export.add_argument("--data-dir", type=Path)
    export.set_defaults(func=cmd_scene_export)
    scene_import = scene_sub.add_parser("import", help="bring scene files into the store as new draft revisions, with what changed")
    scene_import.add_argument("files", nargs="+", type=Path)
    scene_import.add_argument("--data-dir", type=Path)
    scene_import.set_defaults(func=cmd_scene_import)

    anchors = sub.add_parser("anchors", help="printable markers for a scene's physical anchors")
    anchors_sub = anchors.add_subparsers(dest="anchors_command", required=True)
    print_cmd = anchors_sub.add_parser("print", help="a QR code per anchor, to a PDF (a page each) or PNG")
    print_cmd.add_argument("scene")
    print_cmd.add_argument("-o", "--output", required=True, help="anchors.pdf or anchors.png")
    print_cmd.add_argument("--url", default="http://127.0.0.1:8080", help="the address visitors open (the server's public URL)")
    print_cmd.add_argument("--room", help="pin a room in the codes")
    print_cmd.add_argument("--data-dir", type=Path)
    print_cmd.set_defaults(func=cmd_anchors_print)

    users = sub.add_parser("user", help="people who curate or administer")
    user_sub = users.add_subparsers(dest="user_command", required=True)
    user_add = user_sub.add_parser("add", help="add a user and print their token once")
    user_add.add_argument("name")
    user_add.add_argument("--role", choices=("visitor", "guide", "curator", "admin"), required=True)
    user_add.add_argument("--data-dir", type=Path)
    user_add.set_defaults(func=cmd_user_add)
    user_list = user_sub.add_parser("list", help="list the users")
    user_list.add_argument("--data-dir", type=Path)
    user_list.set_defaults(func=cmd_user_list)
    user_revoke = user_sub.add_parser("revoke", help="end a user's sessions and make their token worthless")
    user_revoke.add_argument("id", type=_whole(1), help="the user's number (thirdspace user list)")
    user_revoke.add_argument("--new-token", action="store_true", help="give them a new token, printed once")
    user_revoke.add_argument("--data-dir", type=Path)
    user_revoke.set_defaults(func=cmd_user_revoke)
    user_remove = user_sub.add_parser("remove", help="delete a user and end their sessions")
    user_remove.add_argument("id", type=_whole(1), help="the user's number (thirdspace user list)")
    user_remove.add_argument("--data-dir", type=Path)
    user_remove.set_defaults(func=cmd_user_remove)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:  # bad settings
        print(f"thirdspace: {err}", file=sys.stderr)
        return 2
