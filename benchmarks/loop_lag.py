"""Does curator work stall the event loop? Visitors' snapshots while curators work over HTTP.

    python benchmarks/loop_lag.py --seconds 60 --json

Starts `thirdspace serve` on a free loopback port with a fresh data directory and a
curator account, joins --bots walking bot visitors to one room of --scene (in a child
process, so the bots' CPU is not in this process's event loop) and one watching visitor
(here) that notes the arrival time of every snapshot. Then, for --seconds, curators work
over HTTP, each action in its own task, a 503 retried after its Retry-After:

- generate recipe assets (POST /api/curate/assets/generate),
- upload every GLB of npm @webxr-input-profiles/assets (82 in 1.0.20), --concurrency at once,
- upload a large deterministic mesh made with trimesh (a noisy grid terrain, --big-mb MB,
  about 17 MB by default), sent at --big-at of the run,
- add a node for each uploaded model to the scene's draft and publish it (every
  --publish-every nodes),
- page through the scene's history: the list of revisions, revisions and diffs.

The server's histogram thirdspace_tick_lateness_seconds (how late each room tick
starts) is read before and after; its percentiles are estimated from the buckets. The
watcher's snapshot gaps are measured directly. A gap still open when the run ends is
reported as open (a tick the loop has not run yet is in no histogram).

Bounded: every request and wait has a timeout. Starting takes 10-40 s (a fresh data
directory builds the demo assets; a source tree run for the first time compiles the
sync kernels); after --seconds, at most --grace for the last read of /metrics and about
20 s to stop the bots and the server. The server and the bots are stopped (then killed)
at the end, on Ctrl-C, SIGTERM or an error too, and the kernel kills them if this process
is killed. Traffic goes only to 127.0.0.1.

--server-root runs the server (and the bots' client) of another source tree, for
instance a fixed commit while the working tree is being edited:
    git archive HEAD | tar -x -C /tmp/snapshot
    python benchmarks/loop_lag.py --server-root /tmp/snapshot --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import email.utils
import functools
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
SERVER_ROOT = ROOT  # the source tree whose server, bots and client run (--server-root)
PROFILES = ROOT / "web_client" / "node_modules" / "@webxr-input-profiles" / "assets" / "dist" / "profiles"
LATENESS = "thirdspace_tick_lateness_seconds"
RECIPES = (
    "pagoda",
    "memorial_gate",
    "vessel",
    "lantern",
    "cypress",
    "fountain",
    "carpet",
    "stele",
    "astrolabe",
    "terrain",
    "plinth",
    "info_panel",
)
ACK_EVERY_S = 0.2  # the watcher re-sends its pose with a fresh ack this often (the protocol asks for at least every 250 ms)


def log(message: str) -> None:
    print(f"[loop_lag {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In a child, before exec: the kernel kills it when this process dies, however it dies (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def source_version(root: Path) -> dict[str, Any]:
    """The commit of a checkout, and whether its server/ has changes not committed (None: not a git checkout)."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "server"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return {"root": str(root), "commit": None, "server_changed": None}
    return {"root": str(root), "commit": commit.stdout.strip(), "server_changed": bool(status.stdout.strip())}


def package_version() -> str | None:
    with contextlib.suppress(OSError, ValueError):
        return "@webxr-input-profiles/assets " + json.loads((PROFILES.parents[1] / "package.json").read_text())["version"]
    return None


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SERVER_ROOT / "server"), env.get("PYTHONPATH", "")) if p)
    return env | extra


# -- the large mesh ---------------------------------------------------------------------------


def terrain_glb(target_mb: float, seed: int = 7) -> tuple[bytes, dict[str, int]]:
    """A rolling grid terrain with a little seeded noise, as GLB with normals: about ``target_mb`` MB, the same bytes every time."""
    import trimesh

    n = max(8, round(math.sqrt(target_mb * 1e6 / 48)))  # per vertex 24 bytes (position, normal) + about 2 triangles of 12
    rng = np.random.default_rng(seed)
    xs = np.linspace(-20.0, 20.0, n)
    x, z = np.meshgrid(xs, xs)
    y = 0.8 * np.sin(x / 3.1) * np.cos(z / 4.3) + 0.3 * np.sin(x / 1.3 + z / 1.7) + rng.normal(0.0, 0.02, x.shape)
    vertices = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1).astype(np.float32)
    grid = np.arange(n * n).reshape(n, n)
    a, b, c, d = grid[:-1, :-1].ravel(), grid[:-1, 1:].ravel(), grid[1:, :-1].ravel(), grid[1:, 1:].ravel()
    faces = np.concatenate([np.stack([a, c, b], axis=1), np.stack([b, c, d], axis=1)]).astype(np.uint32)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    glb = mesh.export(file_type="glb", include_normals=True)
    return glb, {"vertices": int(len(vertices)), "triangles": int(len(faces))}


# -- the bots (a child process) -----------------------------------------------------------------


