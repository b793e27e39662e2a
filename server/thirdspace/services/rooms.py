"""The live rooms of this node: admitting and releasing visitors, delivering room messages to sessions,
the tick loops, live scene updates, draft watchers and moderation.

What other nodes must know (cluster mode) goes through a :class:`Replication`
(``services/replication.py``): :class:`~thirdspace.services.replication.SingleNode`
when this process is alone, :class:`~thirdspace.services.replication.ClusterReplication`
over Redis otherwise.  Which room a visitor gets is the pure policy of
``rooms/placement.py``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from thirdspace.chat.translate import NoTranslator
from thirdspace.cluster.node import ClusterUnavailable
from thirdspace.logs import REQUEST_ID, ROOM_ID
from thirdspace.metrics import BYTES_IN, BYTES_OUT, POSES, TICK_LATENESS_SECONDS, TICK_SECONDS, VOICE_PAIR_CHANGES, VOICE_SELECT_SECONDS
from thirdspace.protocol.codec import Hello, ProtocolError, encode_control
from thirdspace.protocol.constants import CLOSE_KICKED, CLOSE_ROOM_CLOSED, POSE_FRAME_SIZE
from thirdspace.rooms.directory import RoomDirectory
from thirdspace.rooms.room import Outbound, Room, RoomRules, Visitor
from thirdspace.scenes.model import Scene
from thirdspace.services.translation import ChatTranslations
from thirdspace.services.voice import Voice

if TYPE_CHECKING:
    from thirdspace.services.replication import Replication
    from thirdspace.web.session import Session

log = logging.getLogger(__name__)

BINARY_IN = BYTES_IN.labels("binary")
POSES_ACCEPTED = POSES.labels("accepted")
POSES_DROPPED = POSES.labels("dropped")


def identity_parts(identity: str) -> tuple[list[str], bool]:
    """A visitor's identities ("user:ID", "browser:ID", "addr:IP", see ``web.auth.visitor_identities``) and whether
    the browser came without its cookie ("fresh")."""
    words = identity.split()
    return [w for w in words if w != "fresh"], "fresh" in words


def _of(parts: list[str], *kinds: str) -> list[str]:
    return [p for p in parts if p.split(":", 1)[0] in kinds]


def kick_targets(identity: str) -> list[str]:
    """What a kick bans: the account and the browser of a signed-in visitor (never the address, which others may
    share); the browser and the address of an anonymous one."""
    parts, _ = identity_parts(identity)
    return _of(parts, "user", "browser") if _of(parts, "user") else _of(parts, "browser", "addr")


def mute_targets(identity: str) -> list[str]:
    """What a mute holds on to: the account, else the browser (the address only when there is neither)."""
    parts, _ = identity_parts(identity)
    return _of(parts, "user", "browser") or _of(parts, "addr")


def ban_lookup(identity: str) -> list[str]:
    """The identities a newcomer is checked against: the address only when its browser brought no cookie."""
    parts, fresh = identity_parts(identity)
    return parts if fresh or not _of(parts, "browser") else _of(parts, "user", "browser")


class MemoryBans:
    """Kicks and mutes kept in this process, for live rooms run without a store (unit tests)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def add_bans(
        self, scene_id: str, identities: list[str], kind: str, until_ms: int, created_by: str, chat: bool = True, voice: bool = True
    ) -> None:
        self.rows += [
            {"scene_id": scene_id, "identity": i, "kind": kind, "chat": int(chat), "voice": int(voice), "until_ms": until_ms}
            for i in identities
        ]

    async def lift_mutes(self, scene_id: str, identities: list[str], chat: bool = True, voice: bool = True) -> None:
        for row in self.rows:
            if row["scene_id"] == scene_id and row["kind"] == "mute" and row["identity"] in identities:
                row["chat"] = row["chat"] and not chat
                row["voice"] = row["voice"] and not voice
        self.rows = [r for r in self.rows if r["kind"] == "kick" or r["chat"] or r["voice"]]

    async def active_bans(self, scene_id: str, identities: list[str]) -> list[dict[str, Any]]:
        now = time.time() * 1000
        return [r for r in self.rows if r["scene_id"] == scene_id and r["identity"] in identities and r["until_ms"] > now]


