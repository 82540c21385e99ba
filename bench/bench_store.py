"""Benchmark 5: the SQLite store under WAL (issue 16).

Part A (in-process, one thread): the cost of one card-audit write (`record_cards`, 2 cards, the typical answer)
and of one feedback write (`record_feedback`, 1 entry) under three connection settings:
  before  journal_mode=DELETE, synchronous=FULL (SQLite's defaults: what the store used before issue 16)
  after   journal_mode=WAL, synchronous=NORMAL (the store's settings now; feedback switches to FULL per commit)
  wal-full journal_mode=WAL, synchronous=FULL (for comparison: every commit fsynced)
Part B (over HTTP): 10,000 feedback entries, one per request, from 32 concurrent clients against
`crs-cds serve --workers 2` on one SQLite file: errors, requests/s, stored rows.

Bounded: 1,000 audit and 500 feedback writes per setting; 10,000 requests. Figures go to bench/results/.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from common import percentile, save, server
from sqlalchemy import event

from cds_service.store import IssuedCard, SqlStore, StoredFeedback

AUDIT_WRITES = 1000
FEEDBACK_WRITES = 500
HTTP_ENTRIES = 10_000
CLIENTS = 32
MODES = {"before": ("DELETE", "FULL"), "after": None, "wal-full": ("WAL", "FULL")}


def _store(path: Path, mode: str) -> SqlStore:
    store = SqlStore(f"sqlite:///{path}")
    settings = MODES[mode]
    if settings is not None:
        journal, sync = settings

        @event.listens_for(store._engine, "connect")
        def _override(dbapi_connection, _record):  # runs after the store's own pragmas
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA journal_mode={journal}")
            cursor.execute(f"PRAGMA synchronous={sync}")
            cursor.close()

    store.upgrade_schema()
    return store


def _timed(calls: int, action) -> dict[str, float]:
    times = []
    for i in range(calls):
        started = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 3), "p99_ms": round(percentile(times, 99), 3),
            "mean_ms": round(statistics.fmean(times), 3)}


def part_a() -> dict[str, dict[str, dict[str, float]]]:
    now = datetime.now(UTC)
    results = {}
    for mode in MODES:
        with tempfile.TemporaryDirectory(prefix="crs-bench-store-") as tmp:
            store = _store(Path(tmp) / "s.sqlite3", mode)

            def audit(i: int, store: SqlStore = store) -> None:
                store.record_cards([
                    IssuedCard(f"c-{i}-{k}", "crs-patient-view", f"h-{i}", "pt-1", "crs.active", "critical", now)
                    for k in range(2)
                ])

            def feedback(i: int, store: SqlStore = store) -> None:
                entry = StoredFeedback("crs-patient-view", f"c-{i}-0", "accepted", ["s"], None, now, now)
                store.record_feedback([entry])

            results[mode] = {"audit": _timed(AUDIT_WRITES, audit), "feedback": _timed(FEEDBACK_WRITES, feedback)}
            store.dispose()
    return results


async def _client(base: str, entries: list[dict], statuses: Counter) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for entry in entries:
            answer = await client.post("/cds-services/crs-patient-view/feedback", json={"feedback": [entry]})
            statuses[answer.status_code] += 1


def part_b() -> dict[str, object]:
    entries = [{"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-11-24T12:00:00Z",
                "acceptedSuggestions": [{"id": "s-1"}]} for _ in range(HTTP_ENTRIES)]
    statuses: Counter = Counter()
    with server("service", workers=2, extra_env={"CRS_CDS_LOG_LEVEL": "WARNING"}) as (base, _pid):
        started = time.perf_counter()

        async def run() -> None:
            await asyncio.gather(*(_client(base, entries[i::CLIENTS], statuses) for i in range(CLIENTS)))

        asyncio.run(run())
        seconds = time.perf_counter() - started
    return {"requests": HTTP_ENTRIES, "clients": CLIENTS, "workers": 2, "statuses": dict(statuses),
            "errors": HTTP_ENTRIES - statuses[200], "seconds": round(seconds, 1),
            "requests_per_second": round(HTTP_ENTRIES / seconds, 1)}


def main() -> int:
    figures = {"part_a": part_a()}
    for mode, values in figures["part_a"].items():
        print(f"{mode:9s} audit p50 {values['audit']['p50_ms']:7.3f} ms  p99 {values['audit']['p99_ms']:7.3f} ms   "
              f"feedback p50 {values['feedback']['p50_ms']:7.3f} ms  p99 {values['feedback']['p99_ms']:7.3f} ms")
    if "--no-http" not in sys.argv:
        figures["part_b"] = part_b()
        print("HTTP:", figures["part_b"])
    print("saved", save("store", figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