async def _bots_main(args: argparse.Namespace) -> None:
    from thirdspace.client import ThirdSpaceClient
    from thirdspace.loadtest import Trail, _bot_walk

    # Browsers send no WebSocket pings; the Python client's keepalive (20 s) would drop every bot
    # during a long stall of the server's loop and make them reconnect, which browsers do not do.
    # ThirdSpaceClient has no option for it, so in this process (which only runs the bots) it is off.
    websockets.connect = functools.partial(websockets.connect, ping_interval=None)  # type: ignore[assignment]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def read_stdin() -> None:  # a line, or EOF (the parent went away), means stop
        sys.stdin.readline()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read_stdin, daemon=True).start()
    semaphore = asyncio.Semaphore(16)
    errors: list[str] = []

    async def connect(i: int) -> ThirdSpaceClient | None:
        async with semaphore:
            try:
                return await ThirdSpaceClient.connect(
                    args.url, args.scene, f"bot-{i}", random.Random(i).choice(["en", "fr", "sw", "zh", "ar"]),
                    decode=False, reconnect=True, timeout=20.0, room=args.room,
                )  # fmt: skip
            except Exception as err:  # noqa: BLE001 - reported to the parent
                errors.append(f"{type(err).__name__}: {err}")
                return None

    joined = await asyncio.wait_for(asyncio.gather(*(connect(i) for i in range(args.bots))), args.join_timeout)
    clients = [c for c in joined if c is not None]
    rooms = sorted({c.room for c in clients})
    print(json.dumps({"ready": len(clients), "rooms": rooms, "errors": errors[:5]}), flush=True)
    until = time.monotonic() + args.limit
    walks = [asyncio.create_task(_bot_walk(c, random.Random(1000 + i), args.hz, until, Trail())) for i, c in enumerate(clients)]
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([stopper, *walks], timeout=args.limit, return_when=asyncio.FIRST_COMPLETED)
    if not stopper.done():  # every walk ended (the limit) or the first one failed: wait for the stop or the limit
        await asyncio.wait([stopper], timeout=max(0.0, until - time.monotonic()))
    for walk in walks:
        walk.cancel()
    outcomes = await asyncio.gather(*walks, return_exceptions=True)
    failures = [f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException) and not isinstance(o, asyncio.CancelledError)]
    summary = {
        "connected_at_end": sum(1 for c in clients if not c.closed),
        "resumes": sum(c.resumes for c in clients),
        "snapshots": sum(c.snapshots for c in clients),
        "errors": (errors + failures)[:5],
    }
    print(json.dumps({"done": summary}), flush=True)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.gather(*(c.close() for c in clients), return_exceptions=True), 5)


def bots_child(args: argparse.Namespace) -> int:
    from thirdspace.loadtest import _exit_with_parent

    _exit_with_parent()
    try:
        import uvloop

        uvloop.run(_bots_main(args))
    except ImportError:
        asyncio.run(_bots_main(args))
    sys.stdout.flush()
    os._exit(0)  # do not wait for anything the bots left behind


# -- the watcher ----------------------------------------------------------------------------------


class Watcher:
    """One visitor standing still, acknowledging snapshots, noting when each arrives; no keepalive pings, as a browser."""

    def __init__(self, url: str, scene: str):
        self.url, self.scene = url, scene
        self.arrivals: list[float] = []
        self.welcome: dict[str, Any] = {}
        self.ws: Any = None
        self.ack: int | None = None
        self.drops: list[dict[str, Any]] = []  # connections that ended before the run did
        self.reconnects = 0

    async def join(self, timeout: float, resume: bool = False) -> None:
        hello: dict[str, Any] = {"type": "hello", "protocol": 2, "scene": self.scene, "name": "loop-lag watcher"}
        if resume:
            hello |= {"room": self.welcome["room"], "resume": self.welcome["resume"]}
        ws = await websockets.connect(self.url, ping_interval=None, max_size=2**22, open_timeout=timeout, close_timeout=2)
        try:
            await ws.send(orjson.dumps(hello).decode())
            async with asyncio.timeout(timeout):
                while True:
                    message = orjson.loads(await ws.recv())
                    if message.get("type") == "welcome":
                        break
                    if message.get("type") == "error":
                        raise RuntimeError(f"the watcher's hello was refused: {message}")
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
            raise
        self.ws, self.welcome, self.ack = ws, message, None

    @property
    def room(self) -> str:
        return self.welcome["room"]

    async def _acks(self, ws: Any) -> None:
        from thirdspace.protocol.codec import encode_pose
        from thirdspace.protocol.constants import FLAG_ACK

        spawn = self.welcome["spawn"]["position"]
        parts = np.zeros((3, 7), dtype=np.float32)
        parts[:, 6] = 1.0
        parts[0, :3] = (spawn[0], spawn[1] + 1.6, spawn[2])
        while True:
            await ws.send(encode_pose(parts, FLAG_ACK if self.ack is not None else 0, self.ack or 0))
            await asyncio.sleep(ACK_EVERY_S)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            ws = self.ws
            sender = asyncio.create_task(self._acks(ws))
            try:
                async for message in ws:
                    if isinstance(message, bytes) and message[:1] == b"\x03":
                        self.arrivals.append(time.monotonic())
                        self.ack = int.from_bytes(message[2:4], "little")
            except websockets.ConnectionClosed:
                pass
            finally:
                sender.cancel()
            if stop.is_set():
                return
            self.drops.append({"at": time.monotonic(), "code": ws.close_code})
            delay = 0.2
            while not stop.is_set():
                try:
                    await self.join(5.0, resume=True)
                    self.reconnects += 1
                    break
                except (OSError, TimeoutError, RuntimeError, websockets.WebSocketException):
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, 2.0)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 3)


