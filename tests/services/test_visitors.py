"""A connection's requests carried out against real rooms, without a server: a Connection, the live rooms
service and the room core, with a session that records what would go on the wire."""

from __future__ import annotations

import asyncio

import numpy as np
import orjson
import pytest

from tests.rooms.test_room import scene
from thirdspace.protocol.codec import encode_pose
from thirdspace.protocol.connection import Close, Connection, Request, Send
from thirdspace.rooms.room import RoomRules
from thirdspace.services.rooms import LiveRooms
from thirdspace.services.store import AsyncDatabase
from thirdspace.services.visitors import VisitorRequests
from thirdspace.store import User


class RecordingSession:
    """The outgoing side of a connection, as the rooms see it; it keeps what it was given."""

    def __init__(self):
        self.messages: list[dict] = []
        self.snapshots = 0
        self.closed: tuple[int, str] | None = None
        self.aborted = False

    @property
    def closed_by_server(self) -> bool:
        return self.closed is not None

    def send(self, data: bytes) -> None:
        self.messages.append(orjson.loads(data))

    def offer_snapshot(self, data) -> None:
        self.snapshots += 1

    def abort(self) -> None:
        self.aborted = True

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class Client:
    """One connection: frames in through the Connection, requests carried out, events applied to the session."""

    def __init__(self, rooms: LiveRooms, user: User | None = None, max_errors: int = 20, store=None):
        self.session = RecordingSession()
        self.connection = Connection(max_errors)
        self.requests = VisitorRequests(rooms, store, self.session, self.connection, user, f"addr:{id(self)}")

    async def send(self, message: dict) -> None:
        await self._perform(self.connection.receive_text(orjson.dumps(message), asyncio.get_running_loop().time()))

    async def send_pose(self, parts) -> None:
        await self._perform(self.connection.receive_binary(encode_pose(parts), asyncio.get_running_loop().time()))

    async def _perform(self, events) -> None:
        while events:
            event, *events = events
            if isinstance(event, Send):
                self.session.send(event.data)
            elif isinstance(event, Close):
                await self.session.close(event.code, event.reason)
            else:
                assert isinstance(event, Request)
                events = [*await self.requests.handle(event), *events]

    def errors(self) -> list[tuple[str, str | None]]:
        return [(m["code"], m.get("field")) for m in self.session.messages if m["type"] == "error"]

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.session.messages if m["type"] == kind]

    async def hello(self, name: str = "Ama", **fields) -> None:
        await self.send({"type": "hello", "protocol": 2, "scene": "gallery", "name": name, **fields})

    @property
    def visitor(self):
        assert self.requests.member is not None
        return self.requests.member[1]


@pytest.fixture
async def rooms():
    live = LiveRooms({"gallery": scene(capacity=8)}, RoomRules(chat_burst=3, chat_per_s=0.5))
    yield live
    await live.close(1001, "test over")


def poses(head=(0, 1.6, 3)):
    parts = np.zeros((3, 7), np.float32)
    parts[:, 6] = 1
    parts[0, :3] = head
    return parts


async def test_a_hello_joins_a_room_and_the_others_are_told(rooms):
    ama, bo = Client(rooms), Client(rooms)
    await ama.hello("Ama")
    await bo.hello("Bo", language="fr")
    [welcome] = bo.of_type("welcome")
    assert welcome["room"] == "gallery-1" and {v["name"] for v in welcome["visitors"]} == {"Ama", "Bo"}
    assert [m["visitor"]["name"] for m in ama.of_type("join")] == ["Bo"]
    assert ama.connection.state.value == "member"


async def test_an_unknown_scene_is_answered_and_a_corrected_hello_joins(rooms):
    client = Client(rooms)
    await client.send({"type": "hello", "protocol": 2, "scene": "atlantis", "name": "Ama"})
    assert client.errors() == [("unknown_scene", "scene")]
    await client.hello()
    assert client.of_type("welcome") and client.connection.errors == 1


async def test_poses_reach_the_room(rooms):
    client = Client(rooms)
    await client.hello()
    await client.send_pose(poses((1.0, 1.6, 2.0)))
    runner, visitor = client.requests.member
    runner.room.tick()
    np.testing.assert_allclose(runner.room.parts[visitor.slot, 0, :3], (1.0, 1.6, 2.0))


