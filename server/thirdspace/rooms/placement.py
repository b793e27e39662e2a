"""Placement policy: which room a joining visitor goes to, and where a new room opens.

Pure functions over what is known of the rooms and nodes, used by one process
(``services/rooms.py``) and by a cluster (``cluster/node.py``, with the state it
reads from Redis) alike.  The rules: a room the visitor asks for (from a
redirect, a move or a tour offer) is honoured when it can be; otherwise the
oldest room of the scene with a free seat is taken, so visitors meet; when every
room is full a new one opens on the node running the fewest rooms, then the
fewest visitors.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Choice(enum.Enum):
    USE = "use"  # this node runs the room and it has a seat
    OPEN = "open"  # this node owns the room but does not run it yet (it was handed over): open it
    REDIRECT = "redirect"  # another live node runs it: send the visitor there
    PLACE = "place"  # the room cannot be had: place the visitor in the scene as if they had asked for none


@dataclass(frozen=True)
class LocalRoom:
    """A room this node runs, as placement sees it."""

    scene_id: str
    full: bool
    locked: bool


@dataclass(frozen=True)
class RoomOwner:
    """The node the directory gives a room to."""

    node_id: str
    alive: bool


def scene_of(room_id: str) -> str:
    """Room ids are ``SCENE-N``."""
    return room_id.rpartition("-")[0]


def room_number(room_id: str) -> int:
    number = room_id.rpartition("-")[2]
    return int(number) if number.isdigit() else 0


def preferred_room(scene_id: str, room_id: str, here: LocalRoom | None, owner: RoomOwner | None, node_id: str, draining: bool) -> Choice:
    """What to do with the room a hello asks for: ``here`` if this node runs it, ``owner`` from the directory."""
    if here is not None:
        usable = here.scene_id == scene_id and not here.full and not here.locked
        return Choice.USE if usable else Choice.PLACE
    if owner is None or scene_of(room_id) != scene_id:
        return Choice.PLACE
    if owner.node_id == node_id:
        return Choice.OPEN
    if owner.alive and not draining:
        return Choice.REDIRECT
    return Choice.PLACE


def candidates(room_ids: Iterable[str], owners: Mapping[str, str | None], open_nodes: set[str], avoid: frozenset[str]) -> list[str]:
    """The rooms a visitor may be seated in, oldest first: on a node taking visitors, and not avoided (a ban)."""
    usable = [r for r in room_ids if owners.get(r) in open_nodes and r not in avoid]
    return sorted(usable, key=room_number)


def node_for_new_room(load: Mapping[str, tuple[int, int]], here: str) -> str | None:
    """The node a new room opens on: the fewest rooms, then visitors (``load``: node -> (rooms, visitors)); this
    node wins ties (no redirect needed)."""
    if not load:
        return None
    return min(load, key=lambda n: (*load[n], n != here, n))


def free_number(taken: set[int]) -> int:
    """The lowest instance number not in use (numbers of closed rooms are reused)."""
    number = 1
    while number in taken:
        number += 1
    return number
