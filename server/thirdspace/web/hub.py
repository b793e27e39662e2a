"""The live rooms: placement, delivery of room messages to sessions, tick loops."""

from __future__ import annotations

import asyncio
import logging
import time

from thirdspace.chat.translate import ChatTranslations, NoTranslator
from thirdspace.metrics import TICK_SECONDS
from thirdspace.protocol.codec import encode_control
from thirdspace.protocol.constants import CLOSE_KICKED, CLOSE_ROOM_CLOSED
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
        self.identities: dict[int, str] = {}  # visitor id -> "user:ID" or "addr:IP", for bans
        self.task: asyncio.Task[None] | None = None

    def deliver(self, outbound: list[Outbound]) -> None:
        encoded: dict[int, bytes] = {}  # one message sent to several visitors one by one is encoded once
        for out in outbound:
            data = encoded.get(id(out.message))
            if data is None:
                data = encoded[id(out.message)] = encode_control(out.message)  # once, whatever the number of listeners
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
        self.revisions: dict[str, int] = {}  # the published revision each live scene shows
        self.directory = RoomDirectory(rules)
        self.runners: dict[str, RoomRunner] = {}
        self.bans: dict[tuple[str, str], float] = {}  # (room id, visitor identity) -> monotonic time the ban ends
        self.watchers: dict[str, set[Session]] = {}  # scene id -> curators' connections watching its draft
        self.translations = ChatTranslations(NoTranslator())

    def translate(self, runner: RoomRunner, line: dict) -> None:
        """Send each listener the line in their language, when a backend is configured (in the background)."""
        room = runner.room
        listeners = {visitor_id: visitor.language for visitor_id, visitor in room.visitors.items()}
        self.translations.fan_out(
            line, listeners, room.glossary, lambda visitors, update: runner.deliver([Outbound(update, to=v) for v in visitors])
        )

    def join(
        self, scene: Scene, name: str, language: str, colour: str, session: Session, identity: str = "", can_guide: bool = False
    ) -> tuple[RoomRunner, Visitor]:
        now = time.monotonic()
        banned = frozenset(room_id for (room_id, who), until in self.bans.items() if who == identity and until > now)
        room, _ = self.directory.place(scene, avoid=banned)
        runner = self.runners.get(room.id)
        if runner is None:
            runner = self.runners[room.id] = RoomRunner(room)
        visitor, outbound = room.join(name, language, colour, now)
        visitor.can_guide = can_guide
        runner.sessions[visitor.id] = session
        runner.identities[visitor.id] = identity
        runner.deliver(outbound)
        if runner.task is None or runner.task.done():
            runner.task = asyncio.create_task(runner.run(), name=f"tick {room.id}")
        log.info("visitor %s (%s) joined room %s", visitor.id, language, room.id)
        return runner, visitor

    def leave(self, runner: RoomRunner, visitor: Visitor) -> None:
        runner.sessions.pop(visitor.id, None)
        runner.identities.pop(visitor.id, None)
        runner.deliver(runner.room.leave(visitor.id))
        if self.directory.close_if_empty(runner.room):
            self.runners.pop(runner.room.id, None)
        log.info("visitor %s left room %s", visitor.id, runner.room.id)

    # -- live scenes ---------------------------------------------------------------------

    def update_scene(self, scene: Scene, revision: int) -> None:
        """Show a newly published revision: new visitors get it, visitors in its rooms get it now."""
        changed = self.scenes.get(scene.id) is None or self.scenes[scene.id].document != scene.document
        self.scenes[scene.id] = scene
        self.revisions[scene.id] = revision
        for room in self.directory.rooms(scene.id):
            room.set_scene_rules(scene.document, list(scene.blocklist))
        if not changed:
            return
        message = {"type": "scene", "scene": scene.id, "revision": revision, "document": scene.document}
        for room in self.directory.rooms(scene.id):
            runner = self.runners.get(room.id)
            if runner is not None:
                runner.deliver([Outbound(message)])

    async def remove_scene(self, scene_id: str, message: str) -> None:
        self.scenes.pop(scene_id, None)
        self.revisions.pop(scene_id, None)
        for room in self.directory.rooms(scene_id):
            await self.close_room(room.id, message)

    def watch(self, scene_id: str, session: Session) -> None:
        self.watchers.setdefault(scene_id, set()).add(session)

    def unwatch(self, session: Session) -> None:
        for sessions in self.watchers.values():
            sessions.discard(session)

    def notify_draft(self, scene_id: str, message: dict) -> None:
        data = encode_control(message)
        for session in self.watchers.get(scene_id, ()):
            session.send(data)

    # -- moderation ----------------------------------------------------------------------

    def runner(self, room_id: str) -> RoomRunner | None:
        return self.runners.get(room_id)

    def mute(self, runner: RoomRunner, visitor_id: int, muted: bool) -> None:
        (runner.room.muted.add if muted else runner.room.muted.discard)(visitor_id)

    async def kick(self, runner: RoomRunner, visitor_id: int, minutes: float) -> None:
        identity = runner.identities.get(visitor_id, "")
        if identity:
            self.bans[(runner.room.id, identity)] = time.monotonic() + minutes * 60
        session = runner.sessions.get(visitor_id)
        if session is not None:
            await session.close(CLOSE_KICKED, f"removed by a moderator for {minutes:g} min")

    async def close_room(self, room_id: str, message: str) -> None:
        runner = self.runners.get(room_id)
        room = self.directory.room(room_id)
        if room is not None:
            room.locked = True
            self.directory.remove(room)
        if runner is None:
            return
        runner.deliver([Outbound({"type": "closed", "room": room_id, "message": message})])
        sessions = list(runner.sessions.values())
        await asyncio.gather(*(s.close(CLOSE_ROOM_CLOSED, "room closed") for s in sessions), return_exceptions=True)

    async def close(self, code: int, reason: str) -> None:
        sessions = [s for r in self.runners.values() for s in r.sessions.values()]
        sessions += [s for watchers in self.watchers.values() for s in watchers]
        await asyncio.gather(*(s.close(code, reason) for s in sessions), return_exceptions=True)
        for runner in self.runners.values():
            if runner.task is not None:
                runner.task.cancel()