async def test_every_refusal_of_the_room_is_an_error_and_counts_except_rate_limits(rooms):
    client = Client(rooms)
    await client.hello()
    room = client.requests.member[0].room
    room.set_scene_rules(room.document, ["forbiddenword"])
    await client.send({"type": "chat", "text": "hello"})
    await client.send({"type": "chat", "text": "hello"})  # the same line again
    await client.send({"type": "chat", "text": "a forbiddenword here"})
    await client.send({"type": "quick", "phrase": "no-such-phrase"})
    await client.send({"type": "tour", "action": "start", "tour": room.document["tours"][0]["id"]})  # not a guide
    await client.send({"type": "tour", "action": "join", "tour": "nowhere"})
    await client.send({"type": "tour", "action": "join", "tour": room.document["tours"][0]["id"]})  # nobody leads it
    await client.send({"type": "report", "message": 99})
    assert client.errors() == [
        ("duplicate", "text"),
        ("blocked", "text"),
        ("bad_request", "phrase"),
        ("forbidden", "action"),
        ("unknown_tour", "tour"),
        ("bad_request", "tour"),
        ("bad_request", "message"),
    ]
    assert client.connection.errors == 7
    room.muted.add(client.visitor.id)
    await client.send({"type": "chat", "text": "can you hear me"})
    assert client.errors()[-1] == ("muted", "text")
    room.muted.clear()
    for n in range(6):  # a burst of 3, then one every 2 s
        await client.send({"type": "chat", "text": f"line {n}"})
    assert client.errors()[-1] == ("rate_limited", "text")
    assert client.connection.errors == 8  # rate limits are not counted


async def test_refusals_by_the_room_use_up_the_error_budget(rooms):
    client = Client(rooms, max_errors=3)
    await client.hello()
    await client.send({"type": "chat", "text": "hello"})
    for _ in range(3):
        await client.send({"type": "chat", "text": "hello"})
    assert client.session.closed is None
    await client.send({"type": "chat", "text": "hello"})
    assert client.session.closed == (1008, "too many invalid messages")


async def test_a_guide_starts_a_tour_and_the_room_is_offered_it(rooms):
    guide = Client(rooms, user=User(1, "Guide", "guide"))
    visitor = Client(rooms)
    await guide.hello("Guide")
    await visitor.hello("Ama")
    tour_id = guide.requests.member[0].room.document["tours"][0]["id"]
    await guide.send({"type": "tour", "action": "start", "tour": tour_id})
    assert guide.of_type("tour_state")[-1]["guide"] == guide.visitor.id
    assert visitor.of_type("tour_available")[-1]["tour"] == tour_id
    await visitor.send({"type": "tour", "action": "join", "tour": tour_id})
    assert visitor.of_type("tour_state")[-1]["members"] == [visitor.visitor.id]


@pytest.fixture
async def store(tmp_path):
    db = AsyncDatabase(tmp_path / "store.sqlite3")
    await db.start()
    await db.create_scene(scene().document, "test", "a scene to watch", publish=True)
    yield db
    await db.close()


async def test_a_watch_needs_a_curator_and_a_scene_the_store_has(rooms, store):
    client = Client(rooms, store=store)
    await client.send({"type": "watch", "scene": "gallery"})
    assert client.errors() == [("forbidden", "type")] and client.connection.state.value == "opening"
    curator = Client(rooms, user=User(2, "Cura", "curator"), store=store)
    await curator.send({"type": "watch", "scene": "atlantis"})
    assert curator.errors() == [("unknown_scene", "scene")]
    await curator.send({"type": "watch", "scene": "gallery"})
    assert curator.of_type("watching") == [{"type": "watching", "scene": "gallery", "revision": 1}]
    rooms.notify_draft("gallery", {"type": "draft", "scene": "gallery", "revision": 2, "author": "Bo"})
    assert curator.of_type("draft")[-1]["revision"] == 2


async def test_a_report_is_kept_in_the_store(rooms, store):
    client = Client(rooms, store=store)
    await client.hello()
    await client.send({"type": "chat", "text": "something rude"})
    line = client.of_type("chat")[-1]
    await client.send({"type": "report", "message": line["id"], "reason": "rude"})
    assert client.of_type("reported") == [{"type": "reported", "message": line["id"]}]
    [report] = await store.reports()
    assert report["line"]["text"] == "something rude" and report["reason"] == "rude"


async def test_a_moderator_kick_closes_with_4003_and_a_closed_room_with_4004(rooms):
    ama, bo = Client(rooms), Client(rooms)
    await ama.hello("Ama")
    await bo.hello("Bo")
    runner = ama.requests.member[0]
    await rooms.kick(runner, ama.visitor.id, 5)
    assert ama.session.closed == (4003, "removed by a moderator for 5 min")
    await rooms.close_room(runner.room.id, "closing early today")
    assert bo.of_type("closed") == [{"type": "closed", "room": runner.room.id, "message": "closing early today"}]
    assert bo.session.closed == (4004, "room closed")


async def test_a_client_that_leaves_on_purpose_goes_and_a_lost_one_keeps_its_place(rooms):
    ama, bo, cy = Client(rooms), Client(rooms), Client(rooms)
    for client, name in ((ama, "Ama"), (bo, "Bo"), (cy, "Cy")):
        await client.hello(name)
    room = ama.requests.member[0].room
    bo.connection.receive_close(1001)
    await bo.requests.end()
    cy.connection.receive_close(None)  # the network went away
    await cy.requests.end()
    assert bo.visitor.id not in room.visitors
    assert room.visitors[cy.visitor.id].away_until is not None
    assert [m["id"] for m in ama.of_type("leave")] == [bo.visitor.id]
