"""``thirdspace loadtest``: bot visitors against a running server.

Bots join a scene, walk at a person's speed inside its bounds and send their
pose at ``hz``, acknowledging snapshots as a real client does (most bots count
snapshots without decoding them, to leave the CPU to the server).  Latency is
measured by probe pairs in each bot process: a *mover* whose every pose lands
on a distinct spot, and an *observer* one metre beside it that decodes its
snapshots; the time from the mover sending a pose to the observer decoding it
is one sample.  Server CPU and memory come from the server's ``/metrics``.

With ``lean`` the walking bots are :class:`LeanBot`: a WebSocket client on a raw asyncio protocol
with its own minimal framing driven by one task per process that sends for groups of them in turn
(no task or timer per bot), so that one core drives 1,000 of them with room to spare; they
do not come back after a drop.

With ``ack_delay`` above 1 every bot acknowledges late, as on a slow path.  The
observers also check what they show of the walking bots of their own process,
near and far: each shown head must be one the walker really sent (the largest
distance to the nearest sent one is the decode error) and never one sent before
a head already shown (a step back along its path).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import math
import multiprocessing
import os
import random
import resource
import struct
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import numpy as np
import orjson
import websockets

from thirdspace.client import IDENTITY, MAX_REDIRECTS, PROTOCOL_VERSION, ThirdSpaceClient
from thirdspace.protocol.constants import FLAG_ACK, FLAG_LEFT, FLAG_RIGHT, FRAME_POSE, POSE_DTYPE
from thirdspace.scenes.walk import WalkGrid

PROBES_PER_PROCESS = 4
CONNECT_CONCURRENCY = 32
STEP_M = 1 / 64  # 8 position quanta: every mover pose is a distinct quantised spot
TRAIL = 256  # the heads a walker remembers having sent, for the observers' checks
SPAWNED_M = 0.01  # a shown head farther than this from every head sent is the walker's spawn point
ACK_FIELDS = struct.Struct("<BH")  # a pose frame's flags and ack (bytes 1-3)
SATURATED_PERCENT = 90  # a bot process using more of its core than this is falling behind


class Trail:
    """The heads one walker sent, in order: frames 0 to ``sent`` - 1 of its planned walk (the last TRAIL of them count)."""

    def __init__(self, frames: np.ndarray) -> None:
        self.heads = frames["parts"][:, 0, :3].astype(np.float64)
        self.sent = 0

    def add(self, k: int) -> None:
        self.sent = k + 1

    def nearest(self, head: np.ndarray) -> tuple[float, int]:
        """(distance to the nearest head sent, its number in the walk)."""
        first = max(0, self.sent - TRAIL)
        distance = np.linalg.norm(self.heads[first : self.sent] - head, axis=1)
        k = int(np.argmin(distance))
        return float(distance[k]), first + k


class Checks:
    """What one bot process's observers saw of its walkers."""

    def __init__(self) -> None:
        self.trails: dict[int, Trail] = {}  # walker's visitor id -> its trail
        self.samples = 0
        self.error_m = 0.0
        self.backward = 0
        self.last: dict[tuple[int, int], int] = {}  # (observer, walker) -> number of the newest head shown

    def observe(self, client: ThirdSpaceClient) -> None:
        for vid, pose in client.poses.items():
            trail = self.trails.get(vid)
            if trail is None or not trail.sent:
                continue
            error, number = trail.nearest(pose[0, :3].astype(np.float64))
            key = (client.id, vid)
            if key not in self.last and error > SPAWNED_M:
                continue  # still at its spawn point: the server has not taken a pose of its walk yet
            self.samples += 1
            self.error_m = max(self.error_m, error)
            if number < self.last.get(key, -1):
                self.backward += 1
            else:
                self.last[key] = number


class LoadTestError(RuntimeError):
    pass


def _http_base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise LoadTestError(f"--url must be ws://HOST:PORT/ws, not {url!r}")
    return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"


