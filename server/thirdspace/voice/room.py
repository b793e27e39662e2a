"""The voice of one room: who has voice on, who is paired with whom, and what each visitor was told.

Pure state, in the manner of :class:`~thirdspace.rooms.room.Room`: handlers take plain
values and the time, and return ``(visitor id, message)`` pairs for the session layer.
Every visitor is told the *changes* to their voice connections (``voice_peers``);
signalling (``signal``) is relayed only between visitors paired right now.

Two transports share this state. Peer to peer, a pair is one RTCPeerConnection and
the lower id makes the offer. Through an SFU (Janus), a visitor subscribes to the
publishers among their partners, so what each visitor is told is that subset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thirdspace.voice.selection import select_pairs

Message = dict[str, Any]
Delivery = tuple[int, Message]  # (visitor id, message for them)

SIGNAL_KINDS = ("offer", "answer", "candidate")


class VoiceError(Exception):
    """A voice request refused: becomes an ``error`` message with ``code`` and ``field``."""

    def __init__(self, code: str, message: str, field: str, to: int | None = None):
        super().__init__(message)
        self.code, self.message, self.field, self.to = code, message, field, to

    def to_message(self) -> Message:
        message: Message = {"type": "error", "code": self.code, "message": self.message, "field": self.field}
        if self.to is not None:
            message["to"] = self.to  # the peer the refused signal was for: close that connection
        return message


@dataclass(frozen=True)
class VoiceRules:
    hearing_radius_m: float = 12.0  # voices fade out to nothing here
    connect_factor: float = 1.25  # pairs form this much beyond it, so a voice is connected before it is within earshot
    exit_factor: float = 1.4  # and are kept until their two are this much farther apart than the hearing radius
    max_voices: int = 8  # K: ordinary pairs per visitor
    max_always_voices: int = 4  # always-audible speakers (a guide, announcers) a listener gets on top of K
    max_always_listeners: int | None = 32  # listeners one always-audible speaker reaches (peer to peer: each is an upload); None: all
    signal_burst: int = 120  # signalling messages in a burst, per visitor...
    signal_per_s: float = 30.0  # ...then this many a second
    relay_only: bool = False  # only relay (TURN) candidates are passed on, so visitors never learn each other's addresses
    sfu: bool = False  # visitors publish to and subscribe from an SFU: they are told their publishing partners


@dataclass
class VoiceMember:
    slot: int
    listen: bool = False
    speak: bool = False
    announce: bool = False
    room_muted: bool = False
    signal_tokens: float = 0.0
    signal_checked_at: float = 0.0
    limit_told_at: float = -1e9
    feed: int = 0  # SFU: the publisher id this visitor publishes as
    extra: dict[str, Any] = field(default_factory=dict)  # what the transport adds to voice_state (SFU url, room, token)

    @property
    def speaks(self) -> bool:
        return self.speak and not self.room_muted


class RoomVoice:
    """Voice state of one room, indexed by visitor id (slots for the kernel)."""

    def __init__(self, rules: VoiceRules, capacity: int):
        self.rules = rules
        self.capacity = capacity
        self.members: dict[int, VoiceMember] = {}
        self.room_muted: set[int] = set()  # kept while a muted visitor turns voice off and on again
        self.ordinary: set[tuple[int, int]] = set()  # chosen by distance, (lower id, higher id)
        self.forced: set[tuple[int, int]] = set()  # always-audible pairs, (lower id, higher id)
        self.told: dict[int, set[int]] = {}  # what each visitor was told they are connected to
        self.pair_changes = 0  # pairs formed or ended, since the room opened

    # -- a visitor's state ------------------------------------------------------------

    def set_state(self, visitor_id: int, slot: int, listen: bool, speak: bool, announce: bool, now: float) -> list[Delivery]:
        """The visitor turned voice (or the microphone, or announcing) on or off. Speaking implies listening."""
        listen = listen or speak
        member = self.members.get(visitor_id)
        if not listen:
            return [*self.leave(visitor_id), (visitor_id, self._off_state())]
        if member is None:
            member = self.members[visitor_id] = VoiceMember(slot, signal_tokens=self.rules.signal_burst, signal_checked_at=now)
        member.slot, member.listen, member.speak, member.announce = slot, listen, speak, announce
        member.room_muted = visitor_id in self.room_muted
        return [(visitor_id, self.state_message(visitor_id))]

    def state_message(self, visitor_id: int) -> Message:
        member = self.members[visitor_id]
        message: Message = {
            "type": "voice_state",
            "listen": member.listen,
            "speak": member.speak,
            "announce": member.announce,
            "room_muted": member.room_muted,
            "transport": "janus" if self.rules.sfu else "p2p",
        }
        message.update(member.extra)
        return message

    def _off_state(self) -> Message:
        return {"type": "voice_state", "listen": False, "speak": False, "announce": False, "room_muted": False,
                "transport": "janus" if self.rules.sfu else "p2p"}  # fmt: skip

    def leave(self, visitor_id: int) -> list[Delivery]:
        """The visitor turned voice off, lost the connection or left: their partners drop them now."""
        self.members.pop(visitor_id, None)
        self.told.pop(visitor_id, None)
        out = self._forget(visitor_id)
        gone = {p for p in self.ordinary | self.forced if visitor_id in p}
        self.pair_changes += len(gone)
        self.ordinary -= gone
        self.forced -= gone
        return out

    def set_room_muted(self, visitor_id: int, muted: bool) -> list[Delivery]:
        """A moderator muted (or unmuted) the visitor's voice for the room. Their connections end now and form
        again at the next selection, so no connection carries audio a moderator stopped."""
        (self.room_muted.add if muted else self.room_muted.discard)(visitor_id)
        member = self.members.get(visitor_id)
        if member is None or member.room_muted == muted:
            return []
        member.room_muted = muted
        out = [(visitor_id, self.state_message(visitor_id))]
        gone = {p for p in self.ordinary | self.forced if visitor_id in p}
        self.ordinary -= gone
        self.forced -= gone
        self.pair_changes += len(gone)
        told = self.told.get(visitor_id, set())
        if told:
            out.append((visitor_id, {"type": "voice_peers", "add": [], "remove": sorted(told)}))
        self.told[visitor_id] = set()
        return out + self._forget(visitor_id)

    def _forget(self, visitor_id: int) -> list[Delivery]:
        """Everyone told of a connection to the visitor is told it is gone (through an SFU the views are one-way)."""
        out = []
        for other in sorted(self.told):
            if visitor_id in self.told[other]:
                self.told[other].discard(visitor_id)
                out.append((other, {"type": "voice_peers", "add": [], "remove": [visitor_id]}))
        return out

    # -- selection ---------------------------------------------------------------------

    def select(
        self,
        ids: np.ndarray,
        positions: np.ndarray,
        grid: tuple[np.ndarray, float, int, int, np.ndarray, np.ndarray],
        always: Sequence[tuple[int, Iterable[int]]],
        feeds_ready: set[int] | None = None,
    ) -> list[Delivery]:
        """Choose every pair again and tell each visitor what changed.

        ``ids`` and ``positions`` (float64, heads) are indexed by slot; ``grid`` is the sync tick's spatial hash
        ``(bounds_min, cell_m, grid_x, grid_z, cell_start, cell_items)``; ``always`` lists (speaker, listeners)
        that hear each other wherever they stand (a guide and their group, an announcer and the room)."""
        members = self.members
        if not members:
            return []
        rules = self.rules
        forced = self._forced(positions, always)
        listens = np.zeros(self.capacity, np.bool_)
        speaks = np.zeros(self.capacity, np.bool_)
        slots = np.fromiter((m.slot for m in members.values()), np.int64, len(members))
        listens[slots] = True
        for member in members.values():
            speaks[member.slot] = member.speaks
        k = rules.max_voices
        partners = np.zeros((self.capacity, max(k, 1)), np.int64)
        partner_count = np.zeros(self.capacity, np.int64)
        slot_of = {visitor_id: member.slot for visitor_id, member in members.items()}
        for a, b in self.ordinary:
            sa, sb = slot_of[a], slot_of[b]
            if partner_count[sa] < k and partner_count[sb] < k:
                partners[sa, partner_count[sa]] = sb
                partners[sb, partner_count[sb]] = sa
                partner_count[sa] += 1
                partner_count[sb] += 1
        forced_a = np.fromiter((members[a].slot for a, _ in forced), np.int64, len(forced))
        forced_b = np.fromiter((members[b].slot for _, b in forced), np.int64, len(forced))
        out_a = np.zeros(len(members) * k // 2 + 1, np.int64)
        out_b = np.zeros_like(out_a)
        bounds_min, cell_m, grid_x, grid_z, cell_start, cell_items = grid
        enter_m, exit_m = rules.hearing_radius_m * rules.connect_factor, rules.hearing_radius_m * rules.exit_factor
        n = select_pairs(
            slots, listens, speaks, ids, positions, bounds_min, cell_m, grid_x, grid_z, cell_start, cell_items,
            partners, partner_count, forced_a, forced_b, enter_m, exit_m, k, out_a, out_b,
        )  # fmt: skip
        ordinary = set(zip(ids[out_a[:n]].tolist(), ids[out_b[:n]].tolist(), strict=True))
        self.pair_changes += len(ordinary ^ self.ordinary) + len(forced ^ self.forced)
        self.ordinary, self.forced = ordinary, forced
        return self._tell(feeds_ready)

    def _forced(self, positions: np.ndarray, always: Sequence[tuple[int, Iterable[int]]]) -> set[tuple[int, int]]:
        """Always-audible pairs: each listener hears at most max_always_voices such speakers, nearest first, and one
        speaker reaches at most max_always_listeners listeners, nearest first."""
        rules, members = self.rules, self.members
        wanted: list[tuple[float, int, int]] = []
        for speaker, listeners in always:
            sm = members.get(speaker)
            if sm is None or not sm.speaks:
                continue
            near = []
            for listener in listeners:
                lm = members.get(listener)
                if lm is None or listener == speaker:
                    continue
                d = float(np.sum((positions[sm.slot] - positions[lm.slot]) ** 2))
                near.append((d, speaker, listener))
            near.sort()
            wanted += near if rules.max_always_listeners is None else near[: rules.max_always_listeners]
        taken: dict[int, int] = {}
        forced: set[tuple[int, int]] = set()
        for _, speaker, listener in sorted(wanted):
            pair = (min(speaker, listener), max(speaker, listener))
            if pair in forced or taken.get(listener, 0) >= rules.max_always_voices:
                continue
            taken[listener] = taken.get(listener, 0) + 1
            forced.add(pair)
        return forced

    def _tell(self, feeds_ready: set[int] | None) -> list[Delivery]:
        """Each visitor's changes: partners (peer to peer) or partners who publish (SFU)."""
        members = self.members
        view: dict[int, set[int]] = {v: set() for v in members}
        for a, b in self.ordinary | self.forced:
            view[a].add(b)
            view[b].add(a)
        if self.rules.sfu:  # subscribe only to partners who publish, once their feed is up
            for v, partners in view.items():
                view[v] = {p for p in partners if members[p].speaks and (feeds_ready is None or p in feeds_ready)}
        out: list[Delivery] = []
        for v in sorted(view):
            now, before = view[v], self.told.get(v, set())
            if now == before:
                continue
            add = [self._entry(v, p) for p in sorted(now - before)]
            out.append((v, {"type": "voice_peers", "add": add, "remove": sorted(before - now)}))
            self.told[v] = now
        return out

    def _entry(self, visitor_id: int, partner: int) -> Message:
        member = self.members[partner]
        if self.rules.sfu:
            return {"id": partner, "feed": member.feed}
        entry: Message = {"id": partner, "offer": visitor_id < partner}
        if member.room_muted:
            entry["muted"] = True  # a moderator muted this peer: do not play what they send
        return entry

    def paired(self, a: int, b: int) -> bool:
        return b in self.told.get(a, ()) and a in self.told.get(b, ())

    # -- signalling --------------------------------------------------------------------

    def relay(self, sender: int, to: int, kind: str, payload: Message, now: float) -> list[Delivery]:
        """Pass an offer, answer or ICE candidate to the visitor's peer; VoiceError if it may not go."""
        rules = self.rules
        if rules.sfu:
            raise VoiceError("voice_unavailable", "this server carries voice through its SFU: there is nothing to signal", "type")
        member = self.members.get(sender)
        if member is None:
            raise VoiceError("not_paired", "turn voice on first", "to", to)
        member.signal_tokens = min(rules.signal_burst, member.signal_tokens + (now - member.signal_checked_at) * rules.signal_per_s)
        member.signal_checked_at = now
        if member.signal_tokens < 1:  # dropped; the sender is told at most once a second, so a flood is not echoed
            if now - member.limit_told_at < 1.0:
                return []
            member.limit_told_at = now
            wait = (1 - member.signal_tokens) / rules.signal_per_s
            raise VoiceError("rate_limited", f"too many signalling messages; try again in {math.ceil(wait * 10) / 10} s", "type")
        member.signal_tokens -= 1
        if not self.paired(sender, to):
            raise VoiceError("not_paired", f"visitor {to} is not your voice peer", "to", to)
        if rules.relay_only and kind == "candidate" and " typ relay" not in payload["candidate"]["candidate"]:
            return []  # this server hides visitors' addresses: only relayed candidates are passed on
        return [(to, {"type": "signal", "from": sender, "kind": kind, **payload})]
