"""The store: SQLite in WAL mode under the data directory, or PostgreSQL (``database_url``)
shared by the nodes of a cluster on several machines.

Scenes are kept as revisions (a new row for every change, never an update of
an old one); a scene row points at its draft head and its published revision.
Users keep a sha256 of their token, never the token.  The review queue keeps
every decision.  All methods are short transactions; a committed write survives
the process being killed (SQLite: ``synchronous=FULL``; PostgreSQL: its WAL).

The SQL is written once, with ``?`` placeholders.  What differs between the two
databases is in a small backend class (``_SQLite``, ``_Postgres``): connecting,
placeholders, transactions, locking the row a write is based on, ids of new rows,
where the schema version is kept, and the migration that has to be written twice.

``Database`` is synchronous: the CLI and the tests call it directly, and the server
drives it from worker threads through ``thirdspace.services.store.AsyncDatabase``.
One instance may be used from several threads: each thread has its own transaction,
and its own SQLite connection (``read_only`` ones for readers beside the writer) or,
with ``pool_size``, a PostgreSQL connection borrowed from a ``psycopg_pool`` pool for
the length of each transaction.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROLES = ("visitor", "guide", "curator", "admin")  # each may do what the ones before it may
REVIEW_STATUSES = ("pending", "approved", "rejected")

# Each migration runs once, in a transaction, in order.  A migration is SQLite's SQL, which
# _Postgres.ddl translates, or a dict with the text for each backend.  Statements are split
# on ";", so none may contain one.
MIGRATIONS: list[str | dict[str, str]] = [
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('visitor', 'curator', 'admin')),
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE scenes (
        id TEXT PRIMARY KEY,
        draft_revision INTEGER NOT NULL,
        published_revision INTEGER,
        created_at TEXT NOT NULL,
        deleted_at TEXT
    );
    CREATE TABLE revisions (
        scene_id TEXT NOT NULL REFERENCES scenes(id),
        number INTEGER NOT NULL,
        document TEXT NOT NULL,
        author TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (scene_id, number)
    );
    CREATE TABLE publications (
        id INTEGER PRIMARY KEY,
        scene_id TEXT NOT NULL REFERENCES scenes(id),
        revision INTEGER NOT NULL,
        author TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE assets (
        id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        origin TEXT NOT NULL,
        generated INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('asset', 'text')),
        subject TEXT NOT NULL,
        scene_id TEXT,
        detail TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        decided_by TEXT,
        decided_at TEXT,
        note TEXT
    );
    CREATE INDEX reviews_subject ON reviews(kind, subject);
    """,
    """
    CREATE TABLE IF NOT EXISTS reports (
        id INTEGER PRIMARY KEY,
        room TEXT NOT NULL,
        scene_id TEXT NOT NULL,
        line TEXT NOT NULL,
        reason TEXT NOT NULL,
        reported_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    {  # users may be guides: SQLite cannot change a CHECK constraint, so it copies the table
        "sqlite": """
        CREATE TABLE users_with_guides (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('visitor', 'guide', 'curator', 'admin')),
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        INSERT INTO users_with_guides SELECT id, name, role, token_sha256, created_at FROM users;
        DROP TABLE users;
        ALTER TABLE users_with_guides RENAME TO users;
        """,
        "postgresql": """
        ALTER TABLE users DROP CONSTRAINT users_role_check;
        ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('visitor', 'guide', 'curator', 'admin'));
        """,
    },
    # Moderation that outlives a room: a kick or a mute for a scene, one row per identity of the person
    # ("user:ID", "browser:ID", "addr:IP"), until a time in epoch milliseconds.  Secrets shared by the
    # nodes (the key that signs the browser cookie).  When a user's tokens were last revoked.
    """
    CREATE TABLE bans (
        id INTEGER PRIMARY KEY,
        scene_id TEXT NOT NULL,
        identity TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('kick', 'mute')),
        chat INTEGER NOT NULL,
        voice INTEGER NOT NULL,
        until_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX bans_lookup ON bans(scene_id, identity);
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ALTER TABLE users ADD COLUMN revoked_at_ms INTEGER
    """,
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_ms() -> int:
    return int(time.time() * 1000)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role}


@dataclass(frozen=True)
class SceneRecord:
    id: str
    draft_revision: int
    published_revision: int | None
    created_at: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "draft_revision": self.draft_revision,
            "published_revision": self.published_revision,
            "created_at": self.created_at,
        }


class Conflict(Exception):
    """A write based on a revision that is no longer the draft head."""

    def __init__(self, current: int):
        super().__init__(f"the draft is at revision {current}")
        self.current = current


class NotFound(KeyError):
    pass


class Duplicate(sqlite3.IntegrityError):
    """A unique key is taken (a user's name, a scene's or an asset's id), on either backend.

    A subclass of ``sqlite3.IntegrityError`` so that code written for SQLite alone keeps working."""


class Database:
    """The store, over SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL).

    ``pool_size`` (PostgreSQL): keep up to that many connections in a pool shared by the
    threads that use this instance, instead of one connection.  ``read_only`` (SQLite):
    connections that refuse writes (``PRAGMA query_only``), one per thread, and no
    migrations: readers beside a writer that has already migrated the file."""

    def __init__(self, target: Path | str, *, pool_size: int = 0, read_only: bool = False):
        self._local = threading.local()  # per thread: whether a transaction is open
        if isinstance(target, str) and "://" in target:
            if read_only:
                raise ValueError("read_only is for SQLite readers; PostgreSQL readers and writers share one pool")
            self.path: Path | None = None  # PostgreSQL: no file of its own
            self.backend: _SQLite | _Postgres = _Postgres(target, pool_size)
        else:
            self.path = Path(target)
            self.backend = _SQLite(self.path, read_only)
        if not read_only:
            self._migrate()

    @classmethod
    def open(cls, settings: Any) -> Database:
        """PostgreSQL when ``settings.database_url`` is set, else SQLite in the data directory."""
        return cls(settings.database_url or settings.data_dir / "thirdspace.sqlite3")

    def _migrate(self) -> None:
        while True:  # one transaction per migration, as a node that starts at the same time may run them too
            with self._tx():
                version = self.backend.schema_version()
                if version >= len(MIGRATIONS):
                    return
                for statement in self.backend.migration(MIGRATIONS[version]):
                    self._run(statement)
                self.backend.set_schema_version(version + 1)

    def close(self) -> None:
        self.backend.close()

    def integrity(self) -> str:
        """'ok', or what is wrong: SQLite's integrity_check (on PostgreSQL, see _Postgres.integrity)."""
        with self._tx(write=False):
            return self.backend.integrity()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[None]:
        """One transaction (SQLite: BEGIN IMMEDIATE): COMMIT at the end, ROLLBACK on an exception.

        Statements inside one join it (in the same thread); a read on its own is a transaction of its own."""
        if getattr(self._local, "in_transaction", False):
            yield
            return
        self._local.in_transaction = True
        try:
            with self.backend.transaction(write):
                yield
        finally:
            self._local.in_transaction = False

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A write, in a transaction: the number of rows it changed."""
        return self.backend.execute(sql, params).rowcount

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """An INSERT, in a transaction: the new row's id."""
        return self.backend.insert(sql, params)

    def _row(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        with self._tx(write=False):
            return self.backend.execute(sql, params).fetchone()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._tx(write=False):
            return self.backend.execute(sql, params).fetchall()

    # -- users and sessions ------------------------------------------------------------------

    def add_user(self, name: str, role: str) -> tuple[User, str]:
        """Create a user; the token is returned once and only its hash is kept.  Duplicate if the name is taken."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        with self._tx():
            user_id = self._insert(
                "INSERT INTO users (name, role, token_sha256, created_at) VALUES (?, ?, ?, ?)", (name, role, token_hash(token), now())
            )
        return User(user_id, name, role), token

    def user_by_token(self, token: str) -> User | None:
        row = self._row("SELECT id, name, role FROM users WHERE token_sha256 = ?", (token_hash(token),))
        return User(row["id"], row["name"], row["role"]) if row else None

    def users(self) -> list[User]:
        return [User(r["id"], r["name"], r["role"]) for r in self._rows("SELECT id, name, role FROM users ORDER BY id")]

    def open_session(self, user: User, hours: float = 12) -> tuple[str, str]:
        """A new cookie session: (session id for the cookie, CSRF token)."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = datetime.now(UTC).timestamp() + hours * 3600
        with self._tx():
            self._run(
                "INSERT INTO sessions (id_sha256, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash(session_id), user.id, csrf, now(), datetime.fromtimestamp(expires, UTC).isoformat()),
            )
        return session_id, csrf

    def session(self, session_id: str) -> tuple[User, str] | None:
        row = self._row(
            "SELECT u.id, u.name, u.role, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_sha256 = ?",
            (token_hash(session_id),),
        )
        if row is None or datetime.fromisoformat(row["expires_at"]) < datetime.now(UTC):
            return None
        return User(row["id"], row["name"], row["role"]), row["csrf"]

    def close_session(self, session_id: str) -> None:
        with self._tx():
            self._run("DELETE FROM sessions WHERE id_sha256 = ?", (token_hash(session_id),))

    def user(self, user_id: int) -> User | None:
        row = self._row("SELECT id, name, role FROM users WHERE id = ?", (user_id,))
        return User(row["id"], row["name"], row["role"]) if row else None

    def revoke_user(self, user_id: int, new_token: bool = False) -> str | None:
        """End every session of the user and make their token worthless (a new one is returned with ``new_token``).

        NotFound if there is no such user.  Open connections notice through :meth:`user_states`."""
        token = secrets.token_urlsafe(32)
        with self._tx():
            changed = self._run("UPDATE users SET token_sha256 = ?, revoked_at_ms = ? WHERE id = ?", (token_hash(token), now_ms(), user_id))
            if not changed:
                raise NotFound(str(user_id))
            self._run("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        return token if new_token else None

    def remove_user(self, user_id: int) -> User:
        """Delete the user and their sessions; NotFound if there is no such user."""
        with self._tx():
            row = self._row("SELECT id, name, role FROM users WHERE id = ?", (user_id,))
            if row is None:
                raise NotFound(str(user_id))
            self._run("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            self._run("DELETE FROM users WHERE id = ?", (user_id,))
        return User(row["id"], row["name"], row["role"])

    def user_states(self, user_ids: list[int]) -> dict[int, int | None]:
        """For each of these users that still exists: when their tokens were last revoked (epoch ms), or None."""
        if not user_ids:
            return {}
        marks = ", ".join("?" for _ in user_ids)
        rows = self._rows(f"SELECT id, revoked_at_ms FROM users WHERE id IN ({marks})", list(user_ids))
        return {r["id"]: r["revoked_at_ms"] for r in rows}

    def secret(self, name: str) -> str:
        """A random secret shared by every node of the store, made on first use (the browser cookie's signing key)."""
        row = self._row("SELECT value FROM secrets WHERE name = ?", (name,))
        if row is not None:
            return row["value"]
        with self._tx():
            self._run("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, secrets.token_urlsafe(32)))
            row = self.backend.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return row["value"]

    # -- moderation that outlives a room -----------------------------------------------------------

    def add_bans(
        self, scene_id: str, identities: list[str], kind: str, until_ms: int, created_by: str, chat: bool = True, voice: bool = True
    ) -> None:
        """Kick (``kind`` "kick") or mute ("mute": chat, voice or both) these identities in the scene until ``until_ms``."""
        if kind not in ("kick", "mute"):
            raise ValueError("kind must be kick or mute")
        stamp = now()
        with self._tx():
            for identity in identities:
                self._run(
                    "INSERT INTO bans (scene_id, identity, kind, chat, voice, until_ms, created_by, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (scene_id, identity, kind, int(chat), int(voice), until_ms, created_by, stamp),
                )
            self._run("DELETE FROM bans WHERE until_ms < ?", (now_ms() - 86_400_000,))  # long over: forget them

    def lift_mutes(self, scene_id: str, identities: list[str], chat: bool = True, voice: bool = True) -> None:
        """A moderator unmuted the person (their chat, voice or both) in the scene."""
        if not identities:
            return
        marks = ", ".join("?" for _ in identities)
        where = f"scene_id = ? AND kind = 'mute' AND identity IN ({marks})"
        with self._tx():
            if chat:
                self._run(f"UPDATE bans SET chat = 0 WHERE {where}", [scene_id, *identities])
            if voice:
                self._run(f"UPDATE bans SET voice = 0 WHERE {where}", [scene_id, *identities])
            self._run(f"DELETE FROM bans WHERE {where} AND chat = 0 AND voice = 0", [scene_id, *identities])

    def active_bans(self, scene_id: str, identities: list[str]) -> list[dict[str, Any]]:
        """The kicks and mutes in force in the scene on any of these identities."""
        if not identities:
            return []
        marks = ", ".join("?" for _ in identities)
        return self._rows(
            "SELECT identity, kind, chat, voice, until_ms FROM bans"
            f" WHERE scene_id = ? AND until_ms > ? AND identity IN ({marks}) ORDER BY until_ms DESC",
            [scene_id, now_ms(), *identities],
        )

    # -- scenes and revisions ----------------------------------------------------------------

    def scene(self, scene_id: str) -> SceneRecord:
        row = self._row(
            "SELECT id, draft_revision, published_revision, created_at FROM scenes WHERE id = ? AND deleted_at IS NULL", (scene_id,)
        )
        if row is None:
            raise NotFound(scene_id)
        return SceneRecord(row["id"], row["draft_revision"], row["published_revision"], row["created_at"])

    def scenes(self) -> list[SceneRecord]:
        rows = self._rows("SELECT id, draft_revision, published_revision, created_at FROM scenes WHERE deleted_at IS NULL ORDER BY id")
        return [SceneRecord(r["id"], r["draft_revision"], r["published_revision"], r["created_at"]) for r in rows]

    def scene_exists(self, scene_id: str) -> bool:
        return self._row("SELECT 1 AS found FROM scenes WHERE id = ?", (scene_id,)) is not None

    def create_scene(self, document: dict[str, Any], author: str, message: str, publish: bool = False) -> SceneRecord:
        scene_id = document["id"]
        stamp = now()
        with self._tx():
            if self._row("SELECT 1 AS found FROM scenes WHERE id = ?", (scene_id,)):
                raise FileExistsError(scene_id)
            try:
                self._run(
                    "INSERT INTO scenes (id, draft_revision, published_revision, created_at) VALUES (?, 1, ?, ?)",
                    (scene_id, 1 if publish else None, stamp),
                )
            except Duplicate:  # PostgreSQL: another node created it since the check above
                raise FileExistsError(scene_id) from None
            self._add_revision(scene_id, 1, document, author, message, stamp)
            if publish:
                self._run(
                    "INSERT INTO publications (scene_id, revision, author, created_at) VALUES (?, 1, ?, ?)", (scene_id, author, stamp)
                )
        return self.scene(scene_id)

    def _add_revision(self, scene_id: str, number: int, document: dict[str, Any], author: str, message: str, stamp: str) -> None:
        self._run(
            "INSERT INTO revisions (scene_id, number, document, author, message, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (scene_id, number, orjson.dumps(document).decode(), author, message, stamp),
        )

    def write_draft(self, scene_id: str, base_revision: int, document: dict[str, Any], author: str, message: str) -> SceneRecord:
        """Add a revision on top of ``base_revision``; Conflict if the draft has moved on."""
        with self._tx():
            current = self._draft_head(scene_id)
            if current != base_revision:
                raise Conflict(current)
            self._add_revision(scene_id, current + 1, document, author, message, now())
            self._run("UPDATE scenes SET draft_revision = ? WHERE id = ?", (current + 1, scene_id))
        return self.scene(scene_id)

    def _draft_head(self, scene_id: str) -> int:
        """The draft head, in a write transaction: no other writer can move it until this one ends."""
        row = self._row(f"SELECT draft_revision FROM scenes WHERE id = ? AND deleted_at IS NULL{self.backend.lock_row}", (scene_id,))
        if row is None:
            raise NotFound(scene_id)
        return row["draft_revision"]

    def publish(self, scene_id: str, base_revision: int, author: str, revision: int | None = None) -> SceneRecord:
        with self._tx():
            current = self._draft_head(scene_id)
            if current != base_revision:
                raise Conflict(current)
            number = revision or current
            if not self._row("SELECT 1 AS found FROM revisions WHERE scene_id = ? AND number = ?", (scene_id, number)):
                raise NotFound(f"{scene_id} revision {number}")
            self._run("UPDATE scenes SET published_revision = ? WHERE id = ?", (number, scene_id))
            self._run(
                "INSERT INTO publications (scene_id, revision, author, created_at) VALUES (?, ?, ?, ?)", (scene_id, number, author, now())
            )
        return self.scene(scene_id)

    def delete_scene(self, scene_id: str, base_revision: int) -> None:
        with self._tx():
            current = self._draft_head(scene_id)
            if current != base_revision:
                raise Conflict(current)
            self._run("UPDATE scenes SET deleted_at = ? WHERE id = ?", (now(), scene_id))

    def revision(self, scene_id: str, number: int) -> dict[str, Any]:
        row = self._row(
            "SELECT number, document, author, message, created_at FROM revisions WHERE scene_id = ? AND number = ?", (scene_id, number)
        )
        if row is None:
            raise NotFound(f"{scene_id} revision {number}")
        return {**_revision_meta(row), "document": orjson.loads(row["document"])}

    def revisions(self, scene_id: str) -> list[dict[str, Any]]:
        with self._tx(write=False):
            self.scene(scene_id)
            rows = self._rows(
                "SELECT number, author, message, created_at FROM revisions WHERE scene_id = ? ORDER BY number DESC", (scene_id,)
            )
            rows_published = self._rows("SELECT revision, created_at FROM publications WHERE scene_id = ?", (scene_id,))
        published = {r["revision"]: r["created_at"] for r in rows_published}
        return [{**_revision_meta(r), "published_at": published.get(r["number"])} for r in rows]

    # -- assets and reviews ------------------------------------------------------------------

    def add_asset(self, asset_id: str, sha256: str, origin: str, generated: bool, created_by: str) -> None:
        with self._tx():
            self._run(
                "INSERT INTO assets (id, sha256, origin, generated, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (asset_id, sha256, origin, int(generated), created_by, now()),
            )

    def asset(self, asset_id: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM assets WHERE id = ?", (asset_id,))

    def assets(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM assets ORDER BY created_at, id")

    def add_review(self, kind: str, subject: str, detail: dict[str, Any], created_by: str, scene_id: str | None = None) -> int:
        with self._tx():
            return self._insert(
                "INSERT INTO reviews (kind, subject, scene_id, detail, status, created_by, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (kind, subject, scene_id, orjson.dumps(detail).decode(), created_by, now()),
            )

    def decide(self, review_id: int, status: str, decided_by: str, note: str) -> dict[str, Any]:
        if status not in ("approved", "rejected"):
            raise ValueError("status must be approved or rejected")
        with self._tx():
            changed = self._run(
                "UPDATE reviews SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
                (status, decided_by, now(), note, review_id),
            )
            if not changed:
                raise NotFound(str(review_id))
        return self.review(review_id)

    def review(self, review_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM reviews WHERE id = ?", (review_id,))
        if row is None:
            raise NotFound(str(review_id))
        return _review(row)

    def reviews(self, status: str | None = None) -> list[dict[str, Any]]:
        if status:
            rows = self._rows("SELECT * FROM reviews WHERE status = ? ORDER BY id", (status,))
        else:
            rows = self._rows("SELECT * FROM reviews ORDER BY id")
        return [_review(r) for r in rows]

    def review_status(self, kind: str, subject: str) -> str | None:
        """The latest decision on a subject (None if it was never queued)."""
        row = self._row("SELECT status FROM reviews WHERE kind = ? AND subject = ? ORDER BY id DESC LIMIT 1", (kind, subject))
        return row["status"] if row else None

    def review_statuses(self, kind: str) -> dict[str, str]:
        """The latest decision on every subject of a kind that was ever queued: one query for a whole scene."""
        rows = self._rows("SELECT subject, status FROM reviews WHERE kind = ? ORDER BY id", (kind,))
        return {r["subject"]: r["status"] for r in rows}

    def add_report(self, room: str, scene_id: str, line: dict[str, Any], reason: str, reported_by: str) -> int:
        with self._tx():
            return self._insert(
                "INSERT INTO reports (room, scene_id, line, reason, reported_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (room, scene_id, orjson.dumps(line).decode(), reason, reported_by, now()),
            )

    def reports(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM reports ORDER BY id DESC LIMIT 500")
        return [{**r, "line": orjson.loads(r["line"])} for r in rows]


def _revision_meta(row: dict[str, Any]) -> dict[str, Any]:
    return {"revision": row["number"], "author": row["author"], "message": row["message"], "created_at": row["created_at"]}


def _review(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "detail": orjson.loads(row["detail"])}


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


# -- backends -------------------------------------------------------------------------------------


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class _SQLite:
    """One file in WAL mode; BEGIN IMMEDIATE takes the write lock, so a write transaction has the database to itself.

    Each thread that uses the backend gets a connection of its own (WAL lets readers run
    beside the one writer); ``read_only`` connections refuse writes."""

    lock_row = ""  # BEGIN IMMEDIATE already keeps every other writer out
    _unique = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")

    def __init__(self, path: Path, read_only: bool = False):
        self.path, self.read_only = path, read_only
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.conn  # noqa: B018 - open this thread's connection now: a bad path fails here, not at the first query

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:  # never creates the file: the writer has made and migrated it
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)  # autocommit outside BEGIN
        conn.row_factory = _dict_row
        conn.execute("PRAGMA busy_timeout=5000")
        if self.read_only:
            conn.execute("PRAGMA query_only=ON")
            return conn
        # Turning a new file to WAL takes an exclusive lock and, when several processes open it at once,
        # can fail at once without waiting: try again for a while.
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        for pragma in ("synchronous=FULL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    @contextmanager
    def transaction(self, write: bool) -> Iterator[None]:
        if not write:  # a read: WAL gives each statement a consistent snapshot
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as err:
            if err.sqlite_errorname in self._unique:
                raise Duplicate(str(err)) from err
            raise

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        return self.execute(sql, params).lastrowid

    def schema_version(self) -> int:
        return self.execute("PRAGMA user_version").fetchone()["user_version"]

    def set_schema_version(self, number: int) -> None:
        self.execute(f"PRAGMA user_version = {int(number)}")

    def migration(self, migration: str | dict[str, str]) -> list[str]:
        return _statements(migration if isinstance(migration, str) else migration["sqlite"])

    def integrity(self) -> str:
        return self.execute("PRAGMA integrity_check").fetchone()["integrity_check"]

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()


@functools.lru_cache(maxsize=256)
def _format_placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def _without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


class _Postgres:
    """A PostgreSQL server shared by several nodes; psycopg 3, autocommit off, every statement in a transaction.

    Without ``pool_size``, one connection (opened again if it breaks).  With it, a
    ``psycopg_pool.ConnectionPool`` of up to that many: each transaction borrows one for
    its length, in the thread that runs it; a connection that broke is dropped by the pool
    and a checked one is handed out instead."""

    lock_row = " FOR UPDATE"  # a writer based on a revision waits for the one before it, then sees its revision
    _schema_lock = 0x7468697264  # pg_advisory_xact_lock key: one node migrates at a time

    def __init__(self, url: str, pool_size: int = 0):
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"database_url must be a postgresql://USER:PASSWORD@HOST:PORT/DB URL, not {_without_password(url)!r}")
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError:
            raise RuntimeError('database_url is set but psycopg is not installed: pip install "psycopg[binary]>=3.1"') from None
        self.psycopg, self.dict_row, self.url = psycopg, dict_row, url
        self._local = threading.local()  # the connection of the transaction open in this thread
        self.pool = None
        self.conn = self._connect()  # fails here, with the server's reason, if PostgreSQL cannot be reached
        if pool_size > 0:
            self.pool = self._open_pool(pool_size)
            self.conn.close()

    def _options(self) -> dict[str, Any]:
        return {"autocommit": False, "row_factory": self.dict_row, "connect_timeout": 10, "application_name": "thirdspace"}

    def _connect(self):
        try:
            return self.psycopg.connect(self.url, **self._options())
        except self.psycopg.Error as err:
            raise RuntimeError(f"database_url {_without_password(self.url)}: cannot connect to PostgreSQL: {err}") from None

    def _open_pool(self, size: int):
        try:
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError:
            raise RuntimeError('a PostgreSQL pool needs psycopg_pool: pip install "psycopg-pool>=3.2"') from None
        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=size,
            kwargs=self._options(),
            check=ConnectionPool.check_connection,  # a connection the server dropped is replaced before use
            name="thirdspace",
            open=False,
        )
        try:
            pool.open(wait=True, timeout=15)
        except PoolTimeout as err:
            pool.close()
            raise RuntimeError(f"database_url {_without_password(self.url)}: cannot open a pool of PostgreSQL connections: {err}") from None
        return pool

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self.pool is not None:
            with self.pool.connection() as conn:
                yield conn
            return
        if self.conn.broken or self.conn.closed:  # the server restarted, or the network dropped the connection
            self.conn = self._connect()
        yield self.conn

    @contextmanager
    def transaction(self, write: bool) -> Iterator[None]:
        with self._connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():  # BEGIN ... COMMIT, or ROLLBACK on an exception
                    yield
            finally:
                self._local.conn = None

    def execute(self, sql: str, params: Sequence[Any] = ()):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("a statement outside a transaction")
        try:
            return conn.execute(_format_placeholders(sql), params)
        except self.psycopg.errors.UniqueViolation as err:
            raise Duplicate(str(err)) from err

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        return self.execute(f"{sql} RETURNING id", params).fetchone()["id"]

    def schema_version(self) -> int:
        self.execute("SELECT pg_advisory_xact_lock(?)", (self._schema_lock,))  # held until this transaction ends
        self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            self.execute("INSERT INTO schema_version (version) VALUES (0)")
            return 0
        return row["version"]

    def set_schema_version(self, number: int) -> None:
        self.execute("UPDATE schema_version SET version = ?", (number,))

    def migration(self, migration: str | dict[str, str]) -> list[str]:
        return _statements(self.ddl(migration) if isinstance(migration, str) else migration["postgresql"])

    @staticmethod
    def ddl(script: str) -> str:
        """SQLite's DDL in PostgreSQL's words: 64-bit integers, identity ids, and text compared byte by byte as SQLite does."""
        script = script.replace("INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        script = re.sub(r"\bINTEGER\b", "BIGINT", script)
        return re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', script)

    def integrity(self) -> str:
        """PostgreSQL guards its own pages (WAL, checksums when enabled); this checks that the server
        answers and that the schema is the one this code migrates to."""
        version = self.execute("SELECT version FROM schema_version").fetchone()["version"]
        return "ok" if version == len(MIGRATIONS) else f"schema version {version}, expected {len(MIGRATIONS)}"

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        self.conn.close()