def scrape(base: str) -> dict[str, float]:
    """The samples of the server's /metrics, by name (with its labels, as written: ``name{label="value"}``)."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError as err:
        raise LoadTestError(f"cannot read {base}/metrics: {err}") from None
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


class Mover:
    """Walks a boustrophedon of distinct quantised spots; remembers when each was sent."""

    def __init__(self, start_x: float, x_max: float, z: float, z_max: float):
        self.start_x, self.x_max, self.z, self.z_max = start_x, x_max, z, z_max
        self.x = start_x
        self.direction = 1
        self.sent: dict[tuple[int, int], float] = {}

    def next(self) -> tuple[float, float]:
        self.x += self.direction * STEP_M
        if not self.start_x <= self.x <= self.x_max:
            self.direction = -self.direction
            self.x += 2 * self.direction * STEP_M
            self.z = min(self.z + 0.25, self.z_max)
        return self.x, self.z

    def key(self, x: float, z: float) -> tuple[int, int]:
        return round(x / STEP_M), round(z * 4)


def _walk_grid(url: str, scene: str) -> WalkGrid | None:
    """The scene's walk grid (bots walk only where visitors may), or None if the server has none."""
    try:
        with urllib.request.urlopen(f"{_http_base(url)}/api/scenes/{scene}/walk", timeout=10) as response:
            return WalkGrid.from_bytes(response.read())
    except (OSError, ValueError):
        return None


def _stands(grid: WalkGrid | None, x: float, z: float) -> bool:
    """Whether a bot may stand at (x, z): on level walkable floor (bots keep one head height), a body's width around."""
    if grid is None:
        return True
    floors = [grid.floor_at(x + dx, z + dz) for dx, dz in ((0, 0), (0.3, 0), (-0.3, 0), (0, 0.3), (0, -0.3))]
    return all(f is not None and abs(f) < 0.2 for f in floors)


def _plan_walk(welcome: dict, rng: random.Random, hz: float, periods: int, grid: WalkGrid | None) -> tuple[np.ndarray, list[int]]:
    """A bot's whole walk, encoded before the run: its pose frames (POSE_DTYPE, head and both hands tracked) and, for
    each send period, the frame sent then (-1: none, that period something solid was in the way)."""
    bounds = welcome["bounds"]
    lo, hi = [float(v) + 0.5 for v in bounds["min"]], [float(v) - 0.5 for v in bounds["max"]]
    head_y = min(1.6, hi[1])
    spawn = welcome["spawn"]["position"]
    pos = np.array([spawn[0], spawn[2]], dtype=float)
    for _ in range(200):  # a random start on walkable floor (the spawn point if none is found)
        start = np.array([rng.uniform(lo[0], hi[0]), rng.uniform(lo[2], hi[2])])
        if _stands(grid, *start):
            pos = start
            break
    x, z = float(pos[0]), float(pos[1])
    tx, tz = x, z
    step_m = 1.2 / hz
    parts: list[tuple] = []
    plan: list[int] = []
    for _ in range(periods):
        if math.hypot(tx - x, tz - z) < 0.1:
            tx, tz = rng.uniform(lo[0], hi[0]), rng.uniform(lo[2], hi[2])
        dx, dz = tx - x, tz - z
        distance = math.hypot(dx, dz)
        reach = min(step_m, distance) / max(distance, 1e-9)
        ax, az = x + dx * reach, z + dz * reach
        if not _stands(grid, ax, az):  # something solid in the way: walk somewhere else
            tx, tz = x, z
            plan.append(-1)
            continue
        x, z = ax, az
        yaw = math.atan2(-dx, -dz)
        rotation = (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))
        parts.append((
            (x, head_y, z, *rotation), (x - 0.2, head_y - 0.5, z, *IDENTITY), (x + 0.2, head_y - 0.5, z, *IDENTITY),
        ))  # fmt: skip
        plan.append(len(parts) - 1)
    frames = np.zeros(len(parts), dtype=POSE_DTYPE)
    frames["kind"] = FRAME_POSE
    frames["flags"] = FLAG_LEFT | FLAG_RIGHT
    if parts:
        frames["parts"] = np.array(parts, dtype=np.float32)
    return frames, plan


