"""Several workers and replicas share one record of used JWTs (Redis), and production refuses to run several
workers without it. Real `crs-cds serve` processes on 127.0.0.1 and the machine's Redis."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import REPO
from tests.ops.processes import delete_prefix, production_env, require_redis, service, token


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    require_redis()
    prefix = f"crs-cds-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    delete_prefix(prefix)


def _discovery(base: str, jwt: str) -> int:
    with httpx.Client(base_url=base, timeout=10) as client:  # a new connection per call
        return client.get("/cds-services", headers={"Authorization": f"Bearer {jwt}"}).status_code


def test_a_token_used_on_one_replica_is_refused_on_the_other(tmp_path, redis_prefix):
    env = production_env(tmp_path, CRS_CDS_REDIS_URL="redis://127.0.0.1:6379/0", CRS_CDS_REDIS_KEY_PREFIX=redis_prefix)
    with service(env, log=tmp_path / "a.log") as first, service(env, log=tmp_path / "b.log") as second:
        jwt = token()
        assert _discovery(first, jwt) == 200
        assert _discovery(second, jwt) == 401
        assert _discovery(first, jwt) == 401
        assert _discovery(second, token()) == 200  # the second replica serves fresh tokens


def test_with_two_workers_and_redis_a_replayed_token_is_accepted_once_in_twenty(tmp_path, redis_prefix):
    env = production_env(tmp_path, CRS_CDS_REDIS_URL="redis://127.0.0.1:6379/0", CRS_CDS_REDIS_KEY_PREFIX=redis_prefix)
    with service(env, workers=2, log=tmp_path / "w.log") as base:
        jwt = token()
        statuses = [_discovery(base, jwt) for _ in range(20)]
    assert sorted(statuses) == [200] + [401] * 19


def test_production_refuses_two_workers_without_a_shared_cache_and_says_what_to_set(tmp_path):
    env = production_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "cds_service", "serve", "--port", "1", "--workers", "2"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "CRS_CDS_REDIS_URL" in result.stderr and "replay" in result.stderr


def test_when_redis_goes_away_calls_are_refused_with_503_not_accepted(tmp_path, redis_prefix):
    env = production_env(tmp_path, CRS_CDS_REDIS_URL="redis://127.0.0.1:9/0", CRS_CDS_REDIS_KEY_PREFIX=redis_prefix)
    with service(env, log=tmp_path / "dead.log") as base, httpx.Client(base_url=base, timeout=10) as client:
        answer = client.get("/cds-services", headers={"Authorization": f"Bearer {token()}"})
        ready = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["resourceType"] == "OperationOutcome"
    assert ready.status_code == 503 and "redis" in ready.json()["issue"][0]["diagnostics"]
