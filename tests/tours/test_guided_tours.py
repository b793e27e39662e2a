"""Guide-led tours: a guide and three members; stops advance for everyone; late joiners; handing over; a guide who leaves."""

from __future__ import annotations

import asyncio

from thirdspace.client import ThirdSpaceClient
from thirdspace.web.keys import DB

TOUR = "travelling-objects"


def state(client: ThirdSpaceClient):
    return next((m for m in reversed(client.messages) if m["type"] == "tour_state"), None)


async def wait_state(client: ThirdSpaceClient, **expected):
    return await client.wait_for(lambda c: (s := state(c)) and all(s.get(k) == v for k, v in expected.items()) and s, timeout=5)


async def test_a_guide_leads_three_members_and_the_group_is_never_stranded(server):
    _, guide_token = await server.app[DB].add_user("Guide Wanjiru", "guide")
    _, second_token = await server.app[DB].add_user("Guide Omar", "guide")
    ws = server.ws
    guide = await ThirdSpaceClient.connect(ws, "gallery", "Wanjiru", "sw", token=guide_token)
    members = [await ThirdSpaceClient.connect(ws, "gallery", name, lang) for name, lang in (("Ana", "es"), ("Li", "zh"), ("Sami", "ar"))]
    deputy = None
    try:
        assert all(m.room == guide.room for m in members)
        await members[0].send({"type": "tour", "action": "start", "tour": TOUR})
        refused = await members[0].wait_for(lambda c: c.errors)
        assert refused[-1]["code"] == "forbidden"  # only guides lead

        await guide.send({"type": "tour", "action": "start", "tour": TOUR})
        first = await wait_state(guide, stop="welcome", guide=guide.id)
        assert first["count"] == 5 and first["stand"]["position"] == [0, 0, 3]
        for member in members[:2]:
            await member.send({"type": "tour", "action": "join", "tour": TOUR})
        await wait_state(guide, members=[members[0].id, members[1].id])

        await guide.send({"type": "tour", "action": "next", "tour": TOUR})
        for client in (guide, *members[:2]):
            await wait_state(client, stop="celadon", index=1)
        await guide.send({"type": "tour", "action": "goto", "tour": TOUR, "stop": "astrolabe"})
        await wait_state(members[1], stop="astrolabe", index=3)
        await members[0].send({"type": "tour", "action": "next", "tour": TOUR})
        assert (await members[0].wait_for(lambda c: c.errors))[-1]["code"] == "forbidden"  # members do not move the group

        # A late joiner lands on the current stop at once.
        await members[2].send({"type": "tour", "action": "join", "tour": TOUR})
        late = await wait_state(members[2], stop="astrolabe")
        assert late["guide"] == guide.id and members[2].id in late["members"]

        # The guide is visible to the whole room, however far.
        room = server.rooms.runners[guide.room].room
        assert room.always_visible[room.visitors[guide.id].slot]

        # Handing the lead over.
        await guide.send({"type": "tour", "action": "lead", "tour": TOUR, "to": members[1].id})
        handed = await wait_state(members[0], guide=members[1].id)
        assert guide.id in handed["members"]
        await members[1].send({"type": "tour", "action": "prev", "tour": TOUR})
        await wait_state(guide, stop="lustre", guide=members[1].id)

        # Another guide joins; when the leader leaves, the lead passes to them, not to the first member.
        deputy = await ThirdSpaceClient.connect(ws, "gallery", "Omar", "fr", token=second_token)
        await deputy.send({"type": "tour", "action": "join", "tour": TOUR})
        await wait_state(deputy, stop="lustre")
        await members[1].close()
        after = await wait_state(members[0], guide=guide.id)  # Wanjiru joined the group before Omar and may guide
        assert members[1].id not in after["members"] and after["stop"] == "lustre"
        await guide.close()
        after = await wait_state(members[0], guide=deputy.id)
        await deputy.send({"type": "tour", "action": "next", "tour": TOUR})
        await wait_state(members[2], stop="astrolabe", guide=deputy.id)
        await members[2].send({"type": "tour", "action": "leave", "tour": TOUR})
        await members[2].wait_for(lambda c: any(m["type"] == "tour_left" for m in c.messages))
        final = await wait_state(members[0], guide=deputy.id)
        assert members[2].id not in final["members"]
    finally:
        for client in (guide, *members, *([deputy] if deputy else [])):
            await client.close()
        await asyncio.sleep(0.05)


async def test_tour_messages_are_checked(server):
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Curious") as client:
        await client.send({"type": "tour", "action": "fly", "tour": TOUR})
        await client.send({"type": "tour", "action": "join", "tour": "nowhere"})
        await client.send({"type": "tour", "action": "goto", "tour": TOUR})
        errors = await client.wait_for(lambda c: c.errors if len(c.errors) >= 3 else None)
        assert [(e["code"], e["field"]) for e in errors] == [("bad_request", "action"), ("unknown_tour", "tour"), ("bad_request", "stop")]
