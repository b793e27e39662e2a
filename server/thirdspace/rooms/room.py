"""One room: an instance of a scene with its visitors, their poses and chat.

The room is pure state: handlers take plain values (and the current time) and
return :class:`Outbound` messages for the session layer to deliver.  Avatar
poses live in numpy arrays indexed by slot; the tick hands them to the sync
engine, whose kernels write every visitor's snapshot into one buffer.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thirdspace.chat import glossary
from thirdspace.chat.languages import mismatch
from thirdspace.chat.moderation import blocklist_of, clean, match_key
from thirdspace.chat.quick import needs_thing, node_name, phrases, render
from thirdspace.protocol.codec import ProtocolError, encode_pose
from thirdspace.protocol.constants import DEFAULT_AVATAR, FLAG_TELEPORT, PART_FLOATS, PARTS, PROTOCOL_VERSION
from thirdspace.rooms.inbox import PoseInbox, check_all
from thirdspace.scenes import walk as walking
from thirdspace.scenes.model import Scene
from thirdspace.sync import validate
from thirdspace.sync.engine import SyncEngine, SyncSettings, TickOutput
from thirdspace.tours.guide import GuidedTour, RoomTours, TourError
from thirdspace.voice.room import Delivery, RoomVoice, VoiceError, VoiceRules

EYE_HEIGHT_M = 1.6
DUPLICATE_WINDOW_S = 30.0  # the same line again within this is refused
VOICE_BURST = 10  # voice state changes (microphone on and off, push-to-talk aside) in a burst...
VOICE_PER_S = 2.0  # ...then this many a second
WALK_NOTICE_EVERY_S = 1.0  # a visitor whose poses the walk check refuses is told at most this often
log = logging.getLogger(__name__)


class RoomFull(Exception):
    pass


@dataclass(frozen=True)
class RoomRules:
    """Tunable limits; defaults come from Settings."""

    tick_hz: float = 20.0
    max_speed_mps: float = 10.0  # head speed above this is not a walk
    teleport_range_m: float = 12.0  # farthest jump a pose flagged as teleport may make
    teleport_interval_s: float = 0.5  # at most one teleport this often
    hand_reach_m: float = 1.5  # hands stay this close to the head
    chat_history: int = 100
    chat_burst: int = 5
    chat_per_s: float = 0.5
    sync: SyncSettings = field(default_factory=SyncSettings)
    voice: VoiceRules = field(default_factory=VoiceRules)
    voice_hz: float = 2.0  # voice pairs are chosen again this often


@dataclass(frozen=True)
class Outbound:
    """A message for the session layer: to one visitor, or to everyone but ``exclude``."""

    message: dict[str, Any]
    to: int | None = None
    exclude: int | None = None


@dataclass
class Visitor:
    id: int
    slot: int
    name: str
    language: str
    colour: str
    chat_tokens: float
    chat_checked_at: float
    dropped_poses: int = 0
    last_key: str = ""  # the match key of the visitor's last free-text line (duplicate suppression)
    last_said_at: float = -1e9
    can_guide: bool = False  # signed in with the guide role (or above): may lead tours
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))  # proves a resuming connection is this visitor
    away_until: float | None = None  # connection lost: the visitor keeps the slot until then (monotonic time)
    avatar: str = DEFAULT_AVATAR  # the avatar style others see (protocol.constants.AVATAR_STYLES)
    walk_refused: int = 0  # the walk check's reason for the last pose it refused, until the visitor is told
    walk_told_at: float = -1e9
    voice_tokens: float = 10.0  # voice state changes: a burst of VOICE_BURST, then VOICE_PER_S
    voice_checked_at: float = 0.0

    @property
    def resume_token(self) -> str:
        return f"{self.id}.{self.secret}"

    def presence(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "language": self.language, "colour": self.colour, "avatar": self.avatar}


@dataclass
class RoomStats:
    poses_accepted: int = 0
    poses_dropped: int = 0
    poses_not_walkable: int = 0  # of those dropped, by the walk check


@dataclass
class Room:
    id: str
    scene: Scene
    rules: RoomRules = field(default_factory=RoomRules)

    def __post_init__(self) -> None:
        capacity = self.scene.capacity
        self.capacity = capacity
        self.visitors: dict[int, Visitor] = {}
        self.stats = RoomStats()
        self.tick_number = 0
        self.chat_log: deque[dict[str, Any]] = deque(maxlen=self.rules.chat_history)
        self._chat_seq = 0
        self._next_id = 1
        self.muted: set[int] = set()  # visitors whose chat the room refuses
        self.locked = False  # a locked room takes no new visitors
        self.set_scene_rules(self.scene.document, list(self.scene.chat_blocklist))
        self.tours = RoomTours()
        self._free_slots = list(range(capacity - 1, -1, -1))
        # Structure of arrays, one row per slot.
        self.ids = np.zeros(capacity, dtype=np.uint16)
        self.flags = np.zeros(capacity, dtype=np.uint8)
        self.parts = np.zeros((capacity, len(PARTS), PART_FLOATS), dtype=np.float32)
        self.has_pose = np.zeros(capacity, dtype=bool)  # visible to others
        self.occupied = np.zeros(capacity, dtype=bool)
        self.always_visible = np.zeros(capacity, dtype=bool)
        self.sync = SyncEngine(capacity, self.scene.bounds_min, self.scene.bounds_max, self.rules.sync)
        self._bounds_min = np.asarray(self.scene.bounds_min, dtype=np.float64)
        self._bounds_max = np.asarray(self.scene.bounds_max, dtype=np.float64)
        # Newest validated pose per slot since the last tick, and what the speed check needs.
        self._inbox_parts = np.zeros_like(self.parts)
        self._inbox_flags = np.zeros(capacity, dtype=np.uint8)
        self._pending = np.zeros(capacity, dtype=bool)
        self._last_pose_at = np.full(capacity, np.nan)
        self._teleport_ready_at = np.zeros(capacity)
        # Where each visitor last stood on walkable floor (x, z): a head may lean LEAN_M from it (scenes/walk.py).
        self.walk: walking.WalkGrid | None = self.scene.walk
        self._anchor = np.zeros((capacity, 2))
        # Pose frames as they arrive, checked at the next tick (rooms/inbox.py); what those checks tell visitors.
        self.inbox = PoseInbox(max(64, 2 * capacity))
        self.notices: list[Outbound] = []
        self._pose = np.zeros((len(PARTS), PART_FLOATS), np.float32)
        self._no_grid = np.zeros((1, 1), np.float32)
        self.voice = RoomVoice(self._voice_rules(self.scene.document), capacity)

    # -- membership ---------------------------------------------------------------

    @property
    def is_full(self) -> bool:
        return not self._free_slots

    @property
    def is_empty(self) -> bool:
        return not self.visitors

    def join(
        self,
        name: str,
        language: str,
        colour: str,
        now: float | None = None,
        visitor_id: int | None = None,
        secret: str | None = None,
        avatar: str = DEFAULT_AVATAR,
    ) -> tuple[Visitor, list[Outbound]]:
        """A new visitor (or, with ``visitor_id`` and ``secret``, a member brought back into a reopened room)."""
        if self.is_full:
            raise RoomFull(self.id)
        self.check_poses()  # the slot's state is set below: nothing waiting may apply to it after that
        now = time.monotonic() if now is None else now
        if visitor_id is not None and visitor_id in self.visitors:
            raise ValueError(f"visitor {visitor_id} is already in room {self.id}")
        visitor = Visitor(
            id=self._allocate_id() if visitor_id is None else visitor_id,
            slot=self._free_slots.pop(),
            name=name,
            language=language,
            colour=colour,
            chat_tokens=float(self.rules.chat_burst),
            chat_checked_at=now,
            voice_checked_at=now,
            avatar=avatar,
        )
        if secret is not None:
            visitor.secret = secret
        self.visitors[visitor.id] = visitor
        spawn = self.spawn_of(visitor.id)
        slot = visitor.slot
        self.ids[slot] = visitor.id
        self.occupied[slot] = True
        self.always_visible[slot] = False
        # Visitors appear standing at their spawn point until their first pose.
        half_yaw = math.radians(spawn.get("yaw_deg", 0.0)) / 2
        self.parts[slot] = 0.0
        self.parts[slot, :, 6] = 1.0
        self.parts[slot, 0] = (
            spawn["position"][0],
            spawn["position"][1] + EYE_HEIGHT_M,
            spawn["position"][2],
            0,
            math.sin(half_yaw),
            0,
            math.cos(half_yaw),
        )
        self.flags[slot] = 0
        self.has_pose[slot] = True
        self._pending[slot] = False
        self._last_pose_at[slot] = np.nan  # the first pose is checked against the bounds only
        self._teleport_ready_at[slot] = 0.0
        self._anchor[slot] = (spawn["position"][0], spawn["position"][2])
        self.sync.reset_client(slot)
        return visitor, [
            Outbound(self.welcome(visitor), to=visitor.id),
            Outbound({"type": "join", "visitor": visitor.presence()}, exclude=visitor.id),
        ]

    def spawn_of(self, visitor_id: int) -> dict[str, Any]:
        spawns = self.scene.document["spawn_points"]
        return spawns[(visitor_id - 1) % len(spawns)]

    def welcome(self, visitor: Visitor, resumed: bool = False) -> dict[str, Any]:
        welcome = {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "id": visitor.id,
            "room": self.id,
            "scene": self.scene.id,
            "tick_hz": self.rules.tick_hz,
            "bounds": {"min": list(self.scene.bounds_min), "max": list(self.scene.bounds_max)},
            "spawn": self.spawn_of(visitor.id),
            "interest_radius_m": self.rules.sync.interest_radius_m,
            "visitors": [v.presence() for v in self.visitors.values()],
            "chat": list(self.chat_log),
            "resume": visitor.resume_token,
        }
        if resumed:
            welcome["resumed"] = True
        return welcome

    def restore_chat(self, lines: list[dict[str, Any]]) -> None:
        """Chat history kept outside the room (cluster mode): new lines carry on numbering after it."""
        self.chat_log.extend(lines)
        self._chat_seq = max([self._chat_seq, *(line.get("id", 0) for line in lines)])

    # -- connection lost and regained -------------------------------------------------

    def detach(self, visitor_id: int, now: float, window_s: float) -> list[Outbound]:
        """The visitor's connection dropped: keep their slot, name, tour place and pose for ``window_s``.

        The others are not told; the avatar simply stands still until the visitor is back or the window ends.
        Only their voice ends now (the page turns it on again when it resumes): the answer is what partners are told.
        """
        self.visitors[visitor_id].away_until = now + window_s
        return self._outbound(self.voice.leave(visitor_id))

    def reattach(self, visitor_id: int, secret: str) -> tuple[Visitor, list[Outbound]] | None:
        """A resuming connection: the same visitor again, if the secret matches; ``None`` if not."""
        visitor = self.visitors.get(visitor_id)
        if visitor is None or not secrets.compare_digest(visitor.secret, secret):
            return None
        visitor.away_until = None
        self.sync.reset_client(visitor.slot)  # the new connection has no snapshot baseline
        out = [Outbound(self.welcome(visitor, resumed=True), to=visitor.id)]
        guided = self.tours.of(visitor_id)
        if guided is not None:
            out.append(Outbound(guided.state(), to=visitor.id))
        return visitor, out

    def expire_away(self, now: float) -> tuple[list[int], list[Outbound]]:
        """Visitors whose resume window has ended leave now: their ids, and the messages that says so."""
        gone = [v.id for v in self.visitors.values() if v.away_until is not None and v.away_until <= now]
        out: list[Outbound] = []
        for visitor_id in gone:
            out += self.leave(visitor_id)
        return gone, out

    def set_scene_rules(self, document: dict[str, Any], blocklist: list[str] | None = None) -> None:
        """The scene as visitors see it now (for quick-chat names) and its chat rules (blocklist, glossary)."""
        self.document = document
        rules = document.get("chat", {})
        self.blocklist = blocklist_of(tuple(rules.get("blocklist", []) if blocklist is None else blocklist))
        self.glossary = glossary.parse(rules.get("glossary"))
        if hasattr(self, "voice"):
            self.voice.rules = self._voice_rules(document)

    def _voice_rules(self, document: dict[str, Any]) -> VoiceRules:
        radius = document.get("voice", {}).get("hearing_radius_m")
        return self.rules.voice if radius is None else dataclasses.replace(self.rules.voice, hearing_radius_m=float(radius))

    def tour(self, visitor_id: int, action: str, tour_id: str, stop: str | None = None, to: int | None = None) -> list[Outbound]:
        """Start, join, leave or lead a guided tour; everyone in it gets the new state."""
        visitor = self.visitors[visitor_id]
        before = self.tours.running.get(tour_id)
        old_guide = before.guide if before else None
        previous = self.tours.of(visitor_id)  # a start or join elsewhere takes the visitor out of this one
        previous_guide = previous.guide if previous else None
        guides = {v: self.visitors[v].can_guide for v in self.visitors}
        try:
            if action != "leave" and tour_id not in self.tours.running:
                self.tours.find(self.document, tour_id)  # unknown_tour, whatever the action, for a tour the scene lacks
            if action == "start":
                guided = self.tours.start(visitor_id, visitor.can_guide, self.document, tour_id, guides)
            elif action == "join":
                guided = self.tours.join(visitor_id, tour_id, guides)
            elif action == "leave":
                left = self.tours.leave(visitor_id, guides)
                return [Outbound({"type": "tour_left", "tour": tour_id}, to=visitor_id), *self._tour_state(left, old_guide)]
            elif action in ("next", "prev", "goto"):
                step = {"next": 1, "prev": -1, "goto": 0}[action]
                guided = self.tours.move(visitor_id, tour_id, step=step, stop=stop if action == "goto" else None)
            elif action == "lead":
                guided = self.tours.hand_over(visitor_id, tour_id, to if to is not None else -1)
            else:
                raise TourError("bad_request", f"no tour action {action!r}", "action")
        except TourError as err:
            return [Outbound(ProtocolError(err.code, err.message, err.field).to_message(), to=visitor_id)]
        out: list[Outbound] = []
        if previous is not None and previous is not guided:  # the tour the visitor left carries on, or ended
            carrying_on = previous if self.tours.running.get(previous.id) is previous else None
            out += [Outbound({"type": "tour_left", "tour": previous.id}, to=visitor_id), *self._tour_state(carrying_on, previous_guide)]
        out += self._tour_state(guided, old_guide)
        if action in ("start", "lead"):  # everyone else in the room may join
            announce = self.tour_offer(guided)
            out += [Outbound(announce, to=v) for v in self.visitors if v not in guided.everyone]
        return out

    def tour_offer(self, guided: GuidedTour) -> dict[str, Any]:
        """The announcement of a guided tour: who leads it, and in which room (visitors elsewhere may come)."""
        name = self.visitors[guided.guide].name
        return {"type": "tour_available", "tour": guided.id, "guide": guided.guide, "name": name, "room": self.id}

    def _tour_state(self, guided: GuidedTour | None, old_guide: int | None) -> list[Outbound]:
        if old_guide is not None and old_guide in self.visitors and (guided is None or guided.guide != old_guide):
            self.set_always_visible(old_guide, False)
        if guided is None:
            return []
        self.set_always_visible(guided.guide, True)  # the group always sees its guide, however far
        state = guided.state()
        return [Outbound(state, to=member) for member in guided.everyone]

    def leave(self, visitor_id: int) -> list[Outbound]:
        self.check_poses()  # the poses waiting are checked while every sender still has its slot
        self.muted.discard(visitor_id)
        voice = self._outbound(self.voice.leave(visitor_id))
        self.voice.room_muted.discard(visitor_id)
        touring = self.tours.of(visitor_id)
        handed: list[Outbound] = []
        if touring is not None:
            carrying_on = self.tours.leave(visitor_id, {v: self.visitors[v].can_guide for v in self.visitors})
            if carrying_on is not None:
                self.set_always_visible(carrying_on.guide, True)
                handed = [Outbound(carrying_on.state(), to=m) for m in carrying_on.everyone]
        visitor = self.visitors.pop(visitor_id, None)
        if visitor is None:
            return []
        self.has_pose[visitor.slot] = False
        self.occupied[visitor.slot] = False
        self.always_visible[visitor.slot] = False
        self.flags[visitor.slot] = 0
        self._pending[visitor.slot] = False
        self._free_slots.append(visitor.slot)
        return [Outbound({"type": "leave", "id": visitor_id}), *handed, *voice]

    def set_always_visible(self, visitor_id: int, visible: bool) -> None:
        """Make a visitor (a tour guide, say) visible to everyone in the room, however far."""
        self.always_visible[self.visitors[visitor_id].slot] = visible

    def _allocate_id(self) -> int:
        while True:
            candidate = self._next_id
            self._next_id = self._next_id % 65535 + 1
            if candidate not in self.visitors:
                return candidate

    # -- poses --------------------------------------------------------------------

    def queue_pose(self, visitor_id: int, frame: bytes, now: float) -> None:
        """Keep an uplink pose frame (88 bytes, kind checked) for the checks at the next tick (``check_poses``)."""
        if self.inbox.full:
            self.check_poses()
        self.inbox.put(self.visitors[visitor_id].slot, frame, now)

    def accept_pose(self, visitor_id: int, flags: int, parts: np.ndarray, now: float, ack: int = 0) -> bool:
        """Check one pose now (after those waiting): True if kept for the next tick, False if dropped."""
        self.check_poses()
        self.queue_pose(visitor_id, encode_pose(parts, flags, ack), now)
        k = self.inbox.count - 1
        self.check_poses()
        return not (self.inbox.codes[k] or self.inbox.walk_codes[k])

    def check_poses(self) -> None:
        """Check the waiting pose frames, oldest first: take each one's snapshot ack, keep a plausible pose in the
        inbox arrays for the tick (newest wins), drop and count the rest; a walk refusal may earn its sender a
        ``not_walkable`` notice in ``notices``."""
        inbox = self.inbox
        count = inbox.count
        if count == 0:
            return
        rules = self.rules
        grid = self.walk
        floor, top = (grid.floor, grid.top) if grid is not None else (self._no_grid, self._no_grid)
        x0, z0, cell = (grid.origin_x, grid.origin_z, grid.cell_m) if grid is not None else (0.0, 0.0, 1.0)
        check_all(
            count, inbox.frames, inbox.words, inbox.slots, inbox.times, inbox.codes, inbox.walk_codes, self._pose,
            self.sync.client_ack, grid is not None, floor, top, x0, z0, cell, self._anchor, self._bounds_min,
            self._bounds_max, rules.max_speed_mps, rules.teleport_range_m, rules.teleport_interval_s, rules.hand_reach_m,
            self.parts, self._inbox_parts, self._inbox_flags, self._pending, self._last_pose_at, self._teleport_ready_at,
        )  # fmt: skip
        inbox.count = 0
        refused = np.flatnonzero(inbox.codes[:count] | inbox.walk_codes[:count])
        self.stats.poses_accepted += count - len(refused)
        for k in refused:  # rare: most visitors' poses are plausible
            visitor = self.visitors[int(self.ids[inbox.slots[k]])]
            visitor.dropped_poses += 1
            self.stats.poses_dropped += 1
            walk_code = int(inbox.walk_codes[k])
            if walk_code:
                visitor.walk_refused = walk_code
                self.stats.poses_not_walkable += 1
                notice = self.walk_notice(visitor.id, float(inbox.times[k]))
                if notice is not None:
                    self.notices.append(Outbound(notice, to=visitor.id))
            else:
                log.debug("room %s: pose from visitor %s dropped: %s", self.id, visitor.id, validate.REASONS[int(inbox.codes[k])])

    def take_notices(self) -> list[Outbound]:
        notices, self.notices = self.notices, []
        return notices

    def walk_notice(self, visitor_id: int, now: float) -> dict[str, Any] | None:
        """After a pose the walk check refused: the ``error`` to send (``not_walkable``, with the position the room
        keeps for the visitor), at most once every WALK_NOTICE_EVERY_S; None if nothing is due."""
        visitor = self.visitors[visitor_id]
        if not visitor.walk_refused or now - visitor.walk_told_at < WALK_NOTICE_EVERY_S:
            return None
        reason = walking.REASONS[visitor.walk_refused]
        visitor.walk_refused, visitor.walk_told_at = 0, now
        slot = visitor.slot
        kept = self._latest_parts(slot)[0, :3]
        message = ProtocolError("not_walkable", f"that pose is {reason}: you stay where you were", "pose").to_message()
        message["at"] = [round(float(v), 3) for v in kept]
        return message

    def _latest_parts(self, slot: int) -> np.ndarray:
        """The visitor's newest accepted pose: waiting in the inbox for the next tick, else the last tick's."""
        return (self._inbox_parts if self._pending[slot] else self.parts)[slot]

    def set_walk(self, grid: walking.WalkGrid | None) -> None:
        """The scene's walkable space changed (a publish): check poses against the new one from now on."""
        self.walk = grid

    # -- tick ---------------------------------------------------------------------

    def tick(self) -> TickOutput:
        """Apply the newest pose of each visitor, then encode every visitor's snapshot."""
        self.check_poses()
        self.tick_number += 1
        slots = np.flatnonzero(self._pending)
        if len(slots):
            self.parts[slots] = self._inbox_parts[slots]
            self.flags[slots] = self._inbox_flags[slots]
            self._pending[slots] = False
        clients = np.flatnonzero(self.occupied)
        always = np.flatnonzero(self.always_visible & self.occupied)
        output = self.sync.tick(self.tick_number, self.parts, self.flags, self.has_pose, self.ids, clients, always)
        self.flags &= ~np.uint8(FLAG_TELEPORT)
        return output

    # -- voice --------------------------------------------------------------------

    def set_voice(
        self, visitor_id: int, listen: bool, speak: bool, announce: bool, now: float, may_announce: bool = False,
        extra: dict[str, Any] | None = None, feed: int = 0,
    ) -> list[Outbound]:  # fmt: skip
        """The visitor turned voice, their microphone or announcing on or off (``extra``, ``feed``: the SFU's part)."""
        if announce and not may_announce:
            error = ProtocolError("forbidden", "announcing to the whole room needs the curator role", "announce")
            return [Outbound(error.to_message(), to=visitor_id)]
        out = self.voice.set_state(visitor_id, self.visitors[visitor_id].slot, listen, speak, announce, now)
        member = self.voice.members.get(visitor_id)
        if member is not None and extra is not None:
            member.extra, member.feed = extra, feed
            out = [(visitor_id, self.voice.state_message(visitor_id))]
        return self._outbound(out)

    def voice_limit(self, visitor_id: int, now: float) -> dict[str, Any] | None:
        """Take one voice state change from the visitor's allowance; the ``rate_limited`` error if it is spent."""
        visitor = self.visitors[visitor_id]
        visitor.voice_tokens = min(VOICE_BURST, visitor.voice_tokens + (now - visitor.voice_checked_at) * VOICE_PER_S)
        visitor.voice_checked_at = now
        if visitor.voice_tokens < 1:
            wait = (1 - visitor.voice_tokens) / VOICE_PER_S
            return ProtocolError("rate_limited", f"too many voice changes; try again in {math.ceil(wait * 10) / 10} s", "type").to_message()
        visitor.voice_tokens -= 1
        return None

    def voice_round(self) -> list[Outbound]:
        """Choose the voice pairs again from where everyone stands now (the last tick's spatial hash)."""
        if not self.voice.members:
            return []
        always: list[tuple[int, list[int]]] = []
        for guided in self.tours.running.values():  # a guide's group hears them wherever they stand
            always.append((guided.guide, [m for m in guided.everyone if m != guided.guide]))
        announcers = [v for v, m in self.voice.members.items() if m.announce]
        for announcer in announcers:  # a curator's announcement reaches the room
            always.append((announcer, list(self.voice.members)))
        sync = self.sync
        positions = np.ascontiguousarray(self.parts[:, 0, :3], dtype=np.float64)
        grid = (sync.bounds_min, sync.cell_m, sync.grid_x, sync.grid_z, sync.cell_start, sync.cell_items)
        return self._outbound(self.voice.select(self.ids, positions, grid, always))

    def relay_signal(self, visitor_id: int, to: int, kind: str, payload: dict[str, Any], now: float) -> list[Outbound]:
        """An offer, answer or ICE candidate for the visitor's voice peer, or the ``error`` saying why not."""
        try:
            return self._outbound(self.voice.relay(visitor_id, to, kind, payload, now))
        except VoiceError as err:
            return [Outbound(err.to_message(), to=visitor_id)]

    def mute_voice(self, visitor_id: int, muted: bool) -> list[Outbound]:
        """A moderator muted (or unmuted) the visitor's voice for this room."""
        return self._outbound(self.voice.set_room_muted(visitor_id, muted))

    @staticmethod
    def _outbound(deliveries: list[Delivery]) -> list[Outbound]:
        return [Outbound(message, to=visitor_id) for visitor_id, message in deliveries]

    # -- chat ---------------------------------------------------------------------

    def chat(
        self, visitor_id: int, text: str, now: float, wall_time: float | None = None, quick: dict[str, str] | None = None
    ) -> list[Outbound]:
        """A line of free text, or a quick-chat phrase (``quick``: ``{"phrase", "thing"?}``), to everyone in the room."""
        visitor = self.visitors[visitor_id]

        def refuse(code: str, message: str, field: str = "text") -> list[Outbound]:
            return [Outbound(ProtocolError(code, message, field).to_message(), to=visitor_id)]

        if visitor_id in self.muted:
            return refuse("muted", "a moderator has muted you in this room")
        key = ""
        if quick is not None:
            phrase, thing = quick["phrase"], quick.get("thing")
            if phrase not in phrases():
                return refuse("bad_request", f"no quick-chat phrase {phrase!r}", "phrase")
            if needs_thing(phrase) != (thing is not None):
                return refuse("bad_request", f"phrase {phrase!r} {'needs' if needs_thing(phrase) else 'takes no'} thing", "thing")
            if thing is not None and not any(n["id"] == thing for n in self.document["nodes"]):
                return refuse("bad_request", f"no node {thing!r} in this scene", "thing")
            text = render(phrase, visitor.language, node_name(self.document, thing, visitor.language) if thing else "")
        else:
            text = clean(text)
            if not text:
                return refuse("bad_request", "text is empty once invisible characters are removed")
            if self.blocklist.matches(text):
                return refuse("blocked", "this line contains words this scene's curators do not allow")
            key = match_key(text)
            if key == visitor.last_key and now - visitor.last_said_at < DUPLICATE_WINDOW_S:
                return refuse("duplicate", "you just said that")
        rules = self.rules
        visitor.chat_tokens = min(rules.chat_burst, visitor.chat_tokens + (now - visitor.chat_checked_at) * rules.chat_per_s)
        visitor.chat_checked_at = now
        if visitor.chat_tokens < 1:
            wait = (1 - visitor.chat_tokens) / rules.chat_per_s
            error = ProtocolError("rate_limited", f"too many messages; try again in {math.ceil(wait * 10) / 10} s", "text")
            return [Outbound(error.to_message(), to=visitor_id)]
        visitor.chat_tokens -= 1
        if quick is None:
            visitor.last_key, visitor.last_said_at = key, now
        self._chat_seq += 1
        message = {
            "type": "chat",
            "id": self._chat_seq,
            "from": visitor.id,
            "name": visitor.name,
            "language": visitor.language,
            "text": text,
            "time": round((time.time() if wall_time is None else wall_time) * 1000),
        }
        if quick is not None:
            message["quick"] = dict(quick)
        else:
            detected = mismatch(text, visitor.language, {v.language for v in self.visitors.values()})
            if detected:
                message["detected"] = detected
        self.chat_log.append(message)
        return [Outbound(message)]
