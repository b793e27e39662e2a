"""The placement policy, on plain data: the same rules for one process and for a cluster."""

import pytest

from thirdspace.rooms.placement import (
    Choice,
    LocalRoom,
    RoomOwner,
    candidates,
    free_number,
    node_for_new_room,
    preferred_room,
)

OPEN = LocalRoom("gallery", full=False, locked=False)


@pytest.mark.parametrize(
    "here, owner, draining, expected",
    [
        (OPEN, None, False, Choice.USE),
        (LocalRoom("gallery", full=True, locked=False), None, False, Choice.PLACE),
        (LocalRoom("gallery", full=False, locked=True), None, False, Choice.PLACE),
        (LocalRoom("market", full=False, locked=False), None, False, Choice.PLACE),  # another scene's room
        (None, None, False, Choice.PLACE),  # nobody has it
        (None, RoomOwner("node-a", alive=True), False, Choice.OPEN),  # handed to this node, not yet running
        (None, RoomOwner("node-b", alive=True), False, Choice.REDIRECT),
        (None, RoomOwner("node-b", alive=True), True, Choice.PLACE),  # a draining node sends nobody away
        (None, RoomOwner("node-b", alive=False), False, Choice.PLACE),
    ],
)
def test_the_room_a_hello_asks_for(here, owner, draining, expected):
    assert preferred_room("gallery", "gallery-2", here, owner, "node-a", draining) is expected


def test_a_room_id_of_another_scene_is_never_opened_or_followed():
    owner = RoomOwner("node-a", alive=True)
    assert preferred_room("gallery", "market-2", None, owner, "node-a", False) is Choice.PLACE
    assert preferred_room("gallery", "market-2", None, RoomOwner("node-b", True), "node-a", False) is Choice.PLACE


def test_candidates_are_the_oldest_rooms_on_nodes_taking_visitors_and_not_avoided():
    owners = {"gallery-10": "a", "gallery-2": "a", "gallery-3": "b", "gallery-1": "dead", "gallery-4": None}
    rooms = ["gallery-10", "gallery-2", "gallery-3", "gallery-1", "gallery-4"]
    assert candidates(rooms, owners, {"a", "b"}, frozenset()) == ["gallery-2", "gallery-3", "gallery-10"]
    assert candidates(rooms, owners, {"a", "b"}, frozenset({"gallery-2"})) == ["gallery-3", "gallery-10"]


def test_a_new_room_opens_on_the_node_with_fewest_rooms_then_visitors_and_here_wins_ties():
    assert node_for_new_room({"a": (2, 10), "b": (1, 50)}, "a") == "b"
    assert node_for_new_room({"a": (1, 10), "b": (1, 5)}, "a") == "b"
    assert node_for_new_room({"a": (1, 5), "b": (1, 5)}, "b") == "b"
    assert node_for_new_room({}, "a") is None


def test_numbers_of_closed_rooms_are_reused():
    assert free_number(set()) == 1
    assert free_number({1, 2, 4}) == 3
