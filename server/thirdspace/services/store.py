"""The store for the server: ``thirdspace.store.Database`` driven from worker threads.

Every room of a node is ticked by the one event loop, so no query may run on it.
``AsyncDatabase`` has the methods of ``Database`` (the same names and arguments) as
coroutines; each call runs the synchronous method in a thread, and the SQL stays
written once, in ``thirdspace/store.py``.

SQLite: one writer connection in one thread, so writes are serialised as SQLite
serialises them anyway (``BEGIN IMMEDIATE``), and ``sqlite_readers`` reader
connections, each in a thread of its own, for the methods that only read: in WAL mode
readers run beside the writer and see every committed write.  Reader connections are
``query_only``: a method listed as a read that writes fails loudly.

PostgreSQL: the synchronous ``psycopg_pool.ConnectionPool`` with ``postgres_pool_size``
connections, driven by as many threads; each transaction borrows a connection for its
length.  The pool's asynchronous twin (``AsyncConnectionPool``) would need every
method of ``Database`` written again with ``await`` (and the SQLite backend has no
asynchronous driver to share it with), so the same code would exist twice; psycopg
releases the GIL while it waits for the server, so threads cost the loop nothing.

A call that is cancelled (a client gone) still finishes in its thread: a write is
either committed or rolled back, never left half done.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from thirdspace.store import Database, SceneRecord, User

T = TypeVar("T")

# The methods of Database that only read; every other public method may write.
READS = frozenset(
    {
        "integrity",
        "user_by_token",
        "users",
        "session",
        "scene",
        "scenes",
        "scene_exists",
        "revision",
        "revisions",
        "asset",
        "assets",
        "review",
        "reviews",
        "review_status",
        "review_statuses",
        "reports",
        "user",
        "user_states",
        "active_bans",
    }
)
WRITES = frozenset(
    {
        "add_user",
        "open_session",
        "close_session",
        "create_scene",
        "write_draft",
        "publish",
        "delete_scene",
        "add_asset",
        "add_review",
        "decide",
        "add_report",
        "revoke_user",
        "remove_user",
        "secret",
        "add_bans",
        "lift_mutes",
    }
)


class AsyncDatabase:
    """The store's methods as coroutines, run in threads; ``start()`` before use, ``close()`` after."""

    def __init__(self, target: Path | str, sqlite_readers: int = 2, postgres_pool_size: int = 4):
        if sqlite_readers < 0 or postgres_pool_size < 1:
            raise ValueError("database_readers must be 0 or more and database_pool_size 1 or more")
        self.target = target
        self.postgres = isinstance(target, str) and "://" in target
        self.path: Path | None = None if self.postgres else Path(target)
        self.sqlite_readers = sqlite_readers
        self.postgres_pool_size = postgres_pool_size
        self._writer: Database | None = None
        self._reader: Database | None = None
        self._write_threads: ThreadPoolExecutor | None = None
        self._read_threads: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> AsyncDatabase:
        """PostgreSQL when ``settings.database_url`` is set, else SQLite in the data directory; not started yet."""
        return cls(
            settings.database_url or settings.data_dir / "thirdspace.sqlite3",
            sqlite_readers=settings.database_readers,
            postgres_pool_size=settings.database_pool_size,
        )

    @classmethod
    async def open(cls, settings: Any) -> AsyncDatabase:
        """Like ``Database.open``: the store the settings name, connected and migrated."""
        db = cls.from_settings(settings)
        await db.start()
        return db

    async def start(self) -> None:
        """Connect and migrate, in the threads that will use the connections."""
        loop = asyncio.get_running_loop()
        if self.postgres:
            threads = ThreadPoolExecutor(self.postgres_pool_size, thread_name_prefix="store")
            self._write_threads = self._read_threads = threads
            self._writer = self._reader = await loop.run_in_executor(
                threads, functools.partial(Database, self.target, pool_size=self.postgres_pool_size)
            )
            return
        self._write_threads = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._writer = await loop.run_in_executor(self._write_threads, Database, self.target)
        if self.sqlite_readers:
            self._read_threads = ThreadPoolExecutor(self.sqlite_readers, thread_name_prefix="store-reader")
            self._reader = await loop.run_in_executor(self._read_threads, functools.partial(Database, self.target, read_only=True))
        else:
            self._read_threads, self._reader = self._write_threads, self._writer

    async def close(self) -> None:
        """Wait for the calls in flight, then close every connection."""
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        threads = {t for t in (self._write_threads, self._read_threads) if t is not None}
        self._write_threads = self._read_threads = None

        def shut() -> None:
            for pool in threads:
                pool.shutdown(wait=True)
            for db in {id(d): d for d in (writer, reader) if d is not None}.values():
                db.close()

        await asyncio.get_running_loop().run_in_executor(None, shut)

    async def _call(self, method: Callable[..., T], *args: Any) -> T:
        read = method.__name__ in READS
        db = self._reader if read else self._writer
        threads = self._read_threads if read else self._write_threads
        if db is None or threads is None:
            raise RuntimeError("the store is not started (AsyncDatabase.start) or already closed")
        return await asyncio.get_running_loop().run_in_executor(threads, functools.partial(method, db, *args))

    # The methods of Database, one line each: the tests check that the names and arguments match.

    async def integrity(self) -> str:
        return await self._call(Database.integrity)

    async def add_user(self, name: str, role: str) -> tuple[User, str]:
        return await self._call(Database.add_user, name, role)

    async def user_by_token(self, token: str) -> User | None:
        return await self._call(Database.user_by_token, token)

    async def users(self) -> list[User]:
        return await self._call(Database.users)

    async def open_session(self, user: User, hours: float = 12) -> tuple[str, str]:
        return await self._call(Database.open_session, user, hours)

    async def session(self, session_id: str) -> tuple[User, str] | None:
        return await self._call(Database.session, session_id)

    async def close_session(self, session_id: str) -> None:
        return await self._call(Database.close_session, session_id)

    async def user(self, user_id: int) -> User | None:
        return await self._call(Database.user, user_id)

    async def revoke_user(self, user_id: int, new_token: bool = False) -> str | None:
        return await self._call(Database.revoke_user, user_id, new_token)

    async def remove_user(self, user_id: int) -> User:
        return await self._call(Database.remove_user, user_id)

    async def user_states(self, user_ids: list[int]) -> dict[int, int | None]:
        return await self._call(Database.user_states, user_ids)

    async def secret(self, name: str) -> str:
        return await self._call(Database.secret, name)

    async def add_bans(
        self, scene_id: str, identities: list[str], kind: str, until_ms: int, created_by: str, chat: bool = True, voice: bool = True
    ) -> None:
        return await self._call(Database.add_bans, scene_id, identities, kind, until_ms, created_by, chat, voice)

    async def lift_mutes(self, scene_id: str, identities: list[str], chat: bool = True, voice: bool = True) -> None:
        return await self._call(Database.lift_mutes, scene_id, identities, chat, voice)

    async def active_bans(self, scene_id: str, identities: list[str]) -> list[dict[str, Any]]:
        return await self._call(Database.active_bans, scene_id, identities)

    async def scene(self, scene_id: str) -> SceneRecord:
        return await self._call(Database.scene, scene_id)

    async def scenes(self) -> list[SceneRecord]:
        return await self._call(Database.scenes)

    async def scene_exists(self, scene_id: str) -> bool:
        return await self._call(Database.scene_exists, scene_id)

    async def create_scene(self, document: dict[str, Any], author: str, message: str, publish: bool = False) -> SceneRecord:
        return await self._call(Database.create_scene, document, author, message, publish)

    async def write_draft(self, scene_id: str, base_revision: int, document: dict[str, Any], author: str, message: str) -> SceneRecord:
        return await self._call(Database.write_draft, scene_id, base_revision, document, author, message)

    async def publish(self, scene_id: str, base_revision: int, author: str, revision: int | None = None) -> SceneRecord:
        return await self._call(Database.publish, scene_id, base_revision, author, revision)

    async def delete_scene(self, scene_id: str, base_revision: int) -> None:
        return await self._call(Database.delete_scene, scene_id, base_revision)

    async def revision(self, scene_id: str, number: int) -> dict[str, Any]:
        return await self._call(Database.revision, scene_id, number)

    async def revisions(self, scene_id: str) -> list[dict[str, Any]]:
        return await self._call(Database.revisions, scene_id)

    async def add_asset(self, asset_id: str, sha256: str, origin: str, generated: bool, created_by: str) -> None:
        return await self._call(Database.add_asset, asset_id, sha256, origin, generated, created_by)

    async def asset(self, asset_id: str) -> dict[str, Any] | None:
        return await self._call(Database.asset, asset_id)

    async def assets(self) -> list[dict[str, Any]]:
        return await self._call(Database.assets)

    async def add_review(self, kind: str, subject: str, detail: dict[str, Any], created_by: str, scene_id: str | None = None) -> int:
        return await self._call(Database.add_review, kind, subject, detail, created_by, scene_id)

    async def decide(self, review_id: int, status: str, decided_by: str, note: str) -> dict[str, Any]:
        return await self._call(Database.decide, review_id, status, decided_by, note)

    async def review(self, review_id: int) -> dict[str, Any]:
        return await self._call(Database.review, review_id)

    async def reviews(self, status: str | None = None) -> list[dict[str, Any]]:
        return await self._call(Database.reviews, status)

    async def review_status(self, kind: str, subject: str) -> str | None:
        return await self._call(Database.review_status, kind, subject)

    async def review_statuses(self, kind: str) -> dict[str, str]:
        return await self._call(Database.review_statuses, kind)

    async def add_report(self, room: str, scene_id: str, line: dict[str, Any], reason: str, reported_by: str) -> int:
        return await self._call(Database.add_report, room, scene_id, line, reason, reported_by)

    async def reports(self) -> list[dict[str, Any]]:
        return await self._call(Database.reports)
