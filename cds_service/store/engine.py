"""One SQLAlchemy engine per database URL, with the SQLite settings every connection needs.

SQLite (the default store) gets, on every connection:

- `journal_mode=WAL`: readers never block the writer and the writer never blocks readers, so concurrent
  feedback and audit writes from several threads or worker processes queue instead of failing;
- `synchronous=NORMAL`: a commit is written to the WAL without an fsync (the WAL is synced at checkpoints).
  Durable across a crash of the service; a power loss or OS crash can lose the last commits. Feedback is
  written through a second engine whose connections use `synchronous=FULL` (`engine_for(..., durable=True)`),
  so an acknowledged feedback report survives a power loss too; the card audit stays NORMAL (docs/SECURITY.md;
  switching the pragma per transaction instead cost 3-5 ms a write, docs/PERFORMANCE.md);
- `busy_timeout`: a writer that finds the database locked waits up to this long instead of failing at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

DEFAULT_BUSY_TIMEOUT_MS = 10_000
MEMORY_URL = "sqlite:///:memory:"


def normalised_url(url: str) -> str:
    """`postgres://` and `postgresql://` (both spellings in the wild) use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_for(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, durable: bool = False) -> Engine:
    """The engine for `url`: SQLite files get their directory created and the pragmas above
    (`durable`: synchronous=FULL, every commit fsynced)."""
    if url == MEMORY_URL:  # one shared connection, usable from the worker threads that write
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
    else:
        return create_engine(normalised_url(url), pool_pre_ping=True)
    _install_sqlite_pragmas(engine, busy_timeout_ms, wal=url != MEMORY_URL, synchronous="FULL" if durable else "NORMAL")
    return engine


def _install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int, *, wal: bool, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()
