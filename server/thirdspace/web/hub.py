"""The live rooms: placement, delivery of room messages to sessions, tick loops."""

from __future__ import annotations

import asyncio
import logging
import time

from thirdspace.metrics import TICK_SECONDS
from thirdspace.protocol.codec import encode_control
from thirdspace.rooms.directory import RoomDirectory
from thirdspace.rooms.room import Outbound, Room, RoomRules, Visitor
from thirdspace.scenes.model import Scene
from thirdspace.web.session import Session

log = logging.getLogger(__name__)


class RoomRunner:
    """A room with its sessions and its tick task."""

    def __init__(self, room: Room):
        self.room = room
        self.sessions: dict[int, Session] = {}
        self.task: asyncio.Task[None] | None = None

    def deliver(self, outbound: list[Outbound]) -> None:
        for out in outbound:
            data = encode_control(out.message)  # once, whatever the number of listeners
            if out.to is not None:
                session = self.sessions.get(out.to)
                if session is not None:
                    session.send(data)
                continue
            for visitor_id, session in self.sessions.items():
                if visitor_id != out.exclude:
                    session.send(data)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.room.rules.tick_hz
        deadline = loop.time()
        while self.sessions:
            started = time.perf_counter()
            try:
                output = self.room.tick()
            except Exception:  # a bug, not bad input: keep the room alive and say so loudly
                log.exception("tick failed in room %s", self.room.id)
            else:
                visitors = self.room.visitors
                for visitor_id, session in self.sessions.items():
                    session.offer_snapshot(output.snapshot(visitors[visitor_id].slot))
            TICK_SECONDS.observe(time.perf_counter() - started)
            deadline += period
            delay = deadline - loop.time()
            if delay < -period:  # fell behind (a long GC, a busy machine): do not burst to catch up
                deadline = loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))


class Hub:
    def __init__(self, scenes: dict[str, Scene], rules: RoomRules):
        self.scenes = scenes
        self.directory = RoomDirectory(rules)
        self.runners: dict[str, RoomRunner] = {}

    def join(self, scene: Scene, name: str, language: str, colour: str, session: Session) -> tuple[RoomRunner, Visitor]:
        room, _ = self.directory.place(scene)
        runner = self.runners.get(room.id)
        if runner is None:
            runner = self.runners[room.id] = RoomRunner(room)
        visitor, outbound = room.join(name, language, colour, time.monotonic())
        runner.sessions[visitor.id] = session
        runner.deliver(outbound)
        if runner.task is None or runner.task.done():
            runner.task = asyncio.create_task(runner.run(), name=f"tick {room.id}")
        log.info("visitor %s (%s) joined room %s", visitor.id, language, room.id)
        return runner, visitor

    def leave(self, runner: RoomRunner, visitor: Visitor) -> None:
        runner.sessions.pop(visitor.id, None)
        runner.deliver(runner.room.leave(visitor.id))
        if self.directory.close_if_empty(runner.room):
            self.runners.pop(runner.room.id, None)
        log.info("visitor %s left room %s", visitor.id, runner.room.id)

    async def close(self, code: int, reason: str) -> None:
        sessions = [s for r in self.runners.values() for s in r.sessions.values()]
        await asyncio.gather(*(s.close(code, reason) for s in sessions), return_exceptions=True)
        for runner in self.runners.values():
            if runner.task is not None:
                runner.task.cancel()