def _watcher_main(url: str, scene: str, conn: Any) -> None:
    """The watcher's process: its loop does nothing else, so the curators' work here cannot delay its clock."""

    async def main() -> None:
        watcher = Watcher(url, scene)
        await watcher.join(30.0)
        conn.send({"welcome": watcher.welcome})
        stop = asyncio.Event()
        lag: list[float] = []
        lag_task = asyncio.create_task(own_loop_lag(lag))
        watching = asyncio.create_task(watcher.run(stop))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
        stop.set()
        arrivals = list(watcher.arrivals)
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await watcher.close()
        lag_task.cancel()
        conn.send({"arrivals": arrivals, "drops": watcher.drops, "reconnects": watcher.reconnects, "lag_max_s": max(lag, default=0.0)})

    asyncio.run(main())


class WatcherProcess:
    """The watcher in a process of its own (monotonic times are the machine's, so its arrivals compare with ours)."""

    def __init__(self, url: str, scene: str):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_watcher_main, args=(url, scene, child), daemon=True, name="loop-lag watcher")
        self.welcome: dict[str, Any] = {}

    async def start(self, timeout: float) -> None:
        self.process.start()
        if not await asyncio.to_thread(self.conn.poll, timeout):
            raise RuntimeError("the watcher did not join in time")
        self.welcome = (await asyncio.to_thread(self.conn.recv))["welcome"]

    @property
    def room(self) -> str:
        return self.welcome["room"]

    async def stop(self, timeout: float = 15.0) -> dict[str, Any]:
        """Stop watching; the arrivals, drops, reconnects and the watcher's own loop lag."""
        self.conn.send("stop")
        result: dict[str, Any] = {"arrivals": [], "drops": [], "reconnects": 0, "lag_max_s": None}
        if await asyncio.to_thread(self.conn.poll, timeout):
            result = await asyncio.to_thread(self.conn.recv)
        await asyncio.to_thread(self.process.join, 5)
        if self.process.is_alive():
            self.process.kill()
        return result


async def own_loop_lag(samples: list[float]) -> None:
    """How late this process's own loop wakes (if it lagged, the watcher's times would be off)."""
    period = 0.02
    while True:
        start = time.monotonic()
        await asyncio.sleep(period)
        samples.append(time.monotonic() - start - period)


# -- /metrics ---------------------------------------------------------------------------------------

BUCKET = re.compile(r"^" + LATENESS + r'_bucket\{le="([^"]+)"\} (\S+)$')


def parse_metrics(text: str) -> dict[str, Any]:
    buckets: list[tuple[float, float]] = []
    plain: dict[str, float] = {}
    for line in text.splitlines():
        match = BUCKET.match(line)
        if match:
            buckets.append((float(match.group(1)), float(match.group(2))))
        elif line and not line.startswith("#") and "{" not in line:
            name, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                plain[name] = float(value)
    return {"buckets": sorted(buckets), "plain": plain}