class LeanBot(asyncio.Protocol):
    """A walking bot on a raw socket: the opening handshake, then frames parsed by hand (RFC 6455 section 5.2).

    Snapshots are counted and acknowledged from their sequence number (bytes 2-3), never decoded; a ping gets its
    pong; text frames are read only for errors; a close frame ends it.  What it sends is prepared once: every frame is
    masked with the all-zero key, which a server unmasks like any other (this is a load generator on a network one
    controls, not a browser: RFC 6455 wants an unpredictable key to protect proxies from crafted payloads)."""

    HEADER = 6  # a client frame of under 126 bytes: two bytes, then the four-byte mask

    def __init__(self, ack_delay: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.welcome_waiter: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.welcome: dict = {}
        self.id = -1
        self.ack: int | None = None
        self._received: collections.deque[int] = collections.deque(maxlen=max(1, ack_delay))
        self.bytes_in = 0
        self.snapshots = 0
        self.errors: list[dict] = []
        self.close_code: int | None = None
        self.closed = False
        self.resumes = 0  # a lean bot does not come back: a drop is an error
        self.voice_peers: dict = {}

    @classmethod
    async def connect(cls, url: str, scene: str, name: str, language: str, ack_delay: int, timeout: float = 10.0, **hello) -> LeanBot:
        message = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": scene, "name": name, "language": language, "colour": "#4a90d9"}
        message |= hello
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme != "ws":
                raise LoadTestError(f"lean bots speak ws:// only, not {url!r}")
            loop = asyncio.get_running_loop()
            _, bot = await asyncio.wait_for(loop.create_connection(lambda: cls(ack_delay), parts.hostname, parts.port or 80), timeout)
            key = base64.b64encode(os.urandom(16)).decode()
            bot.transport.write(
                f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            try:
                await asyncio.wait_for(bot.opened, timeout)
                bot.send_text(orjson.dumps(message))
                reply = await asyncio.wait_for(bot.welcome_waiter, timeout)
            except BaseException:
                bot.abort()
                raise
            if reply.get("type") == "welcome" and "redirect" in reply:
                bot.abort()
                url, message = reply["redirect"], {**message, "room": reply["room"]}
                continue
            if reply.get("type") != "welcome":
                bot.abort()
                raise LoadTestError(f"not welcomed: {reply}")
            bot.welcome, bot.id = reply, reply["id"]
            return bot
        raise LoadTestError(f"more than {MAX_REDIRECTS} redirects")

    # -- sending ----------------------------------------------------------------------------------------------------

    @classmethod
    def frames(cls, payloads: np.ndarray) -> tuple[bytearray, int]:
        """Binary frames for the rows of a structured array, back to back; returns them and one frame's length."""
        size = payloads.dtype.itemsize
        assert size < 126
        out = np.zeros((len(payloads), cls.HEADER + size), dtype=np.uint8)
        out[:, 0] = 0x80 | 0x2  # final, binary
        out[:, 1] = 0x80 | size  # masked, its length
        out[:, cls.HEADER :] = payloads.view(np.uint8).reshape(len(payloads), size)
        return bytearray(out.tobytes()), cls.HEADER + size

    def _send(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        self.write(header + b"\0\0\0\0" + payload)

    def send_text(self, data: bytes) -> None:
        self._send(0x1, data)

    def write(self, frame: bytes | memoryview) -> None:
        if self.closed or self.transport is None:
            raise ConnectionError("the bot's connection is closed")
        self.transport.write(frame)

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    async def close(self) -> None:
        if not self.closed:
            self._send(0x8, (1000).to_bytes(2, "big"))
            self.closed = True
            self.transport.close()

    # -- receiving --------------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for waiter in (self.opened, self.welcome_waiter):
            if not waiter.done():
                waiter.set_exception(ConnectionError(f"connection closed ({self.close_code})"))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status + b" ":
                self.opened.set_exception(ConnectionError(f"no WebSocket upgrade: {status.decode(errors='replace')}"))
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        pos, end = 0, len(buffer)
        while end - pos >= 2:
            opcode, n = buffer[pos] & 0x0F, buffer[pos + 1] & 0x7F
            start = pos + 2
            if n == 126:
                if end - pos < 4:
                    break
                n, start = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), pos + 4
            elif n == 127:
                if end - pos < 10:
                    break
                n, start = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), pos + 10
            if end - start < n:
                break
            pos = start + n
            self.bytes_in += n
            if opcode == 0x2:
                self.snapshots += 1
                self._received.append(buffer[start + 2] | buffer[start + 3] << 8)
                if len(self._received) == self._received.maxlen:
                    self.ack = self._received[0]
            elif opcode == 0x1:
                message = orjson.loads(bytes(buffer[start:pos]))
                if not self.welcome_waiter.done():
                    self.welcome_waiter.set_result(message)
                elif message.get("type") == "error":
                    self.errors.append(message)
            elif opcode == 0x9:
                self._send(0xA, bytes(buffer[start:pos]))
            elif opcode == 0x8:
                self.close_code = int.from_bytes(buffer[start : start + 2], "big") if n >= 2 else 1005
                self.closed = True
                self.transport.close()
                break
        del buffer[:pos]


LEAN_GROUPS = 10  # lean walkers send in this many groups spread over each period, as people's clients are not in step


async def _lean_walks(walkers: list[tuple[LeanBot, Trail, np.ndarray, list[int]]], hz: float, until: float) -> None:
    """``_bot_walk`` for all the lean bots of a process in one task: each group's planned frames, already framed, are
    written with only the ack patched in, one group every tenth of a period (no task or timer per bot)."""
    prepared = []
    for bot, trail, frames, plan in walkers:
        buffer, size = LeanBot.frames(frames)
        prepared.append((bot, trail, buffer, memoryview(buffer), size, plan))
    groups = [prepared[g::LEAN_GROUPS] for g in range(LEAN_GROUPS)]
    flags = FLAG_LEFT | FLAG_RIGHT
    step = 1 / hz / LEAN_GROUPS
    next_send = time.monotonic()
    period = 0
    while time.monotonic() < until:
        for group in groups:
            for bot, trail, buffer, view, size, plan in group:
                k = plan[period] if period < len(plan) else -1
                if k < 0 or bot.closed:
                    continue
                offset = k * size
                if bot.ack is not None:
                    ACK_FIELDS.pack_into(buffer, offset + LeanBot.HEADER + 1, flags | FLAG_ACK, bot.ack & 0xFFFF)
                bot.write(view[offset : offset + size])
                trail.add(k)
            next_send += step
            await asyncio.sleep(max(0.0, next_send - time.monotonic()))
        period += 1


async def _bot_walk(client: ThirdSpaceClient, hz: float, until: float, trail: Trail, frames: np.ndarray, plan: list[int]) -> None:
    """Send the planned frames at ``hz``, patching in only the ack of the newest snapshot (counted, not decoded)."""
    buffer = bytearray(frames.tobytes())
    view = memoryview(buffer)
    size = POSE_DTYPE.itemsize
    flags = FLAG_LEFT | FLAG_RIGHT
    period = 1 / hz
    next_send = time.monotonic()
    for k in plan:
        if time.monotonic() >= until or client.closed:
            break
        if k >= 0:
            offset = k * size
            if client.ack is not None:
                ACK_FIELDS.pack_into(buffer, offset + 1, flags | FLAG_ACK, client.ack & 0xFFFF)
            try:
                await client.ws.send(view[offset : offset + size])
                trail.add(k)
            except websockets.ConnectionClosed:
                if not client.reconnect:
                    return  # reported with the other closed connections
                # the client is reconnecting by itself; walk on once it is back (or stop if it gives up)
        next_send += period
        await asyncio.sleep(max(0.0, next_send - time.monotonic()))


FAKE_SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
FAKE_CANDIDATES = [
    {"candidate": f"candidate:{n} 1 udp 2122260223 192.0.2.{n} 5000{n} typ host", "sdpMid": "0", "sdpMLineIndex": 0} for n in range(3)
]


async def _bot_signal(client: ThirdSpaceClient, until: float) -> None:
    """Voice signalling as a browser does it, without media: an offer and three candidates to each new peer it should
    call, an answer and three candidates to each offer; four times a second."""
    offered: set[int] = set()
    read = 0
    while time.monotonic() < until and not client.closed:
        try:
            for peer, entry in list(client.voice_peers.items()):
                if entry.get("offer") and peer not in offered:
                    offered.add(peer)
                    await client.send_signal(peer, "offer", sdp=FAKE_SDP)
                    for candidate in FAKE_CANDIDATES:
                        await client.send_signal(peer, "candidate", candidate=candidate)
            offered &= set(client.voice_peers)
            for message in client.signals[read:]:
                if message["kind"] == "offer" and message["from"] in client.voice_peers:
                    await client.send_signal(message["from"], "answer", sdp=FAKE_SDP)
                    for candidate in FAKE_CANDIDATES:
                        await client.send_signal(message["from"], "candidate", candidate=candidate)
            read = len(client.signals)
        except websockets.ConnectionClosed:
            if not client.reconnect:
                return
        await asyncio.sleep(0.25)


async def _probe(
    mover: ThirdSpaceClient, observer: ThirdSpaceClient, hz: float, until: float, latencies: list[float], checks: Checks
) -> None:
    bounds = mover.welcome["bounds"]
    lo, hi = np.array(bounds["min"]) + 0.5, np.array(bounds["max"]) - 1.5
    head_y = min(1.6, hi[1] + 1.5)
    path = Mover(round(lo[0] / STEP_M) * STEP_M, hi[0], round(lo[2] * 4) / 4, hi[2])
    seen: set[tuple[int, int]] = set()

    def on_snapshot(client: ThirdSpaceClient) -> None:
        checks.observe(client)
        pose = client.poses.get(mover.id)
        if pose is None:
            return
        key = path.key(float(pose[0, 0]), float(pose[0, 2]))
        if key in path.sent and key not in seen:
            seen.add(key)
            latencies.append((time.monotonic() - path.sent[key]) * 1000)

    observer.on_snapshot = on_snapshot
    period = 1 / hz
    next_send = time.monotonic()
    while time.monotonic() < until and not mover.closed and not observer.closed:
        x, z = path.next()
        path.sent[path.key(x, z)] = time.monotonic()
        try:
            await mover.send_pose((x, head_y, z))
            await observer.send_pose((x, head_y, z + 1.0))
        except websockets.ConnectionClosed:
            if not mover.reconnect:
                return  # reported with the other closed connections
        next_send += period
        await asyncio.sleep(max(0.0, next_send - time.monotonic()))


async def _worker(
    urls: list[str],
    scene: str,
    count: int,
    stalled: int,
    hz: float,
    seconds: float,
    ack_delay: int,
    voice: bool,
    lean: bool,
    index: int,
    barriers,
) -> dict:
    start_barrier, end_barrier = barriers
    rng = random.Random(index)
    errors: list[str] = []
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    probes = min(PROBES_PER_PROCESS, count // 2)

    async def connect(i: int, **hello: str) -> ThirdSpaceClient | LeanBot | None:
        async with semaphore:
            try:
                decode = i % 2 == 1 and i < 2 * probes  # observers decode; everyone else only counts
                url = urls[(index + i) % len(urls)]  # bots enter by every node given; the cluster places them
                language = rng.choice(["en", "fr", "sw", "zh", "ar"])
                if lean and 2 * probes <= i < count:  # a walker
                    return await LeanBot.connect(url, scene, f"bot-{index}-{i}", language, ack_delay, **hello)
                # bots come back after a drop or a move, as the browser does (stalled ones do not)
                return await ThirdSpaceClient.connect(
                    url, scene, f"bot-{index}-{i}", language, decode=decode, reconnect=i < count, ack_delay=ack_delay, **hello
                )
            except Exception as err:  # noqa: BLE001 - every failure is a load-test error to report
                errors.append(f"connect: {type(err).__name__}: {err}")
                return None

    # Probe pairs first, each observer asking for its mover's room (a scene may have many rooms).
    clients: list = []  # ThirdSpaceClient (probes, and every bot unless lean) or LeanBot, None if it could not join
    for i in range(0, 2 * probes, 2):
        mover = await connect(i)
        clients += [mover, await connect(i + 1, room=mover.room) if mover else None]
    clients += await asyncio.gather(*(connect(i) for i in range(2 * probes, count)))
    # Slow consumers: they join, then stop reading their socket for the whole run (the server must not care).
    sluggards = [c for c in await asyncio.gather(*(connect(count + i) for i in range(stalled))) if c is not None]
    if voice:  # every bot turns voice on; every other one opens its microphone
        await asyncio.gather(*(c.send_voice(listen=True, speak=i % 2 == 0) for i, c in enumerate(clients) if c is not None))
    # Every walker's frames are encoded now, before the run, so that sending one costs only patching its ack.
    grid = await asyncio.to_thread(_walk_grid, urls[index % len(urls)], scene)
    periods = math.ceil(seconds * hz) + 2
    walks = {}
    for i in range(2 * probes, count):
        if clients[i] is not None:
            walks[i] = _plan_walk(clients[i].welcome, rng, hz, periods, grid)
            await asyncio.sleep(0)  # the bots read their snapshots meanwhile: the server drops a client that does not

    await asyncio.get_running_loop().run_in_executor(None, start_barrier.wait)
    for client in sluggards:
        client._reader.cancel()
        client.ws.transport.pause_reading()
    for client in clients:
        if client is not None:
            client.bytes_in = 0
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    until = started + seconds
    latencies: list[float] = []
    checks = Checks()
    tasks = []
    for i in range(0, 2 * probes, 2):
        if clients[i] is not None and clients[i + 1] is not None:
            tasks.append(_probe(clients[i], clients[i + 1], hz, until, latencies, checks))
    lean_walkers = []
    for i, walk in walks.items():
        trail = checks.trails[clients[i].id] = Trail(walk[0])
        if isinstance(clients[i], LeanBot):
            lean_walkers.append((clients[i], trail, *walk))
        else:
            tasks.append(_bot_walk(clients[i], hz, until, trail, *walk))
    if lean_walkers:
        tasks.append(_lean_walks(lean_walkers, hz, until))
    if voice:
        tasks += [_bot_signal(c, until) for c in clients if c is not None]
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, BaseException):
            errors.append(f"bot: {type(outcome).__name__}: {outcome}")
    elapsed = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    await asyncio.get_running_loop().run_in_executor(None, end_barrier.wait)  # the parent reads /metrics now
    connected = sum(1 for c in clients if c is not None and not c.closed)
    for client in clients:
        if client is None:
            continue
        if client.closed:
            errors.append(f"connection closed by the server ({client.close_code})")
        # not_paired: a signal that crossed a pair's end, which the protocol expects while visitors walk (counted apart)
        errors.extend(f"error message: {e.get('code')}" for e in client.errors if e.get("code") != "not_paired")
    bytes_in = sum(c.bytes_in for c in clients if c is not None)
    voice_peers = [len(c.voice_peers) for c in clients if c is not None and not c.closed]
    resumes = sum(c.resumes for c in clients if c is not None)
    await asyncio.gather(*(c.close() for c in clients if c is not None), return_exceptions=True)
    for client in sluggards:
        client.ws.transport.abort()
    return {
        "connected": connected, "errors": errors, "bytes_in": bytes_in, "latencies": latencies, "elapsed": elapsed,
        "stalled": len(sluggards), "resumes": resumes, "voice_peers": voice_peers,
        "shown_samples": checks.samples, "decode_error_m": checks.error_m, "backward": checks.backward,
        "cpu_s": cpu_s, "bots": count,
    }  # fmt: skip


def _exit_with_parent() -> None:
    """Bots stop when the load tester that started them is gone (killed, say): no orphans walking on."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def _process_main(args: tuple, results, cpus: list[int] | None = None) -> None:
    """Always report: a worker that fails says why instead of leaving the parent waiting."""
    _exit_with_parent()
    if cpus:
        os.sched_setaffinity(0, cpus)  # as `taskset -c`: the bots stay off the server's cores
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        results.put(runner(_worker(*args)))
    except BaseException as err:  # noqa: BLE001 - any failure becomes a reported error
        for barrier in args[-1]:
            barrier.abort()
        failure = f"bot process failed: {type(err).__name__}: {err}"
        results.put({
            "connected": 0, "errors": [failure], "bytes_in": 0, "latencies": [], "elapsed": 0.0, "stalled": 0, "resumes": 0,
            "voice_peers": [],
            "shown_samples": 0, "decode_error_m": 0.0, "backward": 0, "cpu_s": 0.0, "bots": args[2],
        })  # fmt: skip


def run(
    urls: str | list[str],
    scene: str,
    clients: int,
    hz: float = 20.0,
    seconds: float = 30.0,
    processes: int = 0,
    stalled: int = 0,
    sample_every: float = 0.0,
    ack_delay: int = 1,
    voice: bool = False,
    cpus: list[int] | None = None,
    lean: bool = False,
) -> dict:
    """Run the bots; ``urls`` may name several cluster nodes (bots enter by each in turn).

    ``voice``: every bot turns voice on (every other one speaks) and signals as a browser would, without audio.

    ``ack_delay`` (1 or more): each bot acknowledges the snapshot that many back from its newest.

    ``lean``: the walking bots are :class:`LeanBot` (raw sockets, one task for all of them; no voice,
    and a dropped one is an error rather than coming back); the probes and stalled bots stay full clients.

    ``cpus``: the CPUs the bot processes run on (all of them on each, as ``taskset -c``); one process by
    default when it names one CPU, else one a CPU (and at most one per 125 bots)."""
    urls = [urls] if isinstance(urls, str) else list(urls)
    if lean and voice:
        raise LoadTestError("--lean bots do not signal voice: leave out --voice or --lean")
    if lean and any(not url.startswith("ws://") for url in urls):
        raise LoadTestError("--lean bots speak ws:// only")
    bases = [_http_base(url) for url in urls]
    for base in bases:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                pass
        except OSError as err:
            raise LoadTestError(f"no server at {base}: {err}") from None
    if cpus:
        if not hasattr(os, "sched_setaffinity"):
            raise LoadTestError("--cpus needs a system with CPU affinity (Linux)")
        if not set(cpus) <= set(range(os.cpu_count() or 1)):
            raise LoadTestError(f"--cpus {','.join(map(str, cpus))}: this machine has CPUs 0-{(os.cpu_count() or 1) - 1}")
    most = len(cpus) if cpus else os.cpu_count() or 1
    processes = processes or max(1, min(most, math.ceil(clients / 125)))
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    stalled_shares = [stalled // processes + (1 if i < stalled % processes else 0) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    barriers = (context.Barrier(processes + 1), context.Barrier(processes + 1))
    results = context.Queue()
    workers = [
        context.Process(target=_process_main, args=((urls, scene, n, k, hz, seconds, ack_delay, voice, lean, i, barriers), results, cpus))
        for i, (n, k) in enumerate(zip(shares, stalled_shares, strict=True))
    ]
    for worker in workers:
        worker.start()
    # /metrics is read when every bot has joined and again when they stop walking, before they leave
    with contextlib.suppress(threading.BrokenBarrierError):
        barriers[0].wait(timeout=180)
    before, wall_before = [scrape(b) for b in bases], time.monotonic()
    rss_samples: list[tuple[float, float]] = []  # (seconds into the run, MB summed over the nodes)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(sample_every):
            with contextlib.suppress(LoadTestError):
                rss = sum(scrape(b).get("process_resident_memory_bytes", 0.0) for b in bases) / 2**20
                rss_samples.append((round(time.monotonic() - wall_before, 1), round(rss, 1)))

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_every > 0:
        sampler.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barriers[1].wait(timeout=seconds + 120)
    done.set()
    after, wall_after = [scrape(b) for b in bases], time.monotonic()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    latencies = np.array([v for o in outcomes for v in o["latencies"]])
    elapsed = max(o["elapsed"] for o in outcomes) or seconds
    errors = [e for o in outcomes for e in o["errors"]]

    def total(samples: list[dict[str, float]], name: str) -> float:
        return sum(m.get(name, 0.0) for m in samples)

    def delta(name: str) -> float:
        return total(after, name) - total(before, name)

    cpu_s = delta("process_cpu_seconds_total")
    report = {
        "clients": clients,
        "clients_connected": sum(o["connected"] for o in outcomes),
        "nodes": len(urls),
        "errors": len(errors),
        "resumes": sum(o["resumes"] for o in outcomes),  # connections that dropped and came back to the same place
        "error_samples": sorted(set(errors))[:5],
        "hz": hz,
        "seconds": round(elapsed, 1),
        "processes": processes,
        "latency_samples": int(latencies.size),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies.size else None,
        "latency_ms_p99": round(float(np.percentile(latencies, 99)), 1) if latencies.size else None,
        "bytes_in_per_client_per_s": round(sum(o["bytes_in"] for o in outcomes) / clients / elapsed, 1),
        "ack_delay": ack_delay,
        "lean_bots": lean,
        # what the observers showed of their process's walkers: the farthest from a head really sent, and steps back
        "shown_samples": sum(o["shown_samples"] for o in outcomes),
        "decode_error_m_max": round(max(o["decode_error_m"] for o in outcomes), 5),
        "shown_backward_steps": sum(o["backward"] for o in outcomes),
        "server_cpu_percent": round(100 * cpu_s / (wall_after - wall_before), 1),
        "server_rss_mb": round(total(after, "process_resident_memory_bytes") / 2**20, 1),
        "server_rss_mb_at_start": round(total(before, "process_resident_memory_bytes") / 2**20, 1),
        "server_tick_ms_mean": round(
            1000 * delta("thirdspace_tick_seconds_sum") / max(1.0, delta("thirdspace_tick_seconds_count")),
            3,
        ),
        # ticks the server's rooms ran a second (each room at its tick_hz when it keeps up) and its collector's runs
        "server_ticks_per_s": round(delta("thirdspace_tick_seconds_count") / (wall_after - wall_before), 1),
        "server_gc_collections": [int(delta(f'python_gc_collections_total{{generation="{g}"}}')) for g in range(3)],
    }
    # The bots' own CPU over the walk: a process near its whole core falls behind, and then the latency measured is its own.
    bots_cpu_s = sum(o["cpu_s"] for o in outcomes)
    by_process = [round(100 * o["cpu_s"] / (o["elapsed"] or elapsed), 1) for o in outcomes]
    saturated = [i for i, percent in enumerate(by_process) if percent > SATURATED_PERCENT]
    report |= {
        "bots_cpu_percent": round(100 * bots_cpu_s / elapsed, 1),
        "bots_cpu_ms_per_bot_per_s": round(1000 * bots_cpu_s / clients / elapsed, 3),
        "bots_cpu_percent_by_process": by_process,
        "bots_cpus": list(cpus) if cpus else None,
        "bots_saturated": saturated,
    }
    if saturated:
        report["warning"] = (
            f"bot process{'es' if len(saturated) > 1 else ''} {', '.join(map(str, saturated))} used more than {SATURATED_PERCENT} % "
            "of a core: the latency measured is the load generator's, not the server's (use more --processes or --cpus)"
        )
    if len(urls) > 1:
        report["server_cpu_percent_by_node"] = [
            round(100 * (a.get("process_cpu_seconds_total", 0) - b.get("process_cpu_seconds_total", 0)) / (wall_after - wall_before), 1)
            for a, b in zip(after, before, strict=True)
        ]
    if voice:
        wall = wall_after - wall_before
        peers = [n for o in outcomes for n in o["voice_peers"]]
        selections = delta("thirdspace_voice_select_seconds_count")
        report |= {
            "voice_pair_changes_per_s": round(delta("thirdspace_voice_pair_changes_total") / wall, 1),
            "voice_selections_per_s": round(selections / wall, 2),
            "voice_select_ms_mean": round(1000 * delta("thirdspace_voice_select_seconds_sum") / max(1.0, selections), 3),
            "voice_select_cpu_percent": round(100 * delta("thirdspace_voice_select_seconds_sum") / wall, 2),
            "voice_signals_per_s": round(delta('thirdspace_voice_signals_total{outcome="relayed"}') / wall, 1),
            "voice_signals_refused": int(delta('thirdspace_voice_signals_total{outcome="refused"}')),
            "voice_peers_mean": round(float(np.mean(peers)), 2) if peers else 0.0,
            "voice_peers_max": max(peers, default=0),
        }
    if stalled:
        report["stalled_clients"] = sum(o["stalled"] for o in outcomes)
    if rss_samples:
        report["server_rss_mb_samples"] = rss_samples
    return report
