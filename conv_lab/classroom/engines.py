"""The two databases behind the class store: SQLite (a file, the default) and PostgreSQL (psycopg 3).

Both run the same SQL (written with `?` placeholders) inside `transaction()`; they differ in how a write is
serialised. SQLite: every write is `BEGIN IMMEDIATE` (one writer at a time, others wait up to BUSY_MS), WAL
journal, `synchronous=FULL`, so a commit is on disk before `submit` returns. PostgreSQL: row locks (`share` and
`update` suffixes) and an advisory lock around schema creation and new classes; its default
`synchronous_commit=on` makes a commit durable.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

BUSY_MS = 30_000  # how long a SQLite writer waits for another process's write to finish
ADVISORY_LOCK = 150_015  # PostgreSQL: one app-wide lock for schema creation and class creation

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS classes (
        code TEXT PRIMARY KEY, key_digest TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION NOT NULL, current TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS questions (
        code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE, question TEXT NOT NULL,
        revealed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (code, question))""",
    """CREATE TABLE IF NOT EXISTS students (
        code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE, student TEXT NOT NULL,
        nickname TEXT NOT NULL DEFAULT '', joined DOUBLE PRECISION NOT NULL, PRIMARY KEY (code, student))""",
    """CREATE TABLE IF NOT EXISTS answers (
        code TEXT NOT NULL, student TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL, PRIMARY KEY (code, question, student),
        FOREIGN KEY (code, student) REFERENCES students(code, student) ON DELETE CASCADE,
        FOREIGN KEY (code, question) REFERENCES questions(code, question) ON DELETE CASCADE)""",
)


class Tx:
    """One open transaction: run SQL written with `?` placeholders and read the rows."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self.cursor, self.placeholder = cursor, placeholder

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Execute one statement; the rows it returns (empty for a write)."""
        self.cursor.execute(sql.replace("?", self.placeholder), tuple(params))
        return list(self.cursor.fetchall()) if self.cursor.description else []

    def one(self, sql: str, params: Sequence[Any] = ()) -> Optional[tuple]:
        """The first row of a query, or None."""
        rows = self.run(sql, params)
        return rows[0] if rows else None

    @property
    def rowcount(self) -> int:
        """Rows the last write touched."""
        return self.cursor.rowcount


class SQLiteEngine:
    """A SQLite file in WAL mode with synchronous=FULL; one connection, used by one thread at a time."""

    name = "sqlite"
    share = ""  # SQLite locks the whole database for a write: no row locks to ask for
    update = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(str(path), timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", f"busy_timeout={BUSY_MS}"):
            self.conn.execute(f"PRAGMA {pragma}")
        with self.transaction(write=True) as tx:
            for statement in SCHEMA:
                tx.run(statement)

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        """BEGIN (IMMEDIATE for a write) … COMMIT, or ROLLBACK on any error."""
        with self.lock:
            cursor = self.conn.cursor()
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(cursor, "?")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def serialise_creates(self, tx: Tx) -> None:
        """Nothing to do: BEGIN IMMEDIATE already made this the only writer."""

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        with self.lock:
            self.conn.close()


class PostgresEngine:
    """PostgreSQL through psycopg 3; one connection per store, reopened when the server dropped it."""

    name = "postgresql"
    share = " FOR SHARE"
    update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        import psycopg  # only needed when a PostgreSQL URL is configured

        self.psycopg, self.url = psycopg, url
        self.lock = threading.Lock()
        self.conn = self._connect()
        with self.transaction(write=True) as tx:
            self.serialise_creates(tx)  # two replicas starting at once would race on CREATE TABLE IF NOT EXISTS
            for statement in SCHEMA:
                tx.run(statement)

    def _connect(self):
        return self.psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Tx]:
        """A psycopg transaction block; committed on success, rolled back on any error."""
        with self.lock:
            if self.conn.closed or self.conn.broken:
                self.conn = self._connect()
            with self.conn.transaction(), self.conn.cursor() as cursor:
                yield Tx(cursor, "%s")

    def serialise_creates(self, tx: Tx) -> None:
        """Take the app-wide advisory lock until this transaction ends (class count cap, schema)."""
        tx.run("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK,))

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()


def default_sqlite_path() -> Path:
    """Where the class store lives by default: $XDG_DATA_HOME/conv-lab (or ~/.local/share/conv-lab)/classes.db.

    >>> default_sqlite_path().name
    'classes.db'
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "conv-lab" / "classes.db"


def connect(url: Optional[str]) -> SQLiteEngine | PostgresEngine:
    """The engine for a URL: postgresql://… or postgres://…, sqlite:///path, or None for the default SQLite file."""
    if not url:
        return SQLiteEngine(default_sqlite_path())
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(url)
    if url.startswith("sqlite:///"):
        return SQLiteEngine(Path(url.removeprefix("sqlite:///")))  # sqlite:////abs/path or sqlite:///relative
    raise ValueError("CONVLAB_DATABASE_URL must start with postgresql://, postgres:// or sqlite:///")
