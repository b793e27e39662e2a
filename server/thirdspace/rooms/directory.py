"""Placement: which room of a scene a joining visitor goes to."""

from __future__ import annotations

from thirdspace.rooms.room import Room, RoomRules
from thirdspace.scenes.model import Scene


class RoomDirectory:
    """The open rooms of every scene, in instance order.

    A visitor goes to the oldest instance with free capacity; when every
    instance is full a new one opens.  Empty instances are closed.
    """

    def __init__(self, rules: RoomRules | None = None):
        self.rules = rules or RoomRules()
        self._rooms: dict[str, dict[int, Room]] = {}

    def rooms(self, scene_id: str | None = None) -> list[Room]:
        scenes = [scene_id] if scene_id is not None else list(self._rooms)
        return [room for s in scenes for _, room in sorted(self._rooms.get(s, {}).items())]

    def place(self, scene: Scene, avoid: frozenset[str] = frozenset()) -> tuple[Room, bool]:
        """Return a room with space for one more visitor, and whether it was just opened.

        Locked rooms and the rooms in ``avoid`` (say, ones the visitor was kicked from) are skipped.
        """
        instances = self._rooms.setdefault(scene.id, {})
        for number in sorted(instances):
            room = instances[number]
            if not room.is_full and not room.locked and room.id not in avoid:
                return room, False
        number = next(n for n in range(1, len(instances) + 2) if n not in instances)
        room = Room(f"{scene.id}-{number}", scene, self.rules)
        instances[number] = room
        return room, True

    def add(self, room: Room) -> Room:
        """An instance whose id was chosen elsewhere (in cluster mode, by the Redis directory)."""
        self._rooms.setdefault(room.scene.id, {})[int(room.id.rsplit("-", 1)[1])] = room
        return room

    def room(self, room_id: str) -> Room | None:
        scene_id, _, number = room_id.rpartition("-")
        return self._rooms.get(scene_id, {}).get(int(number)) if number.isdigit() else None

    def remove(self, room: Room) -> None:
        instances = self._rooms.get(room.scene.id, {})
        number = int(room.id.rsplit("-", 1)[1])
        if instances.get(number) is room:
            del instances[number]

    def close_if_empty(self, room: Room) -> bool:
        if not room.is_empty:
            return False
        instances = self._rooms.get(room.scene.id, {})
        number = int(room.id.rsplit("-", 1)[1])
        if instances.get(number) is room:
            del instances[number]
        return True
