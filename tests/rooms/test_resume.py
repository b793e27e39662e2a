"""Losing a connection and coming back: the room keeps the place, silently, for the resume window."""

from tests.rooms.test_room import scene
from thirdspace.rooms.room import Room


def test_a_detached_visitor_comes_back_to_the_same_slot_unseen():
    room = Room("gallery-1", scene())
    ama, _ = room.join("Ama", "sw", "#112233", now=0)
    bo, _ = room.join("Bo", "fr", "#445566", now=0)
    room.chat(ama.id, "Habari", now=1)
    room.detach(ama.id, now=2, window_s=30)
    assert room.expire_away(now=31.9) == ([], [])  # still inside the window: nobody is told anything
    visitor, out = room.reattach(ama.id, ama.secret)
    assert (visitor.id, visitor.slot, visitor.name, visitor.language) == (ama.id, ama.slot, "Ama", "sw")
    welcome = out[0].message
    assert out[0].to == ama.id and welcome["resumed"] is True and welcome["id"] == ama.id
    assert [line["text"] for line in welcome["chat"]] == ["Habari"]
    assert {v["id"] for v in welcome["visitors"]} == {ama.id, bo.id}
    assert visitor.away_until is None
    assert room.expire_away(now=1000) == ([], [])


def test_a_wrong_secret_does_not_take_the_place():
    room = Room("gallery-1", scene())
    ama, _ = room.join("Ama", "sw", "#112233", now=0)
    room.detach(ama.id, now=0, window_s=30)
    assert room.reattach(ama.id, "x" * 24) is None
    assert room.reattach(ama.id + 1, ama.secret) is None
    assert room.visitors[ama.id].away_until == 30


def test_after_the_window_the_visitor_leaves_and_the_others_are_told():
    room = Room("gallery-1", scene())
    ama, _ = room.join("Ama", "sw", "#112233", now=0)
    bo, _ = room.join("Bo", "fr", "#445566", now=0)
    room.detach(ama.id, now=5, window_s=30)
    gone, out = room.expire_away(now=35)
    assert gone == [ama.id]
    assert [o.message for o in out] == [{"type": "leave", "id": ama.id}]
    assert ama.id not in room.visitors and room.reattach(ama.id, ama.secret) is None


def test_a_resumed_tour_member_gets_the_stop_the_group_is_at():
    room = Room("gallery-1", scene())
    guide, _ = room.join("Guide", "en", "#112233", now=0)
    guide.can_guide = True
    ama, _ = room.join("Ama", "sw", "#445566", now=0)
    tour_id = room.document["tours"][0]["id"]
    room.tour(guide.id, "start", tour_id)
    room.tour(ama.id, "join", tour_id)
    room.detach(ama.id, now=1, window_s=30)
    room.tour(guide.id, "next", tour_id)  # the group moves on while Ama is away
    _, out = room.reattach(ama.id, ama.secret)
    states = [o.message for o in out if o.message["type"] == "tour_state"]
    assert states and states[0]["index"] == 1 and ama.id in states[0]["members"]


def test_tours_survive_a_snapshot_and_restore():
    room = Room("gallery-1", scene())
    guide, _ = room.join("Guide", "en", "#112233", now=0)
    guide.can_guide = True
    ama, _ = room.join("Ama", "sw", "#445566", now=0)
    tour_id = room.document["tours"][0]["id"]
    room.tour(guide.id, "start", tour_id)
    room.tour(ama.id, "join", tour_id)
    room.tour(guide.id, "next", tour_id)
    saved = room.tours.snapshot()

    reopened = Room("gallery-1", scene())
    reopened.join("Guide", "en", "#112233", now=0, visitor_id=guide.id)
    reopened.join("Ama", "sw", "#445566", now=0, visitor_id=ama.id)
    reopened.tours.restore(reopened.document, saved, set(reopened.visitors))
    running = reopened.tours.running[tour_id]
    assert (running.guide, running.index, running.members) == (guide.id, 1, [ama.id])


def test_a_tour_the_scene_lacks_is_unknown_whatever_the_action_and_one_nobody_leads_is_a_bad_request():
    room = Room("gallery-1", scene())
    ama, _ = room.join("Ama", "sw", "#445566", now=0)
    tour_id = room.document["tours"][0]["id"]
    for action in ("start", "join", "next", "prev", "goto", "lead"):
        [refusal] = room.tour(ama.id, action, "nowhere", stop="s", to=1)
        assert (refusal.to, refusal.message["code"], refusal.message["field"]) == (ama.id, "unknown_tour", "tour"), action
    for action in ("join", "next", "prev", "goto", "lead"):
        [refusal] = room.tour(ama.id, action, tour_id, stop="s", to=1)
        assert refusal.message["code"] == "bad_request", action
    assert [o.message["type"] for o in room.tour(ama.id, "leave", "nowhere")] == ["tour_left"]


def test_joining_another_tour_leaves_the_first_and_its_group_hears_of_it():
    doc = scene().document
    doc["tours"].append({**doc["tours"][0], "id": "second-tour"})
    from thirdspace.scenes.model import validate

    room = Room("gallery-1", validate(doc))
    first, second = doc["tours"][0]["id"], "second-tour"
    guide, _ = room.join("Guide", "en", "#112233", now=0)
    guide.can_guide = True
    deputy, _ = room.join("Deputy", "en", "#112244", now=0)
    deputy.can_guide = True
    ama, _ = room.join("Ama", "sw", "#445566", now=0)
    other, _ = room.join("Other", "fr", "#445577", now=0)
    other.can_guide = True
    room.tour(guide.id, "start", first)
    room.tour(ama.id, "join", first)
    room.tour(deputy.id, "join", first)
    room.tour(other.id, "start", second)
    out = room.tour(guide.id, "join", second)  # the guide walks off to another tour
    left = [o for o in out if o.message["type"] == "tour_left"]
    assert [(o.to, o.message["tour"]) for o in left] == [(guide.id, first)]
    states = {o.to: o.message for o in out if o.message["type"] == "tour_state" and o.message["tour"] == first}
    assert set(states) == {ama.id, deputy.id} and states[ama.id]["guide"] == deputy.id  # the member who may guide leads
    assert room.always_visible[deputy.slot] and room.always_visible[other.slot]
    assert not room.always_visible[guide.slot]  # no longer leading anything
    out = room.tour(ama.id, "join", second)
    assert [o.to for o in out if o.message["type"] == "tour_state" and o.message["tour"] == first] == [deputy.id]
