"""The server's store, AsyncDatabase: Database's methods as coroutines run in threads, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading

import pytest

from tests.conftest import demo_scene
from thirdspace.config import Settings
from thirdspace.services.store import READS, WRITES, AsyncDatabase
from thirdspace.store import Conflict, Database, Duplicate, NotFound


def scene_document(scene_id: str = "gallery") -> dict:
    return {**demo_scene("gallery"), "id": scene_id}


def moved(document: dict, x: float) -> dict:
    nodes = [{**n, "position": [x, 0, -2.5]} if n["id"] == "plinth-1" else n for n in document["nodes"]]
    return {**document, "nodes": nodes}


@pytest.fixture
async def adb(target):
    db = AsyncDatabase(target)
    await db.start()
    yield db
    await db.close()


def public_methods(cls) -> dict[str, object]:
    return {name: member for name, member in vars(cls).items() if not name.startswith("_") and callable(member)}


def test_every_method_of_database_is_a_coroutine_with_the_same_arguments():
    lifecycle = {"open", "close"}
    sync = {name: m for name, m in public_methods(Database).items() if name not in lifecycle}
    assert set(sync) == READS | WRITES and not READS & WRITES  # a new Database method must be put in one of them
    for name, method in sync.items():
        mirrored = getattr(AsyncDatabase, name)
        assert inspect.iscoroutinefunction(mirrored), name
        sync_params = list(inspect.signature(method).parameters.values())
        async_params = list(inspect.signature(mirrored).parameters.values())
        assert [(p.name, p.kind, p.default) for p in async_params] == [(p.name, p.kind, p.default) for p in sync_params], name
    assert inspect.iscoroutinefunction(AsyncDatabase.close) and inspect.iscoroutinefunction(AsyncDatabase.open)


async def test_the_whole_api_round_trips(adb: AsyncDatabase):
    user, token = await adb.add_user("Amina", "curator")
    assert await adb.user_by_token(token) == user and await adb.users() == [user]
    with pytest.raises(Duplicate):
        await adb.add_user("Amina", "admin")
    session_id, csrf = await adb.open_session(user, 1)
    assert await adb.session(session_id) == (user, csrf)
    await adb.close_session(session_id)
    assert await adb.session(session_id) is None

    document = scene_document()
    record = await adb.create_scene(document, "import", "imported", publish=True)
    assert (record.draft_revision, record.published_revision) == (1, 1)
    assert await adb.scene_exists("gallery") and [r.id for r in await adb.scenes()] == ["gallery"]
    assert (await adb.write_draft("gallery", 1, moved(document, 1.0), "Amina", "moved")).draft_revision == 2
    with pytest.raises(Conflict) as stale:
        await adb.write_draft("gallery", 1, moved(document, 2.0), "Bo", "late")
    assert stale.value.current == 2
    assert (await adb.publish("gallery", 2, "Amina")).published_revision == 2
    assert (await adb.revision("gallery", 2))["document"] == moved(document, 1.0)
    assert [r["revision"] for r in await adb.revisions("gallery")] == [2, 1]
    with pytest.raises(NotFound):
        await adb.revision("gallery", 9)

    await adb.add_asset("lamp", "a" * 64, "upload", True, "Amina")
    assert (await adb.asset("lamp"))["sha256"] == "a" * 64 and [a["id"] for a in await adb.assets()] == ["lamp"]
    review = await adb.add_review("asset", "lamp", {"why": "generated"}, "Amina")
    text = await adb.add_review("text", "gallery/title/fr", {"text": "Galerie"}, "Amina", "gallery")
    assert await adb.review_status("asset", "lamp") == "pending"
    assert await adb.review_statuses("asset") == {"lamp": "pending"}
    assert await adb.review_statuses("text") == {"gallery/title/fr": "pending"}
    assert (await adb.decide(review, "approved", "Bo", "fine"))["status"] == "approved"
    assert (await adb.review(text))["scene_id"] == "gallery"
    assert [r["id"] for r in await adb.reviews("pending")] == [text] and len(await adb.reviews()) == 2
    report = await adb.add_report("gallery-1", "gallery", {"text": "rude"}, "abuse", "Amina")
    assert [r["id"] for r in await adb.reports()] == [report]
    await adb.delete_scene("gallery", 2)
    with pytest.raises(NotFound):
        await adb.scene("gallery")
    assert await adb.integrity() == "ok"


async def test_concurrent_writers_on_one_base_exactly_one_wins(adb: AsyncDatabase, target):
    """Writers on one node (one AsyncDatabase) and on another node (a second one on the same store)."""
    other = AsyncDatabase(target)
    await other.start()
    try:
        document = scene_document()
        await adb.create_scene(document, "import", "imported", publish=True)
        writes = [(adb if i % 2 else other).write_draft("gallery", 1, moved(document, i), f"writer {i}", "edit") for i in range(8)]
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
        winners = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(winners) == 1 and winners[0].draft_revision == 2, outcomes
        assert all(isinstance(o, Conflict) and o.current == 2 for o in outcomes if o not in winners), outcomes
        assert len(await other.revisions("gallery")) == 2
    finally:
        await other.close()


async def test_the_loop_runs_while_a_write_waits_for_a_lock(adb: AsyncDatabase, target):
    """Another node holds the draft's lock: the write waits in its thread and the loop keeps running meanwhile."""
    document = scene_document()
    await adb.create_scene(document, "import", "imported", publish=True)
    release, held = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # another process's transaction on the same store
        if isinstance(target, str):
            import psycopg

            with psycopg.connect(target) as conn, conn.transaction():
                conn.execute("SELECT draft_revision FROM scenes WHERE id = 'gallery' FOR UPDATE")
                held.set()
                release.wait(20)
        else:
            conn = sqlite3.connect(target, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(20)
            conn.execute("ROLLBACK")
            conn.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert await asyncio.to_thread(held.wait, 20)
    write = asyncio.ensure_future(adb.write_draft("gallery", 1, moved(document, 1.0), "Amina", "moved"))
    ticks = 0
    while ticks < 50:  # the event loop is free: a tick-like coroutine keeps being scheduled
        await asyncio.sleep(0.001)
        ticks += 1
    assert not write.done()  # still waiting for the other transaction
    assert (await adb.scene("gallery")).draft_revision == 1  # and reads are answered meanwhile
    release.set()
    assert (await write).draft_revision == 2
    await asyncio.to_thread(holder.join, 20)


async def test_sqlite_reads_run_beside_a_busy_writer_and_cannot_write(tmp_path):
    db = AsyncDatabase(tmp_path / "thirdspace.sqlite3", sqlite_readers=2)
    await db.start()
    try:
        await db.create_scene(scene_document(), "import", "imported", publish=True)
        busy, release = threading.Event(), threading.Event()

        def occupy_the_writer() -> None:
            busy.set()
            release.wait(20)

        blocked = asyncio.get_running_loop().run_in_executor(db._write_threads, occupy_the_writer)
        assert await asyncio.to_thread(busy.wait, 20)
        pending_write = asyncio.ensure_future(db.add_user("Amina", "curator"))
        assert (await db.scene("gallery")).draft_revision == 1  # a reader thread answers while the writer's is taken
        assert await db.users() == [] and not pending_write.done()
        release.set()
        await blocked
        user, token = await pending_write
        assert await db.user_by_token(token) == user  # and sees the write as soon as it is committed
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # reader connections are query_only
            await asyncio.get_running_loop().run_in_executor(
                db._read_threads,
                db._reader._run,
                "INSERT INTO reports (room, scene_id, line, reason, reported_by, created_at) VALUES ('r', 's', '{}', 'x', 'y', 'z')",
            )
    finally:
        await db.close()


async def test_postgres_uses_a_pool_that_replaces_dropped_connections(postgres):
    import psycopg

    url = postgres.create_database()
    db = AsyncDatabase(url, postgres_pool_size=3)
    await db.start()
    try:
        user, token = await db.add_user("Amina", "curator")
        results = await asyncio.gather(*(db.user_by_token(token) for _ in range(12)))
        assert results == [user] * 12
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            name = url.rsplit("/", 1)[1]
            pids = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'thirdspace'", (name,)
            ).fetchall()
            assert 1 <= len(pids) <= 3  # the pool holds at most database_pool_size connections
            for (pid,) in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await db.user_by_token(token) == user  # a checked connection replaces each dropped one
    finally:
        await db.close()


async def test_settings_choose_backend_and_threads(tmp_path, postgres):
    db = await AsyncDatabase.open(Settings.load(environ={}, data_dir=tmp_path, database_readers=0))
    try:
        assert db.path == tmp_path / "thirdspace.sqlite3" and db._reader is db._writer  # no readers: reads share the writer
        assert await db.scenes() == []
    finally:
        await db.close()
    with pytest.raises(RuntimeError, match="not started"):
        await db.scenes()
    url = postgres.create_database()
    db = await AsyncDatabase.open(Settings.load(environ={}, data_dir=tmp_path / "pg", database_url=url, database_pool_size=2))
    try:
        assert db.path is None and db.postgres_pool_size == 2 and await db.scenes() == []
    finally:
        await db.close()
