"""The live rooms: placement, delivery of room messages to sessions, tick loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from thirdspace.chat.translate import NoTranslator
from thirdspace.cluster.node import Cluster, ClusterUnavailable, least_loaded
from thirdspace.logs import REQUEST_ID, ROOM_ID
from thirdspace.metrics import TICK_LATENESS_SECONDS, TICK_SECONDS
from thirdspace.protocol.codec import Hello, encode_control
from thirdspace.protocol.constants import CLOSE_KICKED, CLOSE_MOVED, CLOSE_ROOM_CLOSED
from thirdspace.rooms.directory import RoomDirectory
from thirdspace.rooms.room import Outbound, Room, RoomRules, Visitor
from thirdspace.scenes.model import Scene
from thirdspace.services.translation import ChatTranslations
from thirdspace.web.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Redirect:
    """The visitor's room lives on another node: reconnect there (cluster mode)."""

    url: str
    room: str


class RoomRunner:
    """A room with its sessions and its tick task."""

    def __init__(self, room: Room, hub: Hub):
        self.room = room
        self.hub = hub
        self.sessions: dict[int, Session] = {}
        self.identities: dict[int, str] = {}  # visitor id -> "user:ID" or "addr:IP", for bans
        self.task: asyncio.Task[None] | None = None
        self.chat_lock = asyncio.Lock()

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

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run(), name=f"tick {self.room.id}")

    async def run(self) -> None:
        ROOM_ID.set(self.room.id)  # this task's log lines name its room, not the request that opened it
        REQUEST_ID.set("")
        loop = asyncio.get_running_loop()
        period = 1.0 / self.room.rules.tick_hz
        deadline = loop.time()
        next_expiry = 0.0
        while self.room.visitors:
            TICK_LATENESS_SECONDS.observe(max(0.0, loop.time() - deadline))
            started = time.perf_counter()
            if self.sessions:
                try:
                    output = self.room.tick()
                except Exception:  # a bug, not bad input: keep the room alive and say so loudly
                    log.exception("tick failed in room %s", self.room.id)
                else:
                    visitors = self.room.visitors
                    for visitor_id, session in self.sessions.items():
                        session.offer_snapshot(output.snapshot(visitors[visitor_id].slot))
                TICK_SECONDS.observe(time.perf_counter() - started)
            now = time.monotonic()
            if now >= next_expiry:  # visitors whose resume window ended leave now
                next_expiry = now + 0.25
                gone, outbound = self.room.expire_away(now)
                if gone:
                    await self.hub.forget(self, gone, outbound)
            deadline += period
            delay = deadline - loop.time()
            if delay < -period:  # fell behind (a long GC, a busy machine): do not burst to catch up
                deadline = loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))
        await self.hub.close_if_empty(self)