@dataclass(frozen=True)
class Redirect:
    """The visitor's room lives on another node: reconnect there (cluster mode)."""

    url: str
    room: str


class RoomRunner:
    """A room with its sessions and its tick task."""

    def __init__(self, room: Room, rooms: LiveRooms):
        self.room = room
        self.rooms = rooms
        self.sessions: dict[int, Session] = {}
        self.identities: dict[int, str] = {}  # visitor id -> "user:ID browser:ID addr:IP" (web.auth.visitor_identities)
        self.since_ms: dict[int, int] = {}  # visitor id -> when its connection was admitted (for token revocation)
        self.task: asyncio.Task[None] | None = None
        self.chat_lock = asyncio.Lock()
        self._poses_counted = (0, 0, 0)  # the room's pose frames received, accepted and dropped, as last counted

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

    def voice_round(self) -> None:
        """Choose who hears whom again and tell each visitor what changed (a few times a second, after a tick)."""
        started = time.perf_counter()
        changes = self.room.voice.pair_changes
        try:
            outbound = self.room.voice_round()
        except Exception:  # a bug, not bad input: voices stay as they are, the room goes on
            log.exception("voice selection failed in room %s", self.room.id)
            return
        VOICE_PAIR_CHANGES.inc(self.room.voice.pair_changes - changes)
        VOICE_SELECT_SECONDS.observe(time.perf_counter() - started)
        self.deliver(outbound)

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run(), name=f"tick {self.room.id}")

    def _count_poses(self) -> None:
        """The tick's pose checks into the metrics: counted per tick, not per frame."""
        stats, counted = self.room.stats, self._poses_counted
        received, accepted, dropped = self.room.inbox.received, stats.poses_accepted, stats.poses_dropped
        BINARY_IN.inc((received - counted[0]) * POSE_FRAME_SIZE)
        POSES_ACCEPTED.inc(accepted - counted[1])
        POSES_DROPPED.inc(dropped - counted[2])
        self._poses_counted = (received, accepted, dropped)

    async def run(self) -> None:
        ROOM_ID.set(self.room.id)  # this task's log lines name its room, not the request that opened it
        REQUEST_ID.set("")
        loop = asyncio.get_running_loop()
        period = 1.0 / self.room.rules.tick_hz
        voice_every = max(1, round(self.room.rules.tick_hz / self.room.rules.voice_hz))
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
                    snapshot = output.snapshot
                    written = 0  # written straight to idle connections; the writer tasks count what they send
                    for visitor_id, session in self.sessions.items():
                        written += session.offer_snapshot(snapshot(visitors[visitor_id].slot))
                    BYTES_OUT.labels("snapshot").inc(written)
                    self._count_poses()
                    if self.room.notices:
                        self.deliver(self.room.take_notices())
                TICK_SECONDS.observe(time.perf_counter() - started)
                if self.room.voice.members and self.room.tick_number % voice_every == 0:
                    self.voice_round()
            now = time.monotonic()
            if now >= next_expiry:  # visitors whose resume window ended leave now
                next_expiry = now + 0.25
                gone, outbound = self.room.expire_away(now)
                if gone:
                    await self.rooms.forget(self, gone, outbound)
            deadline += period
            delay = deadline - loop.time()
            if delay < -period:  # fell behind (a long GC, a busy machine): do not burst to catch up
                deadline = loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))
        await self.rooms.close_if_empty(self)