async def scrape(session: aiohttp.ClientSession, base: str, timeout: float) -> dict[str, Any]:
    async with session.get(f"{base}/metrics", timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        response.raise_for_status()
        return parse_metrics(await response.text()) | {"at": time.monotonic()}


def lateness_report(before: dict[str, Any], after: dict[str, Any], tick_hz: float) -> dict[str, Any]:
    """Percentiles of the ticks observed between two reads, estimated from the buckets (linear within a bucket)."""
    old = dict(before["buckets"])
    cumulative = [(le, count - old.get(le, 0.0)) for le, count in after["buckets"]]
    total = cumulative[-1][1] if cumulative else 0.0

    def bucket_of(rank: float) -> int:
        return next(i for i, (_, count) in enumerate(cumulative) if count >= rank)

    def quantile(q: float) -> dict[str, Any]:
        i = bucket_of(max(q * total, 1e-9))
        lower = cumulative[i - 1][0] if i else 0.0
        upper, below = cumulative[i][0], cumulative[i - 1][1] if i else 0.0
        if math.isinf(upper):  # past the last finite bucket: all the histogram can say is "more than"
            return {"seconds": None, "more_than_s": lower, "bucket_s": [lower, None]}
        share = (q * total - below) / max(cumulative[i][1] - below, 1e-9)
        return {"seconds": round(lower + (upper - lower) * min(max(share, 0.0), 1.0), 6), "bucket_s": [lower, upper]}

    scheduled = int((after["at"] - before["at"]) * tick_hz)  # ticks a loop that never lagged would have run meanwhile
    if total <= 0:
        return {"ticks_observed": 0, "ticks_scheduled": scheduled, "estimated_from_buckets": True}
    top = bucket_of(total)
    lower = cumulative[top - 1][0] if top else 0.0
    upper = cumulative[top][0]
    plain_delta = {k: after["plain"].get(k, 0.0) - before["plain"].get(k, 0.0) for k in (f"{LATENESS}_sum", f"{LATENESS}_count")}
    return {
        "estimated_from_buckets": True,
        "ticks_observed": int(total),
        "ticks_scheduled": scheduled,  # a late tick does not run the ticks it missed: fewer observed than scheduled is lag too
        "mean_s": round(plain_delta[f"{LATENESS}_sum"] / max(plain_delta[f"{LATENESS}_count"], 1.0), 6),
        "p50": quantile(0.50),
        "p99": quantile(0.99),
        "max_bucket_s": [lower, None if math.isinf(upper) else upper],  # the highest bucket any tick reached
        "ticks_over_1s": int(total - dict(cumulative).get(1.0, total)),
        "buckets": [[le if not math.isinf(le) else "+Inf", int(count)] for le, count in cumulative],
    }


# -- curators -------------------------------------------------------------------------------------


class Refused(Exception):
    """The run ended while the server was still answering 503."""


class HttpFailure(Exception):
    def __init__(self, status: int, body: bytes):
        super().__init__(f"HTTP {status}: {body[:200].decode(errors='replace')}")
        self.status = status


@dataclass
class Action:
    kind: str
    detail: str
    started: float
    ended: float | None = None
    outcome: str = "unfinished"  # done, refused, failed, unfinished
    reason: str = ""
    waiting_after_503: bool = False
    task: asyncio.Task | None = None


@dataclass
class Work:
    plan: deque = field(default_factory=deque)  # uploads and recipe generations, in a fixed order
    urgent: deque = field(default_factory=deque)  # adding nodes and publishing, as uploads succeed
    etag: str = '"r1"'
    added_since_publish: int = 0
    nodes_added: int = 0
    uploads_in_flight: int = 0


class Curators:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str, scene: str, args: argparse.Namespace, t0: float):
        self.session, self.base, self.scene, self.args, self.t0 = session, base, scene, args, t0
        self.auth = {"Authorization": f"Bearer {token}"}
        self.deadline = t0 + args.seconds
        self.actions: list[Action] = []
        self.responses = Counter()  # HTTP statuses of every response, retries included
        self.work = Work()
        self.history_cursor: int | None = None
        self.tasks: set[asyncio.Task] = set()

    # one HTTP request, retried after Retry-After while the server answers 503
    async def request(self, action: Action, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, Any]:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        timeout = aiohttp.ClientTimeout(total=self.args.request_timeout)
        while True:
            async with self.session.request(method, self.base + path, headers=headers, timeout=timeout, **kwargs) as response:
                body = await response.read()
                self.responses[response.status] += 1
                if response.status != 503:
                    return response.status, body, response.headers
                wait = retry_after(response.headers.get("Retry-After"))
            if time.monotonic() + wait >= self.deadline:
                raise Refused(f"503 at {time.monotonic() - self.t0:.1f} s; Retry-After {wait:.1f} s is past the end of the run")
            action.waiting_after_503 = True
            await asyncio.sleep(wait)
            action.waiting_after_503 = False

    def spawn(self, kind: str, detail: str, work) -> Action:
        action = Action(kind, detail, time.monotonic())

        async def run() -> None:
            try:
                await work(action)
                action.outcome = "done"
            except Refused as err:
                action.outcome, action.reason = "refused", str(err)
            except asyncio.CancelledError:
                action.outcome = "refused" if action.waiting_after_503 else "unfinished"
                action.reason = "the run ended while it waited after a 503" if action.waiting_after_503 else "the run ended"
                raise
            except HttpFailure as err:
                action.outcome, action.reason = "failed", str(err)
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                action.outcome, action.reason = "failed", f"{type(err).__name__}: {err}"
            finally:
                action.ended = time.monotonic()

        self.actions.append(action)
        action.task = asyncio.create_task(run(), name=f"{kind} {detail}")
        self.tasks.add(action.task)
        action.task.add_done_callback(self.tasks.discard)
        return action

    # the actions
    async def generate(self, action: Action, name: str, seed: int) -> None:
        status, body, _ = await self.request(action, "POST", "/api/curate/assets/generate", json={"recipe": {"name": name, "seed": seed}})
        if status != 201:
            raise HttpFailure(status, body)

    async def upload(self, action: Action, asset_id: str, data: bytes, source_type: str, title: str) -> None:
        self.work.uploads_in_flight += 1
        try:
            query = {"id": asset_id, "source_type": source_type, "title": title}
            status, body, _ = await self.request(
                action, "POST", "/api/curate/assets", params=query, data=data, headers={"Content-Type": "model/gltf-binary"}
            )
        finally:
            self.work.uploads_in_flight -= 1
        if status != 201:
            raise HttpFailure(status, body)
        self.work.urgent.append(("add-node", asset_id))

    async def write_draft(self, action: Action, method: str, path: str, payload: dict[str, Any]) -> None:
        """A draft write on top of the newest ETag known; a 412 (someone else wrote first) is retried on the new one."""
        for _ in range(20):
            status, body, headers = await self.request(action, method, path, json=payload, headers={"If-Match": self.work.etag})
            if status == 412 and headers.get("ETag"):
                self.responses["412 retried"] += 1
                self.work.etag = headers["ETag"]
                continue
            if status != 200:
                raise HttpFailure(status, body)
            self.work.etag = headers.get("ETag", self.work.etag)
            return
        raise HttpFailure(412, b"the draft kept changing: 20 conflicts in a row")

    async def add_node(self, action: Action, asset_id: str) -> None:
        k = self.work.nodes_added
        node = {"id": f"ll-{asset_id}", "asset": asset_id, "position": [-18.0 + 4.0 * (k % 10), 1.0, -18.0 + 4.0 * (k // 10 % 10)]}
        await self.write_draft(action, "POST", f"/api/curate/scenes/{self.scene}/nodes", {"node": node, "message": f"loop-lag: {asset_id}"})
        self.work.nodes_added += 1
        self.work.added_since_publish += 1
        if self.work.added_since_publish >= self.args.publish_every or asset_id == "grid-terrain":
            self.queue_publish()

    def queue_publish(self) -> None:
        self.work.added_since_publish = 0
        self.work.urgent.append(("publish", ""))

    async def publish(self, action: Action) -> None:
        await self.write_draft(action, "POST", f"/api/curate/scenes/{self.scene}/publish", {})

    async def history_page(self, action: Action) -> None:
        """The list of revisions, then three revisions and their diffs, a page further back each time."""
        status, body, _ = await self.request(action, "GET", f"/api/curate/scenes/{self.scene}/revisions")
        if status != 200:
            raise HttpFailure(status, body)
        newest = max(r["revision"] for r in orjson.loads(body)["revisions"])
        cursor = self.history_cursor if self.history_cursor and self.history_cursor <= newest else newest
        for number in range(cursor, max(cursor - 3, 0), -1):
            status, body, _ = await self.request(action, "GET", f"/api/curate/scenes/{self.scene}/revisions/{number}")
            if status != 200:
                raise HttpFailure(status, body)
            if number > 1:
                status, body, _ = await self.request(
                    action, "GET", f"/api/curate/scenes/{self.scene}/diff", params={"from": number - 1, "to": number}
                )
                if status != 200:
                    raise HttpFailure(status, body)
        self.history_cursor = cursor - 3 if cursor > 3 else None

    # the lanes
    async def worker(self) -> None:
        while time.monotonic() < self.deadline:
            if self.work.urgent:
                kind, detail = self.work.urgent.popleft()
                if kind == "add-node":
                    action = self.spawn("add-node", detail, lambda a, d=detail: self.add_node(a, d))
                else:
                    action = self.spawn("publish", "", self.publish)
            elif self.work.plan:
                kind, detail, work = self.work.plan.popleft()
                action = self.spawn(kind, detail, work)
            else:
                if self.work.added_since_publish and not self.work.uploads_in_flight:
                    self.queue_publish()
                await asyncio.sleep(0.1)
                continue
            await asyncio.wait([action.task])

    async def big_lane(self, glb: bytes) -> None:
        await asyncio.sleep(max(0.0, self.t0 + self.args.big_at * self.args.seconds - time.monotonic()))
        title = f"grid terrain, {len(glb) / 1e6:.1f} MB (trimesh, seeded noise)"
        action = self.spawn("upload-large", "grid-terrain", lambda a: self.upload(a, "grid-terrain", glb, "algorithmicMedia", title))
        await asyncio.wait([action.task])

    async def history_lane(self) -> None:
        while time.monotonic() < self.deadline:
            action = self.spawn("history", "", self.history_page)
            await asyncio.wait([action.task])
            await asyncio.sleep(self.args.history_every)

    def build_plan(self, glbs: list[tuple[Path, bytes]]) -> None:
        recipes = [(RECIPES[i % len(RECIPES)], 1 + i // len(RECIPES)) for i in range(self.args.recipes)]
        every = max(1, math.ceil(len(glbs) / max(len(recipes), 1)))
        for i, (path, data) in enumerate(glbs):
            if i % every == 0 and recipes:
                name, seed = recipes.pop(0)
                self.work.plan.append(("generate", f"{name} seed {seed}", lambda a, n=name, s=seed: self.generate(a, n, s)))
            asset_id = re.sub(r"[^a-z0-9_-]", "-", f"{path.parent.name}-{path.stem}".lower())[:64]
            title = f"{path.parent.name} {path.stem} (npm @webxr-input-profiles/assets)"
            self.work.plan.append(("upload", asset_id, lambda a, i=asset_id, d=data, t=title: self.upload(a, i, d, "digitalCreation", t)))
        for name, seed in recipes:
            self.work.plan.append(("generate", f"{name} seed {seed}", lambda a, n=name, s=seed: self.generate(a, n, s)))

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 5)

    def report(self) -> dict[str, Any]:
        by_kind: dict[str, Counter] = {}
        for action in self.actions:
            by_kind.setdefault(action.kind, Counter())[action.outcome] += 1
        outcomes = Counter(a.outcome for a in self.actions)
        durations = sorted(a.ended - a.started for a in self.actions if a.outcome == "done" and a.ended)
        return {
            "done": outcomes["done"],
            "refused": outcomes["refused"],  # the run ended while the server still answered 503
            "failed": outcomes["failed"],  # another error status, a timeout or a lost connection
            "unfinished": outcomes["unfinished"],  # still waiting for an answer when the run ended
            "by_kind": {kind: dict(counts) for kind, counts in sorted(by_kind.items())},
            "responses_by_status": {str(k): v for k, v in sorted(self.responses.items(), key=lambda kv: str(kv[0]))},
            "responses_503": self.responses[503],
            "nodes_added": self.work.nodes_added,
            "done_seconds_p50": round(float(np.percentile(durations, 50)), 3) if durations else None,
            "done_seconds_max": round(durations[-1], 3) if durations else None,
            "not_started": len(self.work.plan),
            "failure_samples": sorted({f"{a.kind} {a.detail}: {a.reason}" for a in self.actions if a.outcome == "failed"})[:5],
        }

    def log(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": a.kind,
                "detail": a.detail,
                "outcome": a.outcome,
                "start_s": round(a.started - self.t0, 2),
                "end_s": round(a.ended - self.t0, 2) if a.ended else None,
            }  # fmt: skip
            for a in self.actions
        ]


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), between 0.05 and 30; 1 s without one."""
    if not value:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            seconds = 1.0
    return min(max(seconds, 0.05), 30.0)


# -- gaps -------------------------------------------------------------------------------------------


def gap_report(arrivals: list[float], t0: float, t_end: float, tick_hz: float) -> dict[str, Any]:
    """Gaps between consecutive snapshots that ended inside the run, and the one still open when it ended."""
    times = np.array(arrivals)
    first = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)  # the last snapshot at or before the start
    inside = times[first : int(np.searchsorted(times, t_end, side="right"))]
    gaps = np.diff(inside) if inside.size > 1 else np.array([])
    open_gap = t_end - float(inside[-1]) if inside.size else t_end - t0
    ordered = np.argsort(gaps)[::-1][:5]
    received = int(np.count_nonzero((times > t0) & (times <= t_end)))

    def ms(value: float) -> float:
        return round(1000 * float(value), 1)

    return {
        "snapshots_received": received,
        "snapshots_expected": int((t_end - t0) * tick_hz),
        "gaps": int(gaps.size),
        "gap_ms_p50": ms(np.percentile(gaps, 50)) if gaps.size else None,
        "gap_ms_p99": ms(np.percentile(gaps, 99)) if gaps.size else None,
        "gap_ms_max": ms(gaps.max()) if gaps.size else None,  # of the gaps that ended within the run
        "open_gap_ms_at_end": ms(open_gap),  # since the last snapshot, when the run ended
        "open_gap_is_longest": bool(open_gap > (gaps.max() if gaps.size else 0.0)),
        "gap_ms_max_including_open": ms(max(open_gap, gaps.max() if gaps.size else 0.0)),
        "gaps_over_250ms": int(np.count_nonzero(gaps > 0.25)),
        "gaps_over_1s": int(np.count_nonzero(gaps > 1.0)),
        "seconds_in_gaps_over_250ms": round(float(gaps[gaps > 0.25].sum()) + (open_gap if open_gap > 0.25 else 0.0), 2),
        "longest_gaps": [{"start_s": round(float(inside[i]) - t0, 2), "ms": ms(gaps[i])} for i in ordered],
    }


# -- the run ----------------------------------------------------------------------------------------


@dataclass
class Children:
    server: subprocess.Popen | None = None
    bots: subprocess.Popen | None = None

    def stop(self, process: subprocess.Popen | None, grace: float) -> None:
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(10)

    def stop_all(self) -> None:
        self.stop(self.bots, 2)
        self.stop(self.server, 2)


class BotLines:
    """The bot process's stdout, line by line, into this process's loop."""

    def __init__(self, process: subprocess.Popen, loop: asyncio.AbstractEventLoop):
        self.queue: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed first (the run was interrupted)
                for line in process.stdout:
                    loop.call_soon_threadsafe(self.queue.put_nowait, line)
                loop.call_soon_threadsafe(self.queue.put_nowait, "")

        threading.Thread(target=pump, daemon=True).start()

    async def next(self, timeout: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                line = await self.queue.get()
                if not line:
                    raise RuntimeError("the bot process exited")
                with contextlib.suppress(ValueError):
                    return json.loads(line)


async def wait_ready(session: aiohttp.ClientSession, base: str, process: subprocess.Popen, timeout: float, log_file: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log_file.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
            async with session.get(f"{base}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"the server was not ready within {timeout:.0f} s")


async def run(args: argparse.Namespace, children: Children, work_dir: Path) -> dict[str, Any]:
    paths = sorted(PROFILES.glob(args.upload_glob))[: args.uploads] if args.uploads else []
    if args.uploads and not paths:
        raise RuntimeError(f"no GLBs under {PROFILES}: run `thirdspace build-client` (or `npm --prefix web_client ci`)")
    try:  # read now: node_modules may be reinstalled (npm ci) while the run goes on
        glbs = await asyncio.to_thread(lambda: [(path, path.read_bytes()) for path in paths])
    except OSError as err:
        raise RuntimeError(f"cannot read the GLBs under {PROFILES} (is npm ci running?): {err}") from None
    data_dir, port = work_dir / "data", free_port()
    base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    started = time.monotonic()

    command = [sys.executable, "-m", "thirdspace", "user", "add", "loop-lag curator", "--role", "curator", "--data-dir", str(data_dir)]
    added = subprocess.run(command, capture_output=True, text=True, timeout=120, env=child_env(), cwd=SERVER_ROOT)
    if added.returncode != 0:
        raise RuntimeError(f"thirdspace user add failed: {added.stderr[-2000:]}")
    token = added.stdout.strip().splitlines()[-1].strip()

    log_file = work_dir / "server.log"
    serve = [
        sys.executable,
        "-m",
        "thirdspace",
        "serve",
        "--no-build",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    with open(log_file, "ab") as out:
        children.server = subprocess.Popen(
            serve, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=SERVER_ROOT,
            env=child_env(THIRDSPACE_LOG_LEVEL="WARNING"), start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
    log(f"server pid {children.server.pid} on {base}, data in {data_dir}")
    big = asyncio.create_task(asyncio.to_thread(terrain_glb, args.big_mb)) if args.big_mb > 0 else None

    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_ready(session, base, children.server, args.start_timeout, log_file)
        big_glb, big_shape = await big if big else (b"", {})
        if big:
            log(f"large mesh: {len(big_glb):,} bytes, {big_shape['vertices']:,} vertices, {big_shape['triangles']:,} triangles")

        watcher = WatcherProcess(ws_url, args.scene)
        await watcher.start(45.0)
        log(f"watcher in room {watcher.room}; starting {args.bots} bots")

        bots_command = [
            sys.executable, str(Path(__file__).resolve()), "--bots-child", "--server-root", str(SERVER_ROOT),
            "--url", ws_url, "--scene", args.scene, "--room", watcher.room, "--bots", str(args.bots), "--hz", str(args.hz),
            "--limit", str(args.seconds + args.warmup + args.grace + 120), "--join-timeout", str(args.join_timeout),
        ]  # fmt: skip
        children.bots = subprocess.Popen(
            bots_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=SERVER_ROOT,
            env=child_env(), start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        bot_lines = BotLines(children.bots, asyncio.get_running_loop())
        ready = await bot_lines.next(args.join_timeout + 15)
        log(f"{ready['ready']} bots joined, rooms {ready['rooms']}")
        if ready["ready"] == 0 and args.bots:
            raise RuntimeError(f"no bot could join: {ready['errors']}")

        own_lag: list[float] = []
        lag_task = asyncio.create_task(own_loop_lag(own_lag))
        await asyncio.sleep(args.warmup)
        before = await scrape(session, base, 10.0)
        t0 = time.monotonic()
        load_at_start = round(os.getloadavg()[0], 2)
        log(f"run: {args.seconds:g} s of curator work ({len(glbs)} uploads, {args.recipes} recipes, large mesh at {args.big_at:g})")

        curators = Curators(session, base, token, args.scene, args, t0)
        curators.build_plan(glbs)
        lanes = [asyncio.create_task(curators.worker()) for _ in range(args.concurrency)]
        lanes.append(asyncio.create_task(curators.history_lane()))
        if big:
            lanes.append(asyncio.create_task(curators.big_lane(big_glb)))
        reads = [before]  # every read of /metrics that was answered, during the run and just after it
        wake = asyncio.Event()

        async def read_metrics() -> None:
            # One read always in flight: a server whose loop is blocked answers as soon as it gets a moment.
            while True:
                try:
                    reads.append(await scrape(session, base, max(1.0, curators.deadline + args.grace - time.monotonic())))
                except (aiohttp.ClientError, TimeoutError, OSError):
                    await asyncio.sleep(0.5)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), args.scrape_every)

        reader = asyncio.create_task(read_metrics())
        await asyncio.sleep(max(0.0, curators.deadline - time.monotonic()))
        t_end = time.monotonic()
        log("run over: stopping the curators, reading /metrics")
        wake.set()
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        await curators.stop()
        watched = await watcher.stop()
        arrivals = watched["arrivals"]
        with contextlib.suppress(TimeoutError):  # the after read: the first answer after the end of the run
            async with asyncio.timeout(args.grace):
                while reads[-1]["at"] < t_end:
                    await asyncio.sleep(0.1)
        reader.cancel()
        latest = reads[-1]
        after_final = latest["at"] >= t_end
        if not after_final:
            log(
                f"/metrics did not answer within {args.grace:g} s of the end: using the last answer, {latest['at'] - t0:.1f} s into the run"
            )
        server_alive = after_final
        lag_task.cancel()

        bots_done: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            children.bots.stdin.write("stop\n")
            children.bots.stdin.flush()
            bots_done = (await bot_lines.next(10.0)).get("done", {})
        await asyncio.to_thread(children.stop, children.bots, 5)
        await asyncio.to_thread(children.stop, children.server, 10 if server_alive else 2)

    rss = latest["plain"].get("process_resident_memory_bytes")
    cpu = latest["plain"].get("process_cpu_seconds_total", 0.0) - before["plain"].get("process_cpu_seconds_total", 0.0)
    tick_hz = 20.0 if not watcher.welcome else float(watcher.welcome.get("tick_hz", 20.0))
    return {
        "command": " ".join(["python", "benchmarks/loop_lag.py", *sys.argv[1:]]),
        "server_source": source_version(SERVER_ROOT),
        "scene": args.scene,
        "room": watcher.room,
        "bots": args.bots,
        "bots_joined": ready["ready"],
        "bots_at_end": bots_done,
        "seconds": round(t_end - t0, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
        "uploads_planned": len(glbs),
        "uploads_bytes": sum(len(data) for _, data in glbs),
        "uploads_package": package_version(),
        "large_mesh": {"bytes": len(big_glb), **big_shape} if big else None,
        "tick_lateness": {
            **lateness_report(before, latest, tick_hz),
            "after_read_at_s": round(latest["at"] - t0, 1),
            "after_read_is_final": after_final,  # False: the server did not answer after the run; the last read in it is used
        },
        "snapshots": {
            **gap_report(arrivals, t0, t_end, tick_hz),
            "watcher_drops": len(watched["drops"]),
            "watcher_reconnects": watched["reconnects"],
            # the watcher's own process: its arrival times are as good as its loop's wake-ups
            "watcher_loop_lag_ms_max": round(1000 * watched["lag_max_s"], 1) if watched["lag_max_s"] is not None else None,
        },
        "curator_actions": curators.report() | ({"log": curators.log()} if args.actions_log else {}),
        # the server process's own CPU (process_cpu_seconds_total): processes it starts (asset workers) are not in it
        "server_cpu_percent": round(100 * cpu / max(latest["at"] - before["at"], 1e-9), 1),
        "server_rss_mb": round(rss / 2**20, 1) if rss else None,
        "load_average_1min": [load_at_start, round(os.getloadavg()[0], 2)],  # the machine's, at the start and at the end
        # this process's loop (the curators', not the watcher's)
        "own_loop_lag_ms_max": round(1000 * max(own_lag), 1) if own_lag else None,
    }


def summary(report: dict[str, Any]) -> str:
    def sec(value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"

    def quantile(q: dict[str, Any] | None) -> str:
        if not q:
            return "n/a"
        if q.get("seconds") is None:
            return f"> {sec(q['more_than_s'])} (past the last bucket)"
        low, high = q["bucket_s"]
        return f"{sec(q['seconds'])} (bucket {sec(low)}–{sec(high)})"

    tick, snap, act = report["tick_lateness"], report["snapshots"], report["curator_actions"]
    top = tick.get("max_bucket_s")
    top_text = "n/a" if not top else (f"> {sec(top[0])}" if top[1] is None else f"{sec(top[0])}–{sec(top[1])}")
    after = "" if tick["after_read_is_final"] else f" (the server did not answer after the run: read at {tick['after_read_at_s']} s)"
    gap = lambda v: "n/a" if v is None else sec(v / 1000)  # noqa: E731
    opened = f"; a gap of {gap(snap['open_gap_ms_at_end'])} was still open when the run ended" if snap["open_gap_ms_at_end"] > 250 else ""
    lines = [
        f"Loop lag under curator work: {report['bots_joined']} bots + 1 watcher in {report['room']}, {report['seconds']} s "
        f"(wall time {report['wall_seconds']} s)",
        f"  tick lateness, estimated from the histogram's buckets{after}: p50 {quantile(tick.get('p50'))}, "
        f"p99 {quantile(tick.get('p99'))}; highest bucket reached {top_text}; {tick.get('ticks_observed', 0)} ticks observed, "
        f"{tick.get('ticks_over_1s', 0)} over 1 s; {tick.get('ticks_scheduled', 0)} were scheduled",
        f"  snapshot gaps at the watcher, measured: p50 {gap(snap['gap_ms_p50'])}, p99 {gap(snap['gap_ms_p99'])}, "
        f"max {gap(snap['gap_ms_max'])}{opened}",
        f"    {snap['snapshots_received']} snapshots of {snap['snapshots_expected']} expected; {snap['gaps_over_1s']} gaps over 1 s, "
        f"{snap['seconds_in_gaps_over_250ms']} s in gaps over 250 ms; watcher drops {snap['watcher_drops']}",
        f"  curator actions: {act['done']} done, {act['refused']} refused (503 until the end), {act['failed']} failed, "
        f"{act['unfinished']} unfinished at the end, {act['not_started']} not started; {act['responses_503']} answers were 503",
        "    " + ", ".join(f"{kind} {dict(counts)}" for kind, counts in act["by_kind"].items()),
        f"  server process CPU {report['server_cpu_percent']} % of a core (its workers not counted); "
        f"the watcher's own loop lagged at most {snap['watcher_loop_lag_ms_max']} ms, the curators' {report['own_loop_lag_ms_max']} ms; "
        f"load average {report['load_average_1min'][0]} at the start, {report['load_average_1min'][1]} at the end",
    ]
    if act["failure_samples"]:
        lines.append("  failures: " + "; ".join(act["failure_samples"]))
    return "\n".join(lines)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long curators work (default 60)")
    parser.add_argument("--bots", type=int, default=100, help="walking bot visitors in the room (default 100)")
    parser.add_argument("--scene", default="market")
    parser.add_argument("--hz", type=float, default=20.0, help="the bots' pose rate")
    parser.add_argument("--uploads", type=int, default=82, help="how many of the @webxr-input-profiles GLBs to upload (default all 82)")
    parser.add_argument("--upload-glob", default="*/*.glb", help="which GLBs under the package's dist/profiles (default */*.glb)")
    parser.add_argument("--recipes", type=int, default=12, help="recipe assets to generate (default 12)")
    parser.add_argument("--big-mb", type=float, default=17.0, help="size of the large trimesh terrain in MB; 0: none (default 17)")
    parser.add_argument("--big-at", type=float, default=0.25, help="when the large upload starts, as a share of --seconds (default 0.25)")
    parser.add_argument("--concurrency", type=int, default=4, help="uploads, generations and draft writes in flight at once (default 4)")
    parser.add_argument("--publish-every", type=int, default=5, help="publish after this many added nodes (default 5)")
    parser.add_argument("--history-every", type=float, default=2.0, help="seconds between two pages of history (default 2)")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="the longest one HTTP request may take (default 60 s)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of walking before the run starts (default 3)")
    parser.add_argument("--grace", type=float, default=15.0, help="how long to wait for /metrics after the run (default 15 s)")
    parser.add_argument("--scrape-every", type=float, default=5.0, help="read /metrics this often during the run (default 5 s)")
    parser.add_argument("--start-timeout", type=float, default=180.0, help="the longest the server may take to start")
    parser.add_argument("--join-timeout", type=float, default=120.0, help="the longest the bots may take to join")
    parser.add_argument(
        "--server-root",
        type=Path,
        default=ROOT,
        help="run the server, bots and client of this source tree (e.g. a `git archive` of a commit); default: this checkout",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data directory and the server log")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--actions-log", action="store_true", help="with --json: every curator action with its start, end and outcome")
    parser.add_argument("--bots-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--room", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global SERVER_ROOT
    SERVER_ROOT = args.server_root.resolve()
    sys.path.insert(0, str(SERVER_ROOT / "server"))  # this process's few imports (the pose encoder) from the same tree
    if args.bots_child:
        return bots_child(args)

    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the run as Ctrl-C does: the children are stopped too
    work_dir = Path(tempfile.mkdtemp(prefix="loop-lag-"))
    children = Children()
    try:
        report = asyncio.run(run(args, children, work_dir))
    except KeyboardInterrupt:
        log("interrupted: stopping the server and the bots")
        return 130
    except (RuntimeError, TimeoutError, OSError, aiohttp.ClientError, websockets.WebSocketException) as err:
        log(f"failed: {type(err).__name__}: {err}")
        return 2
    finally:
        children.stop_all()
        if args.keep_data:
            log(f"data and server log kept in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    print(json.dumps(report, indent=2) if args.json else summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
