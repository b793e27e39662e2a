"""Guide-led tours in a room, pure: who leads, who follows, which stop the group is at.

A visitor who may guide (the guide, curator or admin role) starts a tour of the
scene; others join it. Every change sends the whole group a ``tour_state``: the
stop, where to stand, who leads and who follows, so a late joiner lands on the
current stop at once. The lead can be handed to any member; when the guide leaves,
the lead passes to the member who may guide and joined first (or, failing that, to
whoever joined first), so the group is never stranded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class TourError(ValueError):
    def __init__(self, code: str, message: str, field: str = "tour"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass
class GuidedTour:
    tour: dict[str, Any]  # the tour from the scene document
    guide: int
    index: int = 0
    members: list[int] = field(default_factory=list)  # in the order they joined; the guide is not one

    @property
    def id(self) -> str:
        return self.tour["id"]

    def state(self) -> dict[str, Any]:
        stop = self.tour["stops"][self.index]
        message = {
            "type": "tour_state",
            "tour": self.id,
            "index": self.index,
            "count": len(self.tour["stops"]),
            "stop": stop["id"],
            "guide": self.guide,
            "members": list(self.members),
        }
        if "stand" in stop:
            message["stand"] = stop["stand"]
        return message

    @property
    def everyone(self) -> list[int]:
        return [self.guide, *self.members]


class RoomTours:
    """The guided tours running in one room (at most one per tour id)."""

    def __init__(self) -> None:
        self.running: dict[str, GuidedTour] = {}

    def snapshot(self) -> dict[str, Any]:
        """The running tours as plain data (kept in Redis in cluster mode, so a reopened room carries on)."""
        return {t.id: {"guide": t.guide, "index": t.index, "members": list(t.members)} for t in self.running.values()}

    def restore(self, document: dict[str, Any], data: dict[str, Any], present: set[int]) -> None:
        """Bring back tours from :meth:`snapshot`, for the visitors in ``present``; unknown tours are dropped."""
        for tour_id, saved in data.items():
            try:
                tour = self.find(document, tour_id)
            except TourError:
                continue
            everyone = [v for v in [saved["guide"], *saved["members"]] if v in present]
            if everyone:
                index = min(int(saved["index"]), len(tour["stops"]) - 1)
                self.running[tour_id] = GuidedTour(tour, everyone[0], index, everyone[1:])

    def find(self, document: dict[str, Any], tour_id: str) -> dict[str, Any]:
        """The scene's tour ``tour_id``; TourError ``unknown_tour`` when the scene has none of that id."""
        for tour in document.get("tours", []):
            if tour["id"] == tour_id:
                return tour
        raise TourError("unknown_tour", f"no tour {tour_id!r} in this scene", "tour")

    def of(self, visitor_id: int) -> GuidedTour | None:
        return next((t for t in self.running.values() if visitor_id in t.everyone), None)

    def start(
        self, visitor_id: int, can_guide: bool, document: dict[str, Any], tour_id: str, guides: dict[int, bool] | None = None
    ) -> GuidedTour:
        """Lead a tour (out of any other tour first; ``guides`` says who may guide, for a new lead there)."""
        if not can_guide:
            raise TourError("forbidden", "leading a tour needs the guide role", "action")
        tour = self.find(document, tour_id)
        if tour_id in self.running:
            raise TourError("bad_request", f"tour {tour_id!r} is already running here; join it")
        self.leave(visitor_id, guides)
        self.running[tour_id] = GuidedTour(tour, visitor_id)
        return self.running[tour_id]

    def join(self, visitor_id: int, tour_id: str, guides: dict[int, bool] | None = None) -> GuidedTour:
        """Join a running tour (out of any other tour first)."""
        guided = self.running.get(tour_id)
        if guided is None:
            raise TourError("bad_request", f"no one is leading tour {tour_id!r} in this room")
        if visitor_id not in guided.everyone:
            self.leave(visitor_id, guides)
            guided.members.append(visitor_id)
        return guided

    def move(self, visitor_id: int, tour_id: str, *, step: int = 0, stop: str | None = None) -> GuidedTour:
        guided = self._led_by(visitor_id, tour_id)
        stops = [s["id"] for s in guided.tour["stops"]]
        if stop is not None:
            if stop not in stops:
                raise TourError("bad_request", f"no stop {stop!r} in tour {tour_id!r}", "stop")
            guided.index = stops.index(stop)
        else:
            guided.index = min(max(guided.index + step, 0), len(stops) - 1)
        return guided

    def hand_over(self, visitor_id: int, tour_id: str, to: int) -> GuidedTour:
        guided = self._led_by(visitor_id, tour_id)
        if to not in guided.members:
            raise TourError("bad_request", f"visitor {to} is not in this tour", "to")
        guided.members.remove(to)
        guided.members.insert(0, visitor_id)
        guided.guide = to
        return guided

    def _led_by(self, visitor_id: int, tour_id: str) -> GuidedTour:
        guided = self.running.get(tour_id)
        if guided is None:
            raise TourError("bad_request", f"no one is leading tour {tour_id!r} in this room")
        if guided.guide != visitor_id:
            raise TourError("forbidden", "only the tour's guide moves the group", "action")
        return guided

    def leave(self, visitor_id: int, can_guide: dict[int, bool] | None = None) -> GuidedTour | None:
        """Take a visitor out of their tour; returns the tour if it carries on (with a new guide if they led it)."""
        guided = self.of(visitor_id)
        if guided is None:
            return None
        if visitor_id in guided.members:
            guided.members.remove(visitor_id)
            return guided
        if not guided.members:
            del self.running[guided.id]
            return None
        can_guide = can_guide or {}
        successor = next((m for m in guided.members if can_guide.get(m)), guided.members[0])
        guided.members.remove(successor)
        guided.guide = successor
        return guided
