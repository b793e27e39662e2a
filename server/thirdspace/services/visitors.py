"""What one visitor's connection asks for, carried out against the live rooms and the store.

The WebSocket adapter (``web/ws.py``) feeds frames to a
:class:`~thirdspace.protocol.connection.Connection`; each
:class:`~thirdspace.protocol.connection.Request` it yields comes here, to the
handler for its message type.  A handler acts on a room (join, chat, tours,
poses) or the store (watch, report) and answers with more connection events:
refusals go back through :meth:`Connection.refuse`, so the error budget counts
a room's refusals as it counts decoding errors.  A new message type is a
decoder in ``protocol/codec.py`` and one handler here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from thirdspace.chat.moderation import blocklist_of
from thirdspace.cluster.node import ClusterUnavailable
from thirdspace.logs import ROOM_ID
from thirdspace.metrics import CHAT_MESSAGES, CHAT_SECONDS, VOICE_SIGNALS
from thirdspace.protocol.codec import Chat, Hello, ProtocolError, Quick, Report, Signal, TourAction, VoiceState, Watch, encode_control
from thirdspace.protocol.connection import Connection, Event, Message, Pose, Request, Send
from thirdspace.rooms.room import Outbound, Visitor
from thirdspace.services.voice import VoiceProblem
from thirdspace.store import ROLES, NotFound, User

log = logging.getLogger(__name__)

SIGNALS_RELAYED = VOICE_SIGNALS.labels("relayed")
SIGNALS_REFUSED = VOICE_SIGNALS.labels("refused")


def _at_least(user: User | None, role: str) -> bool:
    return user is not None and ROLES.index(user.role) >= ROLES.index(role)


class VisitorRequests:
    """The requests of one connection: who is asking, and (once a hello is accepted) their room and visitor."""

    def __init__(self, rooms: Any, store: Any, session: Any, connection: Connection, user: User | None, identity: str):
        self.rooms = rooms  # the live rooms service (placement, delivery, tours across rooms, watchers)
        self.store = store  # the store's async face (services/store.py)
        self.session = session  # where room messages for this visitor are queued
        self.connection = connection
        self.user = user
        self.identity = identity  # "user:ID" or "addr:IP", for bans
        self.member: tuple[Any, Visitor] | None = None  # (room runner, visitor) once a hello is accepted
        self.watching: str | None = None  # the scene whose draft a curator's connection watches
        self._handlers: dict[type, Callable[[Any, float], Awaitable[list[Event]]]] = {
            Hello: self.hello,
            Watch: self.watch,
            Chat: self.chat,
            Quick: self.chat,
            TourAction: self.tour,
            Report: self.report,
            Pose: self.pose,
            VoiceState: self.voice,
            Signal: self.signal,
        }

    async def handle(self, request: Request) -> list[Event]:
        try:
            return await self._handlers[type(request.message)](request.message, request.now)
        except ProtocolError as err:
            return self.connection.refuse(err)
        except ClusterUnavailable as exc:  # Redis is away: this line, tour step or place could not be kept
            log.warning("room %s: %s", self.member[0].room.id if self.member else "-", exc)
            return self.connection.refuse(ProtocolError("unavailable", "the server could not do that right now; try again shortly"))

    def _refused(self, outbound: list[Outbound]) -> dict[str, Any] | None:
        """The room's refusal of this visitor's request, if that is what ``outbound`` is."""
        if len(outbound) == 1 and outbound[0].message.get("type") == "error":
            return outbound[0].message
        return None

    # -- handlers: one per message type --------------------------------------------------------

    async def hello(self, hello: Message, now: float) -> list[Event]:
        assert isinstance(hello, Hello)
        scene = self.rooms.scenes.get(hello.scene)
        if scene is None:
            raise ProtocolError("unknown_scene", f"no scene {hello.scene!r}", "scene")
        terms = scene.chat_blocklist
        if terms and blocklist_of(terms).matches(hello.name):
            raise ProtocolError("blocked", "this name contains words this scene's curators do not allow", "name")
        try:
            admitted = await self.rooms.admit(scene, hello, self.session, self.identity, _at_least(self.user, "guide"))
        except ClusterUnavailable as exc:
            log.warning("cannot place a visitor: %s", exc)
            raise ProtocolError("unavailable", "the server cannot place visitors right now; try again shortly", "scene") from None
        if not isinstance(admitted, tuple):  # the room is on another node: the client reconnects there
            welcome = {"type": "welcome", "redirect": admitted.url, "room": admitted.room}
            return [Send(encode_control(welcome)), *self.connection.close(1000, "redirected")]
        self.member = admitted
        self.connection.joined()
        ROOM_ID.set(admitted[0].room.id)
        return []

    async def watch(self, watch: Message, now: float) -> list[Event]:
        assert isinstance(watch, Watch)
        if not _at_least(self.user, "curator"):
            raise ProtocolError("forbidden", "watching a draft needs the curator role", "type")
        try:
            record = await self.store.scene(watch.scene)
        except NotFound:
            raise ProtocolError("unknown_scene", f"no scene {watch.scene!r}", "scene") from None
        if self.watching is not None:
            self.rooms.unwatch(self.session)
        self.watching = record.id
        self.rooms.watch(record.id, self.session)
        return self.connection.watching(record.id, record.draft_revision)

    async def chat(self, message: Message, now: float) -> list[Event]:
        assert self.member is not None and isinstance(message, Chat | Quick)
        runner, visitor = self.member
        received = time.perf_counter()
        async with runner.chat_lock:  # lines are kept and delivered in the order they are numbered
            if isinstance(message, Chat):
                outbound = runner.room.chat(visitor.id, message.text, now)
            else:
                quick = {"phrase": message.phrase} | ({"thing": message.thing} if message.thing else {})
                outbound = runner.room.chat(visitor.id, "", now, quick=quick)
            refusal = self._refused(outbound)
            if refusal is not None:
                return self.connection.refuse(refusal)
            line = outbound[0].message
            await self.rooms.record_chat(runner, line)  # cluster mode: in Redis before anyone sees it
            runner.deliver(outbound)
        CHAT_MESSAGES.inc()
        CHAT_SECONDS.observe(time.perf_counter() - received)
        if "quick" not in line:  # phrases come from curated tables; free text may need translating
            self.rooms.translate(runner, line)
        return []

    async def tour(self, action: Message, now: float) -> list[Event]:
        assert self.member is not None and isinstance(action, TourAction)
        runner, visitor = self.member
        outbound = runner.room.tour(visitor.id, action.action, action.tour, action.stop, action.to)
        refusal = self._refused(outbound)
        if refusal is not None:
            return self.connection.refuse(refusal)
        runner.deliver(outbound)
        await self.rooms.save_tours(runner)
        if action.action in ("start", "lead"):
            self.rooms.offer_tour(runner, action.tour)
        return []

    async def report(self, report: Message, now: float) -> list[Event]:
        assert self.member is not None and isinstance(report, Report)
        runner, visitor = self.member
        line = next((m for m in runner.room.chat_log if m["id"] == report.message), None)
        if line is None:
            raise ProtocolError("bad_request", f"no recent line {report.message} in this room", "message")
        who = f"{visitor.name} ({self.identity})"
        await self.store.add_report(runner.room.id, runner.room.scene.id, line, report.reason, who)
        return [Send(encode_control({"type": "reported", "message": report.message}))]

    def take_pose(self, events: list[Event]) -> bool:
        """The fast path of the one frame most visitors send: if ``events`` is just a pose request, hand its frame
        to the room (checked at its next tick; a walk refusal's notice comes from the tick) and return True."""
        if len(events) != 1:
            return False
        request = events[0]
        if type(request) is not Request or type(request.message) is not Pose or self.member is None:
            return False
        runner, visitor = self.member
        runner.room.queue_pose(visitor.id, request.message.frame, request.now)
        return True

    async def pose(self, pose: Message, now: float) -> list[Event]:
        assert self.member is not None and isinstance(pose, Pose)
        runner, visitor = self.member
        runner.room.queue_pose(visitor.id, pose.frame, now)
        return []

    async def voice(self, state: Message, now: float) -> list[Event]:
        assert self.member is not None and isinstance(state, VoiceState)
        runner, visitor = self.member
        voice = self.rooms.voice
        if not voice.enabled:
            raise ProtocolError("voice_unavailable", "this server has voice turned off", "type")
        limited = runner.room.voice_limit(visitor.id, now)  # each change may cost the SFU a request
        if limited is not None:
            return self.connection.refuse(limited)
        extra = feed = None
        if state.listen or state.speak:
            try:
                admitted = await voice.admit(runner.room.id, visitor.id)  # the SFU's room and this visitor's token
            except VoiceProblem:
                raise ProtocolError("unavailable", "voice is unavailable right now; try again shortly", "type") from None
            if admitted is not None:
                extra, feed = admitted
            if visitor.id not in runner.room.visitors:  # left while the SFU answered
                return []
        elif visitor.id in runner.room.voice.members:
            voice.left(runner.room.id, visitor.id)
        may_announce = _at_least(self.user, "curator")
        outbound = runner.room.set_voice(visitor.id, state.listen, state.speak, state.announce, now, may_announce, extra, feed or 0)
        refusal = self._refused(outbound)
        if refusal is not None:
            return self.connection.refuse(refusal)
        runner.deliver(outbound)
        return []

    async def signal(self, signal: Message, now: float) -> list[Event]:
        assert self.member is not None and isinstance(signal, Signal)
        runner, visitor = self.member
        outbound = runner.room.relay_signal(visitor.id, signal.to, signal.kind, signal.payload, now)
        refusal = self._refused(outbound)
        if refusal is not None:
            SIGNALS_REFUSED.inc()
            return self.connection.refuse(refusal)
        SIGNALS_RELAYED.inc()
        runner.deliver(outbound)
        return []

    # -- the end -------------------------------------------------------------------------------

    async def end(self) -> None:
        """The connection is gone: keep the visitor's place for the resume window, or let them leave now."""
        if self.member is not None:
            keep = not self.connection.left_on_purpose and not self.session.closed_by_server
            await self.rooms.release(*self.member, self.session, keep)
        self.rooms.unwatch(self.session)
