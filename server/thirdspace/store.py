"""The embedded store: SQLite in WAL mode under the data directory.

Scenes are kept as revisions (a new row for every change, never an update of
an old one); a scene row points at its draft head and its published revision.
Users keep a sha256 of their token, never the token.  The review queue keeps
every decision.  All methods are short transactions; a committed write survives
the process being killed (``synchronous=FULL``).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROLES = ("visitor", "guide", "curator", "admin")  # each may do what the ones before it may
REVIEW_STATUSES = ("pending", "approved", "rejected")

MIGRATIONS = [
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
    """
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
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


class Database:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def close(self) -> None:
        self.db.close()

    def integrity(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    def _tx(self):
        return _Transaction(self.db)

    # -- users and sessions ------------------------------------------------------------------

    def add_user(self, name: str, role: str) -> tuple[User, str]:
        """Create a user; the token is returned once and only its hash is kept."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        with self._tx():
            cursor = self.db.execute(
                "INSERT INTO users (name, role, token_sha256, created_at) VALUES (?, ?, ?, ?)", (name, role, token_hash(token), now())
            )
        return User(cursor.lastrowid, name, role), token

    def user_by_token(self, token: str) -> User | None:
        row = self.db.execute("SELECT id, name, role FROM users WHERE token_sha256 = ?", (token_hash(token),)).fetchone()
        return User(row["id"], row["name"], row["role"]) if row else None

    def users(self) -> list[User]:
        return [User(r["id"], r["name"], r["role"]) for r in self.db.execute("SELECT id, name, role FROM users ORDER BY id")]

    def open_session(self, user: User, hours: float = 12) -> tuple[str, str]:
        """A new cookie session: (session id for the cookie, CSRF token)."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = datetime.now(UTC).timestamp() + hours * 3600
        with self._tx():
            self.db.execute(
                "INSERT INTO sessions (id_sha256, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash(session_id), user.id, csrf, now(), datetime.fromtimestamp(expires, UTC).isoformat()),
            )
        return session_id, csrf

    def session(self, session_id: str) -> tuple[User, str] | None:
        row = self.db.execute(
            "SELECT u.id, u.name, u.role, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_sha256 = ?",
            (token_hash(session_id),),
        ).fetchone()
        if row is None or datetime.fromisoformat(row["expires_at"]) < datetime.now(UTC):
            return None
        return User(row["id"], row["name"], row["role"]), row["csrf"]

    def close_session(self, session_id: str) -> None:
        with self._tx():
            self.db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (token_hash(session_id),))

    # -- scenes and revisions ----------------------------------------------------------------

    def scene(self, scene_id: str) -> SceneRecord:
        row = self.db.execute(
            "SELECT id, draft_revision, published_revision, created_at FROM scenes WHERE id = ? AND deleted_at IS NULL", (scene_id,)
        ).fetchone()
        if row is None:
            raise NotFound(scene_id)
        return SceneRecord(row["id"], row["draft_revision"], row["published_revision"], row["created_at"])

    def scenes(self) -> list[SceneRecord]:
        rows = self.db.execute("SELECT id, draft_revision, published_revision, created_at FROM scenes WHERE deleted_at IS NULL ORDER BY id")
        return [SceneRecord(r["id"], r["draft_revision"], r["published_revision"], r["created_at"]) for r in rows]

    def scene_exists(self, scene_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM scenes WHERE id = ?", (scene_id,)).fetchone() is not None

    def create_scene(self, document: dict[str, Any], author: str, message: str, publish: bool = False) -> SceneRecord:
        scene_id = document["id"]
        stamp = now()
        with self._tx():
            if self.db.execute("SELECT 1 FROM scenes WHERE id = ?", (scene_id,)).fetchone():
                raise FileExistsError(scene_id)
            self.db.execute(
                "INSERT INTO scenes (id, draft_revision, published_revision, created_at) VALUES (?, 1, ?, ?)",
                (scene_id, 1 if publish else None, stamp),
            )
            self._add_revision(scene_id, 1, document, author, message, stamp)
            if publish:
                self.db.execute(
                    "INSERT INTO publications (scene_id, revision, author, created_at) VALUES (?, 1, ?, ?)", (scene_id, author, stamp)
                )
        return self.scene(scene_id)

    def _add_revision(self, scene_id: str, number: int, document: dict[str, Any], author: str, message: str, stamp: str) -> None:
        self.db.execute(
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
            self.db.execute("UPDATE scenes SET draft_revision = ? WHERE id = ?", (current + 1, scene_id))
        return self.scene(scene_id)

    def _draft_head(self, scene_id: str) -> int:
        row = self.db.execute("SELECT draft_revision FROM scenes WHERE id = ? AND deleted_at IS NULL", (scene_id,)).fetchone()
        if row is None:
            raise NotFound(scene_id)
        return row[0]

    def publish(self, scene_id: str, base_revision: int, author: str, revision: int | None = None) -> SceneRecord:
        with self._tx():
            current = self._draft_head(scene_id)
            if current != base_revision:
                raise Conflict(current)
            number = revision or current
            if not self.db.execute("SELECT 1 FROM revisions WHERE scene_id = ? AND number = ?", (scene_id, number)).fetchone():
                raise NotFound(f"{scene_id} revision {number}")
            self.db.execute("UPDATE scenes SET published_revision = ? WHERE id = ?", (number, scene_id))
            self.db.execute(
                "INSERT INTO publications (scene_id, revision, author, created_at) VALUES (?, ?, ?, ?)", (scene_id, number, author, now())
            )
        return self.scene(scene_id)

    def delete_scene(self, scene_id: str, base_revision: int) -> None:
        with self._tx():
            current = self._draft_head(scene_id)
            if current != base_revision:
                raise Conflict(current)
            self.db.execute("UPDATE scenes SET deleted_at = ? WHERE id = ?", (now(), scene_id))

    def revision(self, scene_id: str, number: int) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT number, document, author, message, created_at FROM revisions WHERE scene_id = ? AND number = ?", (scene_id, number)
        ).fetchone()
        if row is None:
            raise NotFound(f"{scene_id} revision {number}")
        return {**_revision_meta(row), "document": orjson.loads(row["document"])}

    def revisions(self, scene_id: str) -> list[dict[str, Any]]:
        self.scene(scene_id)
        rows = self.db.execute(
            "SELECT number, author, message, created_at FROM revisions WHERE scene_id = ? ORDER BY number DESC", (scene_id,)
        )
        rows_published = self.db.execute("SELECT revision, created_at FROM publications WHERE scene_id = ?", (scene_id,))
        published = {r["revision"]: r["created_at"] for r in rows_published}
        return [{**_revision_meta(r), "published_at": published.get(r["number"])} for r in rows]

    # -- assets and reviews ------------------------------------------------------------------

    def add_asset(self, asset_id: str, sha256: str, origin: str, generated: bool, created_by: str) -> None:
        with self._tx():
            self.db.execute(
                "INSERT INTO assets (id, sha256, origin, generated, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (asset_id, sha256, origin, int(generated), created_by, now()),
            )

    def asset(self, asset_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()
        return dict(row) if row else None

    def assets(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM assets ORDER BY created_at, id")]

    def add_review(self, kind: str, subject: str, detail: dict[str, Any], created_by: str, scene_id: str | None = None) -> int:
        with self._tx():
            cursor = self.db.execute(
                "INSERT INTO reviews (kind, subject, scene_id, detail, status, created_by, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (kind, subject, scene_id, orjson.dumps(detail).decode(), created_by, now()),
            )
        return cursor.lastrowid

    def decide(self, review_id: int, status: str, decided_by: str, note: str) -> dict[str, Any]:
        if status not in ("approved", "rejected"):
            raise ValueError("status must be approved or rejected")
        with self._tx():
            if self.db.execute("SELECT 1 FROM reviews WHERE id = ?", (review_id,)).fetchone() is None:
                raise NotFound(str(review_id))
            self.db.execute(
                "UPDATE reviews SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
                (status, decided_by, now(), note, review_id),
            )
        return self.review(review_id)

    def review(self, review_id: int) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
        if row is None:
            raise NotFound(str(review_id))
        return _review(row)

    def reviews(self, status: str | None = None) -> list[dict[str, Any]]:
        if status:
            rows = self.db.execute("SELECT * FROM reviews WHERE status = ? ORDER BY id", (status,))
        else:
            rows = self.db.execute("SELECT * FROM reviews ORDER BY id")
        return [_review(r) for r in rows]

    def review_status(self, kind: str, subject: str) -> str | None:
        """The latest decision on a subject (None if it was never queued)."""
        query = "SELECT status FROM reviews WHERE kind = ? AND subject = ? ORDER BY id DESC LIMIT 1"
        row = self.db.execute(query, (kind, subject)).fetchone()
        return row[0] if row else None

    def add_report(self, room: str, scene_id: str, line: dict[str, Any], reason: str, reported_by: str) -> int:
        with self._tx():
            cursor = self.db.execute(
                "INSERT INTO reports (room, scene_id, line, reason, reported_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (room, scene_id, orjson.dumps(line).decode(), reason, reported_by, now()),
            )
        return cursor.lastrowid

    def reports(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM reports ORDER BY id DESC LIMIT 500")
        return [{**dict(r), "line": orjson.loads(r["line"])} for r in rows]

    def unapproved_texts(self) -> set[str]:
        rows = self.db.execute("SELECT subject, status FROM reviews WHERE kind = 'text' ORDER BY id")
        latest = {r["subject"]: r["status"] for r in rows}
        return {subject for subject, status in latest.items() if status != "approved"}


def _revision_meta(row: sqlite3.Row) -> dict[str, Any]:
    return {"revision": row["number"], "author": row["author"], "message": row["message"], "created_at": row["created_at"]}


def _review(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["detail"] = orjson.loads(out["detail"])
    return out


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