class LiveRooms:
    def __init__(
        self, scenes: dict[str, Scene], rules: RoomRules, resume_window_s: float = 30.0, replication: Replication | None = None,
        voice: Voice | None = None,
    ):  # fmt: skip
        from thirdspace.config import Settings
        from thirdspace.services.replication import SingleNode

        self.scenes = scenes
        self.revisions: dict[str, int] = {}  # the published revision each live scene shows
        self.directory = RoomDirectory(rules)
        self.runners: dict[str, RoomRunner] = {}
        self.store: Any = MemoryBans()  # kicks and mutes (the store's AsyncDatabase in the server: shared by every node)
        self.mute_minutes = 60.0  # a mute's length when the moderator names none
        self.session_recheck_s = 5.0  # how often signed-in visitors' accounts are checked for revocation
        self._mute_ends: dict[tuple[str, int], float] = {}  # (room id, visitor id) -> when its current mute ends
        self._recheck: asyncio.Task[None] | None = None
        self.watchers: dict[str, set[Session]] = {}  # scene id -> curators' connections watching its draft
        self.translations = ChatTranslations(NoTranslator())
        self.resume_window_s = resume_window_s
        self.draining = False
        self.replication: Replication = replication or SingleNode(self)
        self.voice = voice or Voice(Settings())

    @property
    def cluster(self):
        """The Redis client in cluster mode (for the admin edge, which forwards actions to other nodes), else None."""
        return self.replication.cluster

    def translate(self, runner: RoomRunner, line: dict) -> None:
        """Send each listener the line in their language, when a backend is configured (in the background)."""
        room = runner.room
        listeners = {visitor_id: visitor.language for visitor_id, visitor in room.visitors.items()}
        self.translations.fan_out(
            line, listeners, room.glossary, lambda visitors, update: runner.deliver([Outbound(update, to=v) for v in visitors])
        )

    def load(self) -> tuple[int, int]:
        return sum(len(r.room.visitors) for r in self.runners.values()), len(self.runners)

    def runner_for(self, room: Room) -> RoomRunner:
        runner = self.runners.get(room.id)
        if runner is None:
            runner = self.runners[room.id] = RoomRunner(room, self)
        return runner

    # -- joining, leaving, resuming ------------------------------------------------------

    async def admit(
        self, scene: Scene, hello: Hello, session: Session, identity: str = "", can_guide: bool = False
    ) -> tuple[RoomRunner, Visitor] | Redirect:
        """Put a visitor in a room: resumed in their old slot, in a room with space, or sent to the node that has one."""
        now = time.monotonic()
        bans = await self.store.active_bans(scene.id, ban_lookup(identity))
        await self._refuse_kicked(scene, identity, bans)
        nodes = await self.replication.node_urls()
        if hello.resume and hello.room:
            resumed = await self._resume(scene, hello.room, hello.resume, session, nodes)
            if isinstance(resumed, tuple):
                self._apply_mutes(*resumed, bans)
            if resumed is not None:
                return resumed
        runner = await self.replication.choose(scene, hello.room, frozenset())
        if isinstance(runner, Redirect):
            return runner
        room = runner.room  # no await between the choice of a room with space and the join
        visitor, outbound = room.join(hello.name, hello.language, hello.colour, now, avatar=hello.avatar)
        visitor.can_guide = can_guide
        runner.identities[visitor.id] = identity
        runner.since_ms[visitor.id] = int(time.time() * 1000)
        try:
            await self.replication.member_joined(runner, visitor)
        except ClusterUnavailable:
            runner.identities.pop(visitor.id, None)
            room.leave(visitor.id)
            raise
        outbound[0].message["nodes"] = nodes
        self._voice_config(outbound[0].message, room, visitor)
        runner.sessions[visitor.id] = session  # no await from here to the welcome: it is the first frame sent
        runner.deliver(outbound)
        self._apply_mutes(runner, visitor, bans)
        runner.start()
        if identity.startswith("user:"):
            self._watch_accounts()
        log.info("visitor %s (%s) joined room %s", visitor.id, hello.language, room.id)
        return runner, visitor

    async def _refuse_kicked(self, scene: Scene, identity: str, bans: list[dict[str, Any]]) -> None:
        kick = next((b for b in bans if b["kind"] == "kick"), None)
        if kick is None:
            return
        parts, fresh = identity_parts(identity)
        if fresh:  # known by the address alone: the cookie this connection hands out is banned too
            await self.store.add_bans(scene.id, _of(parts, "browser"), "kick", kick["until_ms"], "address")
        minutes = max(1, round((kick["until_ms"] - time.time() * 1000) / 60000))
        raise ProtocolError("kicked", f"a moderator removed you from this scene; you may come back in {minutes} min", "scene")

    def _apply_mutes(self, runner: RoomRunner, visitor: Visitor, bans: list[dict[str, Any]]) -> None:
        """A muted person who comes back is muted again, and told so."""
        chat = [b["until_ms"] for b in bans if b["kind"] == "mute" and b["chat"]]
        voice = [b["until_ms"] for b in bans if b["kind"] == "mute" and b["voice"]]
        if not chat and not voice:
            return
        until_ms = max(chat + voice)
        self.mute(runner, visitor.id, True, chat=bool(chat), voice=bool(voice), minutes=(until_ms - time.time() * 1000) / 60000)
        runner.deliver([self._muted_message(runner, visitor.id, until_ms)])

    @staticmethod
    def _muted_message(runner: RoomRunner, visitor_id: int, until_ms: int) -> Outbound:
        """Tell the visitor what of theirs is muted now, and until when (epoch ms; 0 when nothing is)."""
        chat, voice = visitor_id in runner.room.muted, visitor_id in runner.room.voice.room_muted
        message = {"type": "muted", "chat": chat, "voice": voice, "until": until_ms if chat or voice else 0}
        return Outbound(message, to=visitor_id)

    async def _resume(
        self, scene: Scene, room_id: str, token: str, session: Session, nodes: list[str]
    ) -> tuple[RoomRunner, Visitor] | Redirect | None:
        visitor_id, _, secret = token.partition(".")
        if not visitor_id.isdigit() or not secret:
            return None
        runner = await self.replication.resume_runner(scene, room_id)
        if runner is None or isinstance(runner, Redirect):
            return runner
        if runner.room.scene.id != scene.id:
            return None
        result = runner.room.reattach(int(visitor_id), secret)
        if result is None:
            return None
        visitor, outbound = result
        old = runner.sessions.get(visitor.id)
        if old is not None:  # the old connection is half-open: this one replaces it
            old.abort()
        outbound[0].message["nodes"] = nodes
        self._voice_config(outbound[0].message, runner.room, visitor)
        runner.sessions[visitor.id] = session
        runner.deliver(outbound)
        runner.start()
        log.info("visitor %s resumed in room %s", visitor.id, room_id)
        return runner, visitor

    def _voice_config(self, welcome: dict[str, Any], room: Room, visitor: Visitor) -> None:
        config = self.voice.client_config(room.voice.rules, room.id, visitor.id)
        if config is not None:
            welcome["voice"] = config

    async def release(self, runner: RoomRunner, visitor: Visitor, session: Session, keep: bool) -> None:
        """A connection ended: keep the visitor's place for the resume window (``keep``), or let them leave now."""
        if runner.sessions.get(visitor.id) is not session:
            return  # a resumed connection took over this visitor
        del runner.sessions[visitor.id]
        if self.draining and self.replication.hands_rooms_over:
            return  # the room went to another node with its members: nobody leaves
        if keep and self.resume_window_s > 0 and visitor.id in runner.room.visitors:
            runner.deliver(runner.room.detach(visitor.id, time.monotonic(), self.resume_window_s))
            self.voice.left(runner.room.id, visitor.id)
            log.info("visitor %s lost its connection in room %s; keeping the place %g s", visitor.id, runner.room.id, self.resume_window_s)
            return
        await self.forget(runner, [visitor.id], runner.room.leave(visitor.id))
        log.info("visitor %s left room %s", visitor.id, runner.room.id)

    async def forget(self, runner: RoomRunner, gone: list[int], outbound: list[Outbound]) -> None:
        """Visitors left the room for good (their ``leave`` messages in ``outbound``)."""
        for visitor_id in gone:
            self.voice.left(runner.room.id, visitor_id)
            runner.identities.pop(visitor_id, None)
            runner.since_ms.pop(visitor_id, None)
            self._mute_ends.pop((runner.room.id, visitor_id), None)
            session = runner.sessions.pop(visitor_id, None)
            if session is not None:
                session.abort()
        runner.deliver(outbound)
        await self.replication.members_left(runner, gone)
        await self.close_if_empty(runner)

    async def close_if_empty(self, runner: RoomRunner) -> None:
        if self.runners.get(runner.room.id) is not runner or not self.directory.close_if_empty(runner.room):
            return
        self.runners.pop(runner.room.id, None)
        self.voice.room_closed(runner.room.id)
        if not self.draining:
            await self.replication.room_closed(runner.room)

    # -- chat and tours beyond this room -----------------------------------------------------

    async def record_chat(self, runner: RoomRunner, line: dict) -> None:
        """Keep a chat line where it outlives this node (cluster mode), before anyone sees it."""
        await self.replication.record_chat(runner, line)

    async def save_tours(self, runner: RoomRunner) -> None:
        await self.replication.save_tours(runner)

    async def publish_room(self, room: Room) -> None:
        """Tell the directory the room's occupancy and lock (cluster mode)."""
        await self.replication.publish_room(room)

    def offer_tour(self, runner: RoomRunner, tour_id: str, announce: bool = True) -> None:
        """A guide started (or took over) a tour: visitors in the scene's other rooms, on any node, may come."""
        guided = runner.room.tours.running.get(tour_id)
        if guided is None:
            return
        offer = runner.room.tour_offer(guided)
        self.deliver_offer(runner.room.scene.id, offer)
        if announce:
            self.replication.announce("tour", {"scene": runner.room.scene.id, "offer": offer})

    def deliver_offer(self, scene_id: str, offer: dict[str, Any]) -> None:
        for room in self.directory.rooms(scene_id):
            runner = self.runners.get(room.id)
            if runner is not None and room.id != offer["room"]:
                runner.deliver([Outbound(offer)])

    # -- live scenes ---------------------------------------------------------------------

    def update_scene(self, scene: Scene, revision: int) -> None:
        """Show a newly published revision: new visitors get it, visitors in its rooms get it now."""
        changed = self.scenes.get(scene.id) is None or self.scenes[scene.id].document != scene.document
        self.scenes[scene.id] = scene
        self.revisions[scene.id] = revision
        for room in self.directory.rooms(scene.id):
            room.set_scene_rules(scene.document, list(scene.blocklist))
            room.set_walk(scene.walk)
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
        if announce:
            self.replication.announce("draft", {"scene": scene_id, "message": message})
        data = encode_control(message)
        for session in self.watchers.get(scene_id, ()):
            session.send(data)

    # -- moderation ----------------------------------------------------------------------

    def runner(self, room_id: str) -> RoomRunner | None:
        return self.runners.get(room_id)

    def mute(
        self, runner: RoomRunner, visitor_id: int, muted: bool, chat: bool = True, voice: bool = True, minutes: float | None = None
    ) -> None:
        """Mute (or unmute) a visitor's chat, voice or both in the room, for ``minutes`` (default ``mute_minutes``);
        the visitor is told about their voice.  :meth:`moderate_mute` also keeps it for the person."""
        if chat:
            (runner.room.muted.add if muted else runner.room.muted.discard)(visitor_id)
        if voice:
            runner.deliver(runner.room.mute_voice(visitor_id, muted))
            (self.voice.muted if muted else self.voice.unmuted)(runner.room.id, visitor_id)
        key = (runner.room.id, visitor_id)
        if not muted:
            self._mute_ends.pop(key, None)
            return
        seconds = max(0.0, (self.mute_minutes if minutes is None else minutes) * 60)
        ends = self._mute_ends[key] = time.monotonic() + seconds

        def end() -> None:  # the mute's window is over: unmute, unless the visitor left or was muted again since
            if self._mute_ends.get(key) == ends and self.runners.get(runner.room.id) is runner and visitor_id in runner.room.visitors:
                self.mute(runner, visitor_id, False, chat=chat, voice=voice)
                runner.deliver([self._muted_message(runner, visitor_id, 0)])

        asyncio.get_running_loop().call_later(seconds, end)

    async def moderate_mute(
        self, runner: RoomRunner, visitor_id: int, muted: bool, chat: bool, voice: bool, minutes: float | None, by: str
    ) -> None:
        """A moderator's mute: in the room now, and kept in the store for the person (their account or browser) so
        that it holds in every room of the scene, on every node, until it ends (or a moderator lifts it)."""
        minutes = self.mute_minutes if minutes is None else minutes
        targets = mute_targets(runner.identities.get(visitor_id, ""))
        if muted:
            await self.store.add_bans(runner.room.scene.id, targets, "mute", int(time.time() * 1000 + minutes * 60000), by, chat, voice)
        else:
            await self.store.lift_mutes(runner.room.scene.id, targets, chat, voice)
        if visitor_id in runner.room.visitors:
            self.mute(runner, visitor_id, muted, chat=chat, voice=voice, minutes=minutes)
            runner.deliver([self._muted_message(runner, visitor_id, int(time.time() * 1000 + minutes * 60000))])

    async def kick(self, runner: RoomRunner, visitor_id: int, minutes: float, by: str = "") -> None:
        """Remove the visitor and keep them out of every room of the scene (on every node) for ``minutes``: their
        account and browser when signed in, their browser and address otherwise (``kick_targets``)."""
        targets = kick_targets(runner.identities.get(visitor_id, ""))
        if targets and minutes > 0:
            await self.store.add_bans(runner.room.scene.id, targets, "kick", int(time.time() * 1000 + minutes * 60000), by)
        session = runner.sessions.get(visitor_id)
        if session is not None:
            await session.close(CLOSE_KICKED, f"removed by a moderator for {minutes:g} min")
        if visitor_id in runner.room.visitors and runner.sessions.get(visitor_id) is None:  # away, or its connection
            await self.forget(runner, [visitor_id], runner.room.leave(visitor_id))  # did not end: no place to resume

    # -- accounts ------------------------------------------------------------------------

    def _watch_accounts(self) -> None:
        if self._recheck is None or self._recheck.done():
            self._recheck = asyncio.create_task(self._recheck_accounts(), name="account recheck")

    async def _recheck_accounts(self) -> None:
        """While signed-in visitors are connected: every ``session_recheck_s``, end the connections of users
        who were removed or whose tokens were revoked since they connected (by any node, or the command line)."""
        while True:
            await asyncio.sleep(self.session_recheck_s)
            if not await self.end_revoked():
                return

    async def end_revoked(self, user_id: int | None = None) -> int:
        """Close the connections of removed or revoked users (only ``user_id``'s, when given) now; the number of
        signed-in visitors still connected."""
        signed_in: dict[int, list[tuple[RoomRunner, int]]] = {}
        for runner in list(self.runners.values()):
            for visitor_id, identity in runner.identities.items():
                user = _of(identity_parts(identity)[0], "user")
                if user and user[0][5:].isdigit():
                    signed_in.setdefault(int(user[0][5:]), []).append((runner, visitor_id))
        if not signed_in or not hasattr(self.store, "user_states"):
            return len(signed_in)
        checked = [user_id] if user_id is not None else list(signed_in)
        try:
            states = await self.store.user_states(checked)
        except Exception:  # the store is away: try again next time
            log.exception("cannot check signed-in visitors' accounts")
            return len(signed_in)
        for uid in checked:
            for runner, visitor_id in signed_in.get(uid, []):
                since = runner.since_ms.setdefault(visitor_id, int(time.time() * 1000))  # resumed here from another node
                revoked = uid not in states or (states[uid] or 0) >= since
                if not revoked:
                    continue
                session = runner.sessions.get(visitor_id)
                if session is not None:
                    await session.close(CLOSE_KICKED, "this account was signed out by an administrator")
                if visitor_id in runner.room.visitors and runner.sessions.get(visitor_id) is None:
                    await self.forget(runner, [visitor_id], runner.room.leave(visitor_id))
                log.info("visitor %s of user %s signed out: the account was revoked or removed", visitor_id, uid)
        return len(signed_in)

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

    # -- shutting down -------------------------------------------------------------------

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Graceful shutdown: in cluster mode every room and its visitors go to another node."""
        self.draining = True
        await self.replication.drain(timeout_s)

    async def close(self, code: int, reason: str) -> None:
        sessions = [s for r in self.runners.values() for s in r.sessions.values()]
        sessions += [s for watchers in self.watchers.values() for s in watchers]
        await asyncio.gather(*(s.close(code, reason) for s in sessions), return_exceptions=True)
        for runner in self.runners.values():
            if runner.task is not None:
                runner.task.cancel()
