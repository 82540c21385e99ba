"""SQLite under concurrent writers: 10,000 feedback entries from 32 concurrent clients against two worker
processes, every one answered 200 and stored (issue 16 saw 11 of 2,200 requests fail with "database is
locked" before WAL mode and the busy timeout). Bounded: 2,000 requests of 5 entries; no timing asserted."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter

import httpx

from cds_service.store import SqlStore
from tests.ops.processes import service

CLIENTS = 32
ENTRIES = 10_000
PER_REQUEST = 5


def _development_env(tmp_path) -> tuple[dict[str, str], str]:
    database = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    store = SqlStore(database)
    store.upgrade_schema()
    store.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRS_CDS_", "PROMETHEUS_"))}
    return env | {"CRS_CDS_ENVIRONMENT": "development", "CRS_CDS_AUTH_MODE": "disabled",
                  "CRS_CDS_DATABASE_URL": database, "CRS_CDS_LOG_LEVEL": "WARNING"}, database


async def _client(base: str, batches: list[list[dict]], statuses: Counter) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for batch in batches:
            answer = await client.post("/cds-services/crs-patient-view/feedback", json={"feedback": batch})
            statuses[answer.status_code] += 1


async def _load(base: str) -> Counter:
    entries = [
        {"card": str(uuid.uuid4()), "outcome": "accepted", "acceptedSuggestions": [{"id": "s-1"}],
         "outcomeTimestamp": "2026-11-24T12:00:00Z"}
        for _ in range(ENTRIES)
    ]
    batches = [entries[i : i + PER_REQUEST] for i in range(0, ENTRIES, PER_REQUEST)]
    statuses: Counter = Counter()
    await asyncio.gather(*(_client(base, batches[i::CLIENTS], statuses) for i in range(CLIENTS)))
    return statuses


def test_ten_thousand_feedback_entries_from_32_clients_on_two_workers_all_stored(tmp_path):
    env, database = _development_env(tmp_path)
    with service(env, workers=2, log=tmp_path / "load.log") as base:
        statuses = asyncio.run(_load(base))
    assert statuses == Counter({200: ENTRIES // PER_REQUEST}), (statuses, (tmp_path / "load.log").read_text()[-2000:])
    store = SqlStore(database)
    assert store.count_feedback() == ENTRIES
    store.dispose()
