"""The store behaves the same over SQLite and PostgreSQL: every test runs on both backends."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import thirdspace.store as store
from tests.conftest import demo_scene
from tests.processes import free_port
from thirdspace.config import Settings
from thirdspace.store import MIGRATIONS, Conflict, Database, Duplicate, NotFound


def scene_document(scene_id: str = "gallery") -> dict:
    return {**demo_scene("gallery"), "id": scene_id}


def moved(document: dict, x: float) -> dict:
    nodes = [{**n, "position": [x, 0, -2.5]} if n["id"] == "plinth-1" else n for n in document["nodes"]]
    return {**document, "nodes": nodes}


def integrity_errors() -> tuple[type[Exception], ...]:
    import psycopg

    return sqlite3.IntegrityError, psycopg.IntegrityError


def schema_version(db: Database) -> int:
    with db._tx(write=False):
        if db.path is not None:
            return db.backend.execute("PRAGMA user_version").fetchone()["user_version"]
        return db.backend.execute("SELECT version FROM schema_version").fetchone()["version"]


# -- users and sessions ------------------------------------------------------------------------


def test_users_keep_a_hash_of_their_token(db):
    curator, token = db.add_user("Amina", "curator")
    guide, _ = db.add_user("Bo", "guide")  # the role the third migration allows
    assert curator.id != guide.id and len(token) >= 40
    assert db.user_by_token(token) == curator
    assert db.user_by_token(token + "x") is None
    assert db.users() == [curator, guide]
    assert token not in {row["token_sha256"] for row in db._rows("SELECT token_sha256 FROM users")}


def test_a_taken_name_is_a_duplicate(db):
    db.add_user("Amina", "curator")
    with pytest.raises(Duplicate) as err:
        db.add_user("Amina", "admin")
    assert isinstance(err.value, sqlite3.IntegrityError)  # what callers written for SQLite catch
    with pytest.raises(ValueError, match="role"):
        db.add_user("Bo", "emperor")
    assert [u.name for u in db.users()] == ["Amina"]  # the failed transactions left nothing behind
    assert db.add_user("Bo", "visitor")[0].name == "Bo"  # and the connection is still usable


def test_sessions_open_expire_and_close(db):
    user, _ = db.add_user("Amina", "curator")
    session_id, csrf = db.open_session(user)
    assert db.session(session_id) == (user, csrf)
    assert db.session("not-a-session") is None
    expired, _ = db.open_session(user, hours=-1)
    assert db.session(expired) is None
    db.close_session(session_id)
    assert db.session(session_id) is None


# -- scenes and revisions ----------------------------------------------------------------------


def test_scene_revisions_publish_and_roll_back(db):
    document = scene_document("gallery")
    record = db.create_scene(document, "import", "imported", publish=True)
    assert (record.id, record.draft_revision, record.published_revision) == ("gallery", 1, 1)
    assert db.scene_exists("gallery") and not db.scene_exists("nowhere")
    with pytest.raises(FileExistsError):
        db.create_scene(document, "import", "again")

    assert db.write_draft("gallery", 1, moved(document, 1.0), "Amina", "moved").draft_revision == 2
    assert db.write_draft("gallery", 2, moved(document, 2.0), "Amina", "moved again").draft_revision == 3
    with pytest.raises(Conflict) as stale:
        db.write_draft("gallery", 2, moved(document, 9.0), "Bo", "late")
    assert stale.value.current == 3
    assert db.revision("gallery", 1)["document"] == document  # nothing is overwritten
    assert db.revision("gallery", 3) | {"created_at": None} == {
        "revision": 3,
        "author": "Amina",
        "message": "moved again",
        "created_at": None,
        "document": moved(document, 2.0),
    }
    with pytest.raises(NotFound):
        db.revision("gallery", 4)

    assert db.publish("gallery", 3, "Amina").published_revision == 3
    with pytest.raises(Conflict):
        db.publish("gallery", 2, "Amina")
    with pytest.raises(NotFound):
        db.publish("gallery", 3, "Amina", revision=99)
    # Rolling back is a new revision with an earlier one's content, published.
    db.write_draft("gallery", 3, db.revision("gallery", 1)["document"], "Amina", "rolled back to revision 1")
    record = db.publish("gallery", 4, "Amina")
    assert (record.draft_revision, record.published_revision) == (4, 4)
    history = db.revisions("gallery")
    assert [r["revision"] for r in history] == [4, 3, 2, 1]
    assert [r["published_at"] is not None for r in history] == [True, True, False, True]
    assert db.revision("gallery", 4)["document"] == document


def test_copies_deletes_and_order(db):
    db.create_scene(scene_document("gallery"), "import", "imported", publish=True)
    source = db.revision("gallery", db.scene("gallery").draft_revision)["document"]
    copy = db.create_scene({**source, "id": "gallery-copy"}, "Amina", "copied from gallery")
    assert (copy.draft_revision, copy.published_revision) == (1, None)
    assert db.revision("gallery-copy", 1)["document"]["title"] == source["title"]
    for scene_id in ("gallery_b", "gallery0", "galleryz", "Gallery"):
        db.create_scene(scene_document(scene_id), "Amina", "created")
    ids = [r.id for r in db.scenes()]
    assert ids == sorted(ids)  # byte order on both backends, whatever PostgreSQL's locale

    with pytest.raises(Conflict):
        db.delete_scene("gallery-copy", 2)
    db.delete_scene("gallery-copy", 1)
    assert "gallery-copy" not in [r.id for r in db.scenes()]
    with pytest.raises(NotFound):
        db.scene("gallery-copy")
    with pytest.raises(NotFound):
        db.write_draft("gallery-copy", 1, source, "Amina", "edit")
    with pytest.raises(NotFound):
        db.revisions("gallery-copy")
    assert db.scene_exists("gallery-copy")  # its id stays taken: its revisions are kept
    with pytest.raises(FileExistsError):
        db.create_scene({**source, "id": "gallery-copy"}, "Amina", "again")


# -- assets, reviews and reports ---------------------------------------------------------------


def test_assets_and_the_review_queue(db):
    db.add_asset("lamp", "a" * 64, "upload", True, "Amina")
    time.sleep(0.005)  # listed oldest first (then by id)
    db.add_asset("chair", "b" * 64, "recipe", False, "Amina")
    assert db.asset("lamp") | {"created_at": None} == {
        "id": "lamp",
        "sha256": "a" * 64,
        "origin": "upload",
        "generated": 1,
        "created_by": "Amina",
        "created_at": None,
    }
    assert db.asset("nothing") is None
    assert [a["id"] for a in db.assets()] == ["lamp", "chair"]
    with pytest.raises(Duplicate):
        db.add_asset("lamp", "c" * 64, "upload", True, "Bo")

    first = db.add_review("asset", "lamp", {"prompt": "a lamp"}, "Amina")
    second = db.add_review("text", "gallery/title/fr", {"text": "Galerie"}, "Amina", scene_id="gallery")
    assert second > first
    assert db.review_status("asset", "lamp") == "pending" and db.review_status("asset", "chair") is None
    assert db.review_statuses("text") == {"gallery/title/fr": "pending"}
    decided = db.decide(first, "approved", "Bo", "fine")
    assert (decided["status"], decided["decided_by"], decided["note"]) == ("approved", "Bo", "fine")
    assert decided["detail"] == {"prompt": "a lamp"}
    db.decide(second, "approved", "Bo", "")
    assert db.review_statuses("text") == {"gallery/title/fr": "approved"}
    again = db.add_review("text", "gallery/title/fr", {"text": "Galerie!"}, "Amina", scene_id="gallery")
    assert db.review_statuses("text") == {"gallery/title/fr": "pending"}  # the latest decision counts
    assert [r["id"] for r in db.reviews("pending")] == [again]
    assert [r["id"] for r in db.reviews()] == [first, second, again]
    assert db.review(second)["scene_id"] == "gallery"
    with pytest.raises(NotFound):
        db.decide(999, "approved", "Bo", "")
    with pytest.raises(NotFound):
        db.review(999)
    with pytest.raises(ValueError):
        db.decide(first, "maybe", "Bo", "")


def test_reports_newest_first(db):
    first = db.add_report("gallery-1", "gallery", {"text": "rude", "from": "x"}, "abuse", "Amina")
    second = db.add_report("gallery-1", "gallery", {"text": "spam"}, "spam", "Bo")
    reports = db.reports()
    assert [r["id"] for r in reports] == [second, first]
    assert reports[1]["line"] == {"text": "rude", "from": "x"} and reports[1]["reason"] == "abuse"


# -- migrations --------------------------------------------------------------------------------


def test_migrations_run_once_and_a_restart_keeps_everything(target):
    db = Database(target)
    user, token = db.add_user("Amina", "curator")
    db.create_scene(scene_document(), "import", "imported", publish=True)
    assert schema_version(db) == len(MIGRATIONS) and db.integrity() == "ok"
    db.close()
    for _ in range(2):
        db = Database(target)  # nothing left to migrate
        assert schema_version(db) == len(MIGRATIONS) and db.integrity() == "ok"
        assert db.user_by_token(token) == user and db.scene("gallery").draft_revision == 1
        db.close()


def test_an_older_schema_is_migrated_and_keeps_its_rows(target, monkeypatch):
    with monkeypatch.context() as older:
        older.setattr(store, "MIGRATIONS", MIGRATIONS[:2])  # before guides
        db = Database(target)
        assert schema_version(db) == 2
        curator, token = db.add_user("Amina", "curator")
        with pytest.raises(integrity_errors()):  # the CHECK of the first migration
            db.add_user("Bo", "guide")
        db.close()
    db = Database(target)
    assert schema_version(db) == len(MIGRATIONS) and db.integrity() == "ok"
    assert db.user_by_token(token) == curator
    guide, _ = db.add_user("Bo", "guide")
    assert guide.id > curator.id  # new ids go on after the kept ones
    db.close()


def test_nodes_starting_together_migrate_once(target):
    with ThreadPoolExecutor(4) as pool:
        databases = list(pool.map(lambda _: Database(target), range(4)))
    try:
        assert {schema_version(db) for db in databases} == {len(MIGRATIONS)}
        databases[0].add_user("Amina", "curator")
        assert [u.name for u in databases[3].users()] == ["Amina"]
    finally:
        for db in databases:
            db.close()


# -- writers on several connections (nodes) ----------------------------------------------------


def test_a_writer_waits_for_the_one_holding_the_draft_and_then_conflicts(target):
    """Node A has read the draft head and is writing; node B writes on the same base: B waits, then gets Conflict."""
    a, b = Database(target), Database(target)
    try:
        document = scene_document()
        a.create_scene(document, "import", "imported", publish=True)
        a_has_the_head, b_started = threading.Event(), threading.Event()
        add_revision = a._add_revision

        def slow_add_revision(*args):
            a_has_the_head.set()
            assert b_started.wait(10)
            time.sleep(0.5)  # B's write is now waiting on A's transaction
            add_revision(*args)

        a._add_revision = slow_add_revision
        outcome: dict[str, object] = {}

        def write_b():
            assert a_has_the_head.wait(10)
            b_started.set()
            try:
                outcome["b"] = b.write_draft("gallery", 1, moved(document, 2.0), "Bo", "B's edit")
            except Exception as err:  # noqa: BLE001 - the outcome is checked below
                outcome["b"] = err
            outcome["b_done"] = time.monotonic()

        thread = threading.Thread(target=write_b)
        thread.start()
        record = a.write_draft("gallery", 1, moved(document, 1.0), "Amina", "A's edit")
        a_done = time.monotonic()
        thread.join(20)
        assert record.draft_revision == 2
        assert isinstance(outcome["b"], Conflict) and outcome["b"].current == 2, outcome["b"]
        assert outcome["b_done"] >= a_done - 0.05  # B did not finish before A committed
        assert [r["author"] for r in b.revisions("gallery")] == ["Amina", "import"]
    finally:
        a.close()
        b.close()


def test_concurrent_writers_on_one_base_exactly_one_wins(target):
    databases = [Database(target) for _ in range(6)]
    try:
        document = scene_document()
        databases[0].create_scene(document, "import", "imported", publish=True)
        start = threading.Barrier(len(databases))

        def write(index: int):
            start.wait(10)
            try:
                return databases[index].write_draft("gallery", 1, moved(document, index), f"node {index}", "edit")
            except Conflict as err:
                return err

        with ThreadPoolExecutor(len(databases)) as pool:
            outcomes = list(pool.map(write, range(len(databases))))
        winners = [o for o in outcomes if not isinstance(o, Conflict)]
        assert len(winners) == 1 and winners[0].draft_revision == 2
        assert all(o.current == 2 for o in outcomes if isinstance(o, Conflict))
        assert len(databases[1].revisions("gallery")) == 2
    finally:
        for db in databases:
            db.close()


def test_writers_that_retry_on_conflict_lose_no_revision(target):
    writers, edits = 4, 8
    databases = [Database(target) for _ in range(writers)]
    try:
        databases[0].create_scene(scene_document(), "import", "imported")

        def edit(index: int) -> int:
            db, conflicts = databases[index], 0
            for step in range(edits):
                while True:
                    head = db.scene("gallery").draft_revision
                    try:
                        db.write_draft("gallery", head, moved(scene_document(), index * 100 + step), f"node {index}", "edit")
                        break
                    except Conflict:
                        conflicts += 1
            return conflicts

        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(edit, range(writers)))
        history = databases[0].revisions("gallery")
        assert [r["revision"] for r in history] == list(range(writers * edits + 1, 0, -1))
        assert databases[0].scene("gallery").draft_revision == writers * edits + 1
    finally:
        for db in databases:
            db.close()


def test_two_nodes_creating_one_scene_one_gets_file_exists(target):
    databases = [Database(target) for _ in range(4)]
    try:
        start = threading.Barrier(len(databases))

        def create(db: Database):
            start.wait(10)
            try:
                return db.create_scene(scene_document("shared"), "import", "imported", publish=True)
            except FileExistsError as err:
                return err

        with ThreadPoolExecutor(len(databases)) as pool:
            outcomes = list(pool.map(create, databases))
        assert sum(not isinstance(o, FileExistsError) for o in outcomes) == 1, outcomes
        assert len(databases[2].revisions("shared")) == 1
    finally:
        for db in databases:
            db.close()


# -- choosing and opening a backend ------------------------------------------------------------


def test_settings_choose_the_backend(tmp_path, postgres):
    db = Database.open(Settings.load(environ={}, data_dir=tmp_path))
    assert db.path == tmp_path / "thirdspace.sqlite3" and db.path.exists()
    db.close()
    url = postgres.create_database()
    db = Database.open(Settings.load(environ={}, data_dir=tmp_path / "pg", database_url=url))
    assert db.path is None and db.scenes() == []
    assert not (tmp_path / "pg" / "thirdspace.sqlite3").exists()
    db.close()


def test_clear_errors_for_a_bad_database_url(tmp_path, postgres, monkeypatch):
    with pytest.raises(ValueError, match="database_url"):
        Database("mysql://root:secret@127.0.0.1/db")
    closed = f"postgresql://thirdspace:secret@127.0.0.1:{free_port()}/db"  # nothing listens there
    with pytest.raises(RuntimeError, match="database_url") as err:
        Database(closed)
    assert "secret" not in str(err.value)
    with pytest.raises(RuntimeError, match="database_url"):
        Database(postgres.url("no_such_database"))
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(RuntimeError, match="database_url is set but psycopg is not installed"):
        Database(postgres.url())


def test_a_dropped_connection_is_opened_again(postgres):
    import psycopg

    db = Database(postgres.create_database())
    try:
        db.add_user("Amina", "curator")
        pid = db.backend.conn.info.backend_pid
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            db.users()  # the statement in flight fails
        assert [u.name for u in db.users()] == ["Amina"]  # the next one reconnects
    finally:
        db.close()
