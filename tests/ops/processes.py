"""Real `crs-cds serve` processes on 127.0.0.1 for the operations tests, stopped by their own pid."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds_service.store import SqlStore
from tests.conftest import REPO
from tests.security.security_helpers import ISS, KID, ec_key, mint, public_jwk

PUBLIC_BASE = "https://cds.example.org"
REDIS_URL = os.environ.get("CRS_CDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis() -> None:
    """Skip, saying why, when the machine's Redis does not answer."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}): shared replay cache untested here")


def delete_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Production settings: the test issuer's key inline, a migrated SQLite store, the public base URL."""
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": {"keys": [public_jwk(ec_key(), KID, "ES384")]}}]}))
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = SqlStore(database)
    store.upgrade_schema()
    store.dispose()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CRS_CDS_", "PROMETHEUS_"))}
    return env | {
        "CRS_CDS_ENVIRONMENT": "production",
        "CRS_CDS_TRUSTED_ISSUERS_FILE": str(issuers),
        "CRS_CDS_PUBLIC_BASE_URL": PUBLIC_BASE,
        "CRS_CDS_DATABASE_URL": database,
        "CRS_CDS_AUDIT_PEPPER": "test-pepper",
    } | extra


def token(path: str = "/cds-services", **claims: Any) -> str:
    """A CDS Hooks JWT for PUBLIC_BASE + path, valid now (real clock: the servers run on it)."""
    now = int(datetime.now(UTC).timestamp())
    return mint(ec_key(), aud=f"{PUBLIC_BASE}{path}", iat=now, exp=now + 300, jti=str(uuid.uuid4()), **claims)


@contextmanager
def service(env: dict[str, str], *, workers: int = 1, log: Path | None = None) -> Iterator[str]:
    """`crs-cds serve` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    log_path = log or Path(env.get("TMPDIR", "/tmp")) / f"crs-cds-{port}.log"  # noqa: S108 - test log file
    with log_path.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "cds_service", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, log_path)
        yield base
    finally:
        stop(process)


def _wait_ready(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"crs-cds serve exited {process.returncode}: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"crs-cds serve not ready after {_START_SECONDS} s: {log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (its workers), then SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
