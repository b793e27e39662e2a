"""A Python client for Third Space on ``websockets``: join a scene, send poses
and chat, follow the other visitors.  Used by the tests, bots and load tests.

    async with await ThirdSpaceClient.connect("ws://127.0.0.1:8080/ws", "gallery", "Ama") as client:
        await client.send_pose((0, 1.6, 3))
        await client.send_chat("Hello")
        await client.wait_for(lambda c: c.chat)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson
import websockets

from thirdspace.protocol.codec import encode_pose
from thirdspace.protocol.constants import FLAG_ACK, FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, PROTOCOL_VERSION
from thirdspace.sync.decode import SnapshotDecoder

IDENTITY = (0.0, 0.0, 0.0, 1.0)
log = logging.getLogger(__name__)
MAX_REDIRECTS = 5
FINAL_CLOSE_CODES = {1000, 1001, 1008, 4003, 4004, 4008}  # left, kicked, closed, refused, flooded: do not come back


class JoinError(Exception):
    def __init__(self, message: dict[str, Any]):
        super().__init__(message.get("message", "join refused"))
        self.message = message


class ThirdSpaceClient:
    def __init__(self, ws: websockets.ClientConnection, welcome: dict[str, Any], decode: bool = True, ack_delay: int = 1):
        self.ws = ws
        self.decode = decode  # False: count and acknowledge snapshots without decoding them (load-test bots)
        bounds = welcome["bounds"]
        self.decoder = SnapshotDecoder(bounds["min"], bounds["max"])
        self.ack: int | None = None
        # ack_delay > 1 acknowledges the snapshot received ack_delay - 1 snapshots before the newest, as a
        # client on a slow path would (1: the newest, as the browser does)
        self._received: collections.deque[int] = collections.deque(maxlen=max(1, ack_delay))
        self.bytes_in = 0
        self.welcome = welcome
        self.id: int = welcome["id"]
        self.room: str = welcome["room"]
        self.visitors: dict[int, dict[str, Any]] = {v["id"]: v for v in welcome["visitors"]}
        self.chat: list[dict[str, Any]] = list(welcome["chat"])
        self.errors: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.scene_document: dict[str, Any] | None = None  # the latest published scene, when one arrives live
        self.poses: dict[int, np.ndarray] = {}  # visitor id -> (3, 7) head, left, right
        self.pose_flags: dict[int, int] = {}  # visitor id -> FLAG_* bits of their latest pose
        self.snapshots = 0
        self.on_snapshot: Callable[[ThirdSpaceClient], None] | None = None  # called after each decoded snapshot
        self.entry_url = ""
        self.hello: dict[str, Any] = {}
        self.headers: dict[str, str] | None = None
        self.timeout = 10.0
        self.reconnect = False
        self.resumes = 0  # connections regained with the same place
        self.moved_to: tuple[str, str] | None = None  # (url, room) from a node shutting down
        # Voice signalling (docs/voice.md): the state this client asked for, what the server says, its voice peers.
        self.voice_wanted: dict[str, Any] | None = None
        self.voice_state: dict[str, Any] | None = None
        self.voice_peers: dict[int, dict[str, Any]] = {}  # peer id -> its voice_peers entry
        self.signals: list[dict[str, Any]] = []  # signal messages relayed to this client
        self._closing = False
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        url: str,
        scene: str,
        name: str,
        language: str = "en",
        colour: str = "#4a90d9",
        timeout: float = 10.0,
        decode: bool = True,
        token: str | None = None,
        reconnect: bool = False,
        ack_delay: int = 1,
        **hello: Any,
    ) -> ThirdSpaceClient:
        """Join ``scene`` through the node at ``url``, following a redirect to the node that holds the room.

        With ``reconnect`` the client comes back by itself after a dropped connection (or a node
        shutting down), resuming its place while the server's resume window lasts.  ``ack_delay``
        (in snapshots, 1 the prompt default) makes its acknowledgements lag, as on a slow path.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else None
        message = {"type": "hello", "protocol": PROTOCOL_VERSION, "scene": scene, "name": name, "language": language, "colour": colour}
        message |= hello
        ws, reply = await cls._handshake(url, message, headers, timeout)
        client = cls(ws, reply, decode, ack_delay)
        client.entry_url, client.hello, client.headers, client.timeout = url, message, headers, timeout
        client.reconnect = reconnect
        return client

    @staticmethod
    async def _handshake(
        url: str, hello: dict[str, Any], headers: dict[str, str] | None, timeout: float
    ) -> tuple[websockets.ClientConnection, dict[str, Any]]:
        for _ in range(MAX_REDIRECTS + 1):
            ws = await websockets.connect(url, max_size=2**22, open_timeout=timeout, additional_headers=headers)
            await ws.send(orjson.dumps(hello).decode())
            reply = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
            if reply.get("type") == "welcome" and "redirect" in reply:
                await ws.close()
                url, hello = reply["redirect"], {**hello, "room": reply["room"]}
                continue
            if reply.get("type") != "welcome":
                await ws.close()
                raise JoinError(reply)
            return ws, reply
        raise JoinError({"message": f"more than {MAX_REDIRECTS} redirects"})

    async def __aenter__(self) -> ThirdSpaceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closing = True
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    @property
    def closed(self) -> bool:
        return self._reader.done()

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def send_pose(
        self,
        head: Sequence[float],
        head_rotation: Sequence[float] = IDENTITY,
        left: Sequence[float] | None = None,
        right: Sequence[float] | None = None,
        hand_rotation: Sequence[float] = IDENTITY,
        teleport: bool = False,
    ) -> None:
        parts = np.zeros((3, 7), dtype=np.float32)
        parts[:, 6] = 1.0
        parts[0] = (*head, *head_rotation)
        flags = FLAG_TELEPORT if teleport else 0
        if self.ack is not None:
            flags |= FLAG_ACK
        if left is not None:
            parts[1] = (*left, *hand_rotation)
            flags |= FLAG_LEFT
        if right is not None:
            parts[2] = (*right, *hand_rotation)
            flags |= FLAG_RIGHT
        await self.ws.send(encode_pose(parts, flags, self.ack or 0))

    async def send_chat(self, text: str) -> None:
        await self.send({"type": "chat", "text": text})

    async def send_voice(self, listen: bool = True, speak: bool = False, announce: bool = False) -> None:
        """Turn voice on or off (``listen``), the microphone (``speak``) or announcing; sent again after a resume."""
        self.voice_wanted = {"type": "voice", "listen": listen, "speak": speak, "announce": announce}
        await self.send(self.voice_wanted)

    async def send_signal(self, to: int, kind: str, sdp: str | None = None, candidate: dict[str, Any] | None = None) -> None:
        """An offer, answer (``sdp``) or ICE candidate for a voice peer; this client carries no audio itself."""
        message: dict[str, Any] = {"type": "signal", "to": to, "kind": kind}
        if sdp is not None:
            message["sdp"] = sdp
        if candidate is not None:
            message["candidate"] = candidate
        await self.send(message)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def wait_for(self, predicate: Callable[[ThirdSpaceClient], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate(self)`` returns a truthy value (or an array) and return it."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if isinstance(value, np.ndarray) or value:
                return value
            if self.closed:
                raise ConnectionError(f"connection closed ({self.close_code}) while waiting")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def _read(self) -> None:
        try:
            while True:
                try:
                    async for data in self.ws:
                        self.bytes_in += len(data)
                        if isinstance(data, bytes):
                            self._snapshot(data)
                        else:
                            self._handle(orjson.loads(data))
                        self._changed.set()
                except websockets.ConnectionClosed:
                    pass
                if not self.reconnect or self._closing or self.ws.close_code in FINAL_CLOSE_CODES:
                    return
                if not await self._resume():
                    return
        except Exception:
            log.exception("client %s: reading failed", self.id)
            raise
        finally:
            self._changed.set()

    async def _resume(self, give_up_after: float = 60.0) -> bool:
        """Reconnect with backoff, trying the node a move named, the entry node and the others; False if it gave up."""
        hello = {**self.hello, "room": self.room, "resume": self.welcome["resume"]}
        urls = [self.entry_url, *(u for u in self.welcome.get("nodes", []) if u != self.entry_url)]
        if self.moved_to is not None:
            url, room = self.moved_to
            urls.insert(0, url)
            hello["room"] = room
            self.moved_to = None
        started = time.monotonic()
        delay, deadline, attempt = 0.1, started + give_up_after, 0
        while time.monotonic() < deadline and not self._closing:
            url = urls[attempt % len(urls)]
            attempt += 1
            try:
                ws, welcome = await self._handshake(url, hello, self.headers, min(self.timeout, 3.0))
            except (OSError, TimeoutError, websockets.WebSocketException, JoinError):
                await asyncio.sleep(delay * (0.5 + random.random()))
                # Quick retries while a failed node's heartbeat runs out (2 s), then back off further.
                delay = min(delay * 2, 0.5 if time.monotonic() - started < 10 else 5.0)
                continue
            self.ws = ws
            self._welcomed(welcome)
            if self.voice_wanted is not None:  # the server ends a lost connection's voice: turn it on again
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self.send(self.voice_wanted)
            return True
        return False

    def _welcomed(self, welcome: dict[str, Any]) -> None:
        """A new connection's welcome: the same place again (``resumed``) or, after the window, a new one."""
        resumed = bool(welcome.get("resumed"))
        self.resumes += resumed
        self.welcome = welcome
        self.id, self.room = welcome["id"], welcome["room"]
        self.visitors = {v["id"]: v for v in welcome["visitors"]}
        known = {line["id"] for line in self.chat} if resumed else set()
        if not resumed:
            self.chat = []
        self.chat += [line for line in welcome["chat"] if line["id"] not in known]
        bounds = welcome["bounds"]
        self.decoder = SnapshotDecoder(bounds["min"], bounds["max"])  # the new connection starts from a full snapshot
        self.ack = None
        self._received.clear()
        self.voice_peers = {}
        self.messages.append(welcome)
        self._changed.set()

    def _snapshot(self, data: bytes) -> None:
        self.snapshots += 1
        if not self.decode:
            self._acknowledge(int.from_bytes(data[2:4], "little"))
            return
        result = self.decoder.decode(data)
        if result is None:
            return  # its baseline is gone; the server sends a full snapshot once our acks catch up
        self._acknowledge(result[0])
        self.poses = {}
        for visitor_id, held in self.decoder.shown.items():  # each avatar at the newest state decoded for it
            self.poses[visitor_id] = self.decoder.pose(held)
            self.pose_flags[visitor_id] = held[0] | (FLAG_TELEPORT if visitor_id in self.decoder.teleported else 0)
        if self.on_snapshot is not None:
            self.on_snapshot(self)

    def _acknowledge(self, seq: int) -> None:
        self._received.append(seq)
        if len(self._received) == self._received.maxlen:
            self.ack = self._received[0]

    def _handle(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        kind = message.get("type")
        if kind == "join":
            self.visitors[message["visitor"]["id"]] = message["visitor"]
        elif kind == "leave":
            self.visitors.pop(message["id"], None)
            self.poses.pop(message["id"], None)
        elif kind == "chat":
            self.chat.append(message)
        elif kind == "error":
            self.errors.append(message)
        elif kind == "scene":
            self.scene_document = message["document"]
        elif kind == "voice_state":
            self.voice_state = message
        elif kind == "voice_peers":
            for peer in message["remove"]:
                self.voice_peers.pop(peer, None)
            self.voice_peers.update({entry["id"]: entry for entry in message["add"]})
        elif kind == "signal":
            self.signals.append(message)
        elif kind == "move":
            self.moved_to = (message["url"], message["room"])
