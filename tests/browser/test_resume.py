"""The page keeps its place through a dropped connection, in real Chromium (moves between nodes:
test_cluster_page.py)."""

import asyncio

import orjson

from thirdspace.client import ThirdSpaceClient

AVATAR = "thirdspace.avatars().find(a => a.id === {id})"
BACK = "thirdspace.resumes === {n} && thirdspace.status === 'ready'"
WATCH_STATUS = """(() => {
  const status = document.querySelector("#status");
  window.shown = [];
  new MutationObserver(() => shown.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
})()"""


def membership_changes(messages: list[dict], visitor_id: int) -> list[dict]:
    return [m for m in messages if (m.get("type") == "leave" and m["id"] == visitor_id)
            or (m.get("type") == "join" and m["visitor"]["id"] == visitor_id)]  # fmt: skip


async def leave(v, server, room: str, visitor_id: int) -> None:
    """Close the page and end its place at once: the next test finds the room as it was.

    A page closed without a close frame keeps its place for the resume window, as a dropped one does.
    """
    await v.page.close()
    runner = server.rooms.runners.get(room)
    for _ in range(200):
        if runner is None or runner.sessions.get(visitor_id) is None:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"visitor {visitor_id}'s connection is still open after the page closed")
    if runner is not None and visitor_id in runner.room.visitors:
        await server.rooms.forget(runner, [visitor_id], runner.room.leave(visitor_id))


async def chat_texts(page) -> list[str]:
    return [line["text"] for line in await page.evaluate("thirdspace.chat()")]


async def wait_for_line(page, text: str) -> None:
    await page.wait_for_function(f"thirdspace.chat().some(line => line.text === {orjson.dumps(text).decode()})")


async def test_a_dropped_page_resumes_its_place_unseen(server, visit):
    v = await visit()
    me = await v.join(server.http, "gallery", "Ama")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Bo") as bo:
        assert bo.room == me["room"]
        await v.page.wait_for_function(AVATAR.format(id=bo.id))
        await bo.send_chat("before the drop")
        await wait_for_line(v.page, "before the drop")
        seen = len(bo.messages)

        await v.page.evaluate(WATCH_STATUS)
        session = server.rooms.runners[me["room"]].sessions[me["id"]]
        session.transport.abort()  # the network goes: no close frame, the page sees 1006
        await v.page.wait_for_function(BACK.format(n=1), timeout=10000)
        assert await v.page.evaluate("shown") == ["Reconnecting…", ""]  # said while away, cleared when back

        after = await v.page.evaluate("({id: thirdspace.visitorId, room: thirdspace.room, reconnects: thirdspace.reconnects})")
        assert after == {"id": me["id"], "room": me["room"], "reconnects": 1}
        assert server.rooms.runners[me["room"]].sessions[me["id"]] is not session  # a new connection holds the place
        assert (await chat_texts(v.page)).count("before the drop") == 1  # the history came again, not doubled
        await bo.send_chat("after the drop")
        await wait_for_line(v.page, "after the drop")
        assert await v.page.evaluate(f"!!{AVATAR.format(id=bo.id)}")
        await asyncio.sleep(0.2)
        assert membership_changes(bo.messages[seen:], me["id"]) == []  # Bo never saw Ama leave or come back
    assert v.errors == []
    await leave(v, server, me["room"], me["id"])


async def test_after_the_resume_window_the_page_rejoins_as_a_new_visitor(server, visit):
    v = await visit()
    me = await v.join(server.http, "gallery", "Ama")
    async with await ThirdSpaceClient.connect(server.ws, "gallery", "Bo") as bo:
        await bo.send_chat("old room talk")
        await wait_for_line(v.page, "old room talk")
        runner = server.rooms.runners[me["room"]]
        # The window runs out while the page is away: the room lets it go, as its expiry would.
        await server.rooms.forget(runner, [me["id"]], runner.room.leave(me["id"]))
        await v.page.wait_for_function("thirdspace.reconnects === 1 && thirdspace.status === 'ready'", timeout=10000)
        again = await v.page.evaluate("({id: thirdspace.visitorId, room: thirdspace.room, resumes: thirdspace.resumes})")
        assert again["resumes"] == 0 and again["room"] == me["room"]  # the hello asked for the same room
        assert again["id"] in server.rooms.runners[again["room"]].room.visitors
        joined = await bo.wait_for(lambda c: [m for m in c.messages if m.get("type") == "join" and m["visitor"]["id"] == again["id"]])
        assert joined[0]["visitor"]["name"] == "Ama"
        await v.page.wait_for_function(AVATAR.format(id=bo.id))
        log = await v.page.locator("#chat-log li").all_text_contents()
        assert log[-1] == "Reconnected: you rejoined the room."
        assert (await chat_texts(v.page)).count("old room talk") == 1  # the panel starts again from the welcome
    assert v.errors == []
    await leave(v, server, again["room"], again["id"])