class Hub:
    def __init__(self, scenes: dict[str, Scene], rules: RoomRules, resume_window_s: float = 30.0):
        self.scenes = scenes
        self.revisions: dict[str, int] = {}  # the published revision each live scene shows
        self.directory = RoomDirectory(rules)
        self.runners: dict[str, RoomRunner] = {}
        self.bans: dict[tuple[str, str], float] = {}  # (room id, visitor identity) -> monotonic time the ban ends
        self.watchers: dict[str, set[Session]] = {}  # scene id -> curators' connections watching its draft
        self.translations = ChatTranslations(NoTranslator())
        self.resume_window_s = resume_window_s
        self.cluster: Cluster | None = None
        self.announce: Callable[[str, dict[str, Any]], None] | None = None  # tell the other nodes (cluster mode)
        self.draining = False
        self._opening: dict[str, asyncio.Future[RoomRunner | None]] = {}  # rooms being reopened from Redis

    def translate(self, runner: RoomRunner, line: dict) -> None:
        """Send each listener the line in their language, when a backend is configured (in the background)."""
        room = runner.room
        listeners = {visitor_id: visitor.language for visitor_id, visitor in room.visitors.items()}
        self.translations.fan_out(
            line, listeners, room.glossary, lambda visitors, update: runner.deliver([Outbound(update, to=v) for v in visitors])
        )

    def load(self) -> tuple[int, int]:
        return sum(len(r.room.visitors) for r in self.runners.values()), len(self.runners)

    # -- joining, leaving, resuming ------------------------------------------------------

    async def admit(
        self, scene: Scene, hello: Hello, session: Session, identity: str = "", can_guide: bool = False
    ) -> tuple[RoomRunner, Visitor] | Redirect:
        """Put a visitor in a room: resumed in their old slot, in a room with space, or sent to the node that has one."""
        now = time.monotonic()
        banned = frozenset(room_id for (room_id, who), until in self.bans.items() if who == identity and until > now)
        nodes = await self._node_urls()
        if hello.resume and hello.room:
            resumed = await self._resume(scene, hello.room, hello.resume, session, nodes)
            if resumed is not None:
                return resumed
        runner = await self._choose(scene, hello.room if hello.room not in banned else "", banned)
        if isinstance(runner, Redirect):
            return runner
        room = runner.room  # no await between the choice of a room with space and the join
        visitor, outbound = room.join(hello.name, hello.language, hello.colour, now)
        visitor.can_guide = can_guide
        runner.identities[visitor.id] = identity
        if self.cluster is not None:
            try:
                await self.cluster.add_member(room.id, visitor.id, self._member(runner, visitor))
                await self.publish_room(room)
            except ClusterUnavailable:
                runner.identities.pop(visitor.id, None)
                room.leave(visitor.id)
                raise
        outbound[0].message["nodes"] = nodes
        runner.sessions[visitor.id] = session  # no await from here to the welcome: it is the first frame sent
        runner.deliver(outbound)
        runner.start()
        log.info("visitor %s (%s) joined room %s", visitor.id, hello.language, room.id)
        return runner, visitor

    async def _choose(self, scene: Scene, preferred: str, banned: frozenset[str]) -> RoomRunner | Redirect:
        if self.cluster is None:
            room = self.directory.room(preferred) if preferred else None
            if room is None or room.is_full or room.locked or room.scene.id != scene.id:
                room, _ = self.directory.place(scene, avoid=banned)
            return self._runner_for(room)
        for _ in range(4):  # a room may fill up between the directory's answer and the join
            if preferred:
                runner = self.runners.get(preferred)
                if runner is not None and runner.room.scene.id == scene.id:
                    if not runner.room.is_full and not runner.room.locked:
                        return runner
                else:
                    owner = await self.cluster.owner(preferred)
                    if owner is not None and owner.node == self.cluster.node_id and preferred.rpartition("-")[0] == scene.id:
                        runner = await self._open(scene, preferred)
                        if runner is not None and not runner.room.is_full:
                            return runner
                    elif owner is not None and owner.alive and not self.draining:
                        return Redirect(owner.url, preferred)
                banned = banned | {preferred}
            preferred, node = await self.cluster.place(scene.id, scene.capacity, banned)
            if node.id != self.cluster.node_id:
                return Redirect(node.url, preferred)
        raise ClusterUnavailable(f"no room of {scene.id} has space")

    def _runner_for(self, room: Room) -> RoomRunner:
        runner = self.runners.get(room.id)
        if runner is None:
            runner = self.runners[room.id] = RoomRunner(room, self)
        return runner

    async def _open(self, scene: Scene, room_id: str) -> RoomRunner | None:
        """Open a room this node owns but does not run yet, with its members (away), chat and tours from Redis."""
        runner = self.runners.get(room_id)
        if runner is not None:
            return runner
        pending = self._opening.get(room_id)
        if pending is not None:
            return await pending
        future: asyncio.Future[RoomRunner | None] = asyncio.get_running_loop().create_future()
        self._opening[room_id] = future
        try:
            assert self.cluster is not None
            members = await self.cluster.members(room_id)
            chat = await self.cluster.chat(room_id)
            tours = await self.cluster.tours(room_id)
            room = self.directory.add(Room(room_id, scene, self.directory.rules))
            runner = self._runner_for(room)
            now = time.monotonic()
            for visitor_id, member in sorted(members.items()):
                if room.is_full:
                    break
                visitor, _ = room.join(member["name"], member["language"], member["colour"], now, visitor_id, member["secret"])
                visitor.can_guide = bool(member.get("can_guide"))
                runner.identities[visitor_id] = member.get("identity", "")
                room.detach(visitor_id, now, self.resume_window_s)
            room.restore_chat(chat)
            room.tours.restore(room.document, tours, set(room.visitors))
            for guided in room.tours.running.values():
                room.set_always_visible(guided.guide, True)
            if room.visitors:
                runner.start()  # expires the members who do not come back; an empty room starts with its first visitor
            await self.publish_room(room)
            log.info("room %s opened here with %d member(s) waiting to resume", room_id, len(room.visitors))
            future.set_result(runner)
            return runner
        except BaseException as err:
            future.set_exception(err) if not isinstance(err, asyncio.CancelledError) else future.cancel()
            raise
        finally:
            self._opening.pop(room_id, None)

    async def reopen(self, room_id: str, scene_id: str) -> None:
        """A room whose node died was handed to this node: open it so its visitors can resume here."""
        scene = self.scenes.get(scene_id)
        if scene is None:
            return
        await self._open(scene, room_id)

    async def _resume(
        self, scene: Scene, room_id: str, token: str, session: Session, nodes: list[str]
    ) -> tuple[RoomRunner, Visitor] | Redirect | None:
        visitor_id, _, secret = token.partition(".")
        if not visitor_id.isdigit() or not secret:
            return None
        runner = self.runners.get(room_id)
        if runner is None and self.cluster is not None and room_id.rpartition("-")[0] == scene.id:
            owner = await self.cluster.owner(room_id)
            if owner is None:
                return None
            if owner.node != self.cluster.node_id:
                if owner.alive:
                    return Redirect(owner.url, room_id)
                if not await self.cluster.take(room_id, owner.node):  # its node died: take the room over here
                    owner = await self.cluster.owner(room_id)
                    return Redirect(owner.url, room_id) if owner is not None and owner.alive else None
            runner = await self._open(scene, room_id)
        if runner is None or runner.room.scene.id != scene.id:
            return None
        result = runner.room.reattach(int(visitor_id), secret)
        if result is None:
            return None
        visitor, outbound = result
        old = runner.sessions.get(visitor.id)
        if old is not None:  # the old connection is half-open: this one replaces it
            old.abort()
        outbound[0].message["nodes"] = nodes
        runner.sessions[visitor.id] = session
        runner.deliver(outbound)
        runner.start()
        log.info("visitor %s resumed in room %s", visitor.id, room_id)
        return runner, visitor

    async def release(self, runner: RoomRunner, visitor: Visitor, session: Session, keep: bool) -> None:
        """A connection ended: keep the visitor's place for the resume window (``keep``), or let them leave now."""
        if runner.sessions.get(visitor.id) is not session:
            return  # a resumed connection took over this visitor
        del runner.sessions[visitor.id]
        if self.draining and self.cluster is not None:
            return  # the room went to another node with its members: nobody leaves
        if keep and self.resume_window_s > 0 and visitor.id in runner.room.visitors:
            runner.room.detach(visitor.id, time.monotonic(), self.resume_window_s)
            log.info("visitor %s lost its connection in room %s; keeping the place %g s", visitor.id, runner.room.id, self.resume_window_s)
            return
        await self.forget(runner, [visitor.id], runner.room.leave(visitor.id))
        log.info("visitor %s left room %s", visitor.id, runner.room.id)

    async def forget(self, runner: RoomRunner, gone: list[int], outbound: list[Outbound]) -> None:
        """Visitors left the room for good (their ``leave`` messages in ``outbound``)."""
        for visitor_id in gone:
            runner.identities.pop(visitor_id, None)
            session = runner.sessions.pop(visitor_id, None)
            if session is not None:
                session.abort()
        runner.deliver(outbound)
        if self.cluster is not None:
            with contextlib.suppress(ClusterUnavailable):
                await self.cluster.remove_members(runner.room.id, gone)
                await self.save_tours(runner)
                await self.publish_room(runner.room)
        await self.close_if_empty(runner)

    async def close_if_empty(self, runner: RoomRunner) -> None:
        if self.runners.get(runner.room.id) is not runner or not self.directory.close_if_empty(runner.room):
            return
        self.runners.pop(runner.room.id, None)
        if self.cluster is not None and not self.draining:
            with contextlib.suppress(ClusterUnavailable):
                await self.cluster.drop_room(runner.room.id, runner.room.scene.id)

    async def record_chat(self, runner: RoomRunner, line: dict) -> None:
        """Keep a chat line where it outlives this node (cluster mode), before anyone sees it."""
        if self.cluster is not None:
            await self.cluster.append_chat(runner.room.id, line)

    def offer_tour(self, runner: RoomRunner, tour_id: str, announce: bool = True) -> None:
        """A guide started (or took over) a tour: visitors in the scene's other rooms, on any node, may come."""
        guided = runner.room.tours.running.get(tour_id)
        if guided is None:
            return
        offer = runner.room.tour_offer(guided)
        self.deliver_offer(runner.room.scene.id, offer)
        if announce and self.announce is not None:
            self.announce("tour", {"scene": runner.room.scene.id, "offer": offer})

    def deliver_offer(self, scene_id: str, offer: dict[str, Any]) -> None:
        for room in self.directory.rooms(scene_id):
            runner = self.runners.get(room.id)
            if runner is not None and room.id != offer["room"]:
                runner.deliver([Outbound(offer)])

    async def save_tours(self, runner: RoomRunner) -> None:
        if self.cluster is not None:
            await self.cluster.save_tours(runner.room.id, runner.room.tours.snapshot())

    async def publish_room(self, room: Room) -> None:
        if self.cluster is not None:
            await self.cluster.set_room(room.id, room.scene.id, len(room.visitors), room.capacity, room.locked)

    async def _node_urls(self) -> list[str]:
        """Where a client may reconnect if this node goes away: this node first, then the other live ones."""
        if self.cluster is None:
            return []
        try:
            nodes = await self.cluster.nodes()
        except ClusterUnavailable:
            return [self.cluster.url]
        return [self.cluster.url, *sorted(n.url for n in nodes.values() if n.id != self.cluster.node_id and not n.draining)]

    async def give_up_lost_rooms(self, owners: dict[str, str | None], urls: dict[str, str]) -> None:
        """Rooms this node runs that Redis now gives to another node (this node was taken for dead, say,
        after a long stall): send their visitors to the owner, who reopened the room with its members."""
        cluster = self.cluster
        assert cluster is not None
        for room_id, owner in owners.items():
            runner = self.runners.get(room_id)
            if runner is None or owner == cluster.node_id:
                continue
            if owner is None and await cluster.take(room_id, ""):  # Redis lost its data (a restart): tell it again
                await self._register(runner)
                continue
            log.warning("room %s now belongs to node %s; sending its visitors there", room_id, owner)
            self.runners.pop(room_id, None)
            self.directory.remove(runner.room)
            closes = self._send_away(runner, urls.get(owner or ""), "this room moved to another node")
            runner.sessions.clear()  # the visitors are not leaving: nothing to tell Redis or the others
            await asyncio.gather(*closes, return_exceptions=True)
            if runner.task is not None:
                runner.task.cancel()

    def _send_away(self, runner: RoomRunner, url: str | None, reason: str) -> list[Awaitable[None]]:
        """Tell a room's visitors where it went (``move``) and close their connections with 4005 (to await)."""
        if url is not None:
            runner.deliver([Outbound({"type": "move", "url": url, "room": runner.room.id})])
        return [session.close(CLOSE_MOVED, reason) for session in runner.sessions.values()]

    @staticmethod
    def _member(runner: RoomRunner, visitor: Visitor) -> dict[str, Any]:
        """What Redis keeps of a room member, enough to bring them back on another node."""
        extra = {"identity": runner.identities.get(visitor.id, ""), "can_guide": visitor.can_guide, "secret": visitor.secret}
        return visitor.presence() | extra

    async def _register(self, runner: RoomRunner) -> None:
        """Write a room this node runs back into Redis: directory, members, chat, tours."""
        assert self.cluster is not None
        room = runner.room
        await self.cluster.add_room(room.id, room.scene.id)
        await self.publish_room(room)
        for visitor in room.visitors.values():
            await self.cluster.add_member(room.id, visitor.id, self._member(runner, visitor))
        for line in room.chat_log:
            await self.cluster.append_chat(room.id, line)
        await self.save_tours(runner)
        log.warning("room %s written back to Redis (%d visitors)", room.id, len(room.visitors))

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Graceful shutdown in cluster mode: hand every room to another node and send its visitors there."""
        self.draining = True
        cluster = self.cluster
        if cluster is None:
            return
        cluster.draining = True
        with contextlib.suppress(ClusterUnavailable):
            await cluster.heartbeat()
        moves = []
        for runner in list(self.runners.values()):
            room = runner.room
            try:
                await self.save_tours(runner)
                nodes = await cluster.nodes()
                nodes.pop(cluster.node_id, None)
                target = least_loaded(nodes)
                if target is None or not await cluster.take(room.id, cluster.node_id, target.id):
                    continue
            except ClusterUnavailable:
                continue
            moves += self._send_away(runner, target.url, "this node is shutting down: reconnect")
            log.info("room %s handed to node %s (%d visitor(s) sent there)", room.id, target.id, len(runner.sessions))
        if moves:
            await asyncio.wait_for(asyncio.gather(*moves, return_exceptions=True), timeout_s)

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

    def notify_draft(self, scene_id: str, message: dict, announce: bool = True) -> None:
        if announce and self.announce is not None:
            self.announce("draft", {"scene": scene_id, "message": message})
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
