"""A real FHIR R4 server for integration tests: sekmet-fhir, run from its own virtualenv on 127.0.0.1.

Install (once, outside the service's virtualenv, because sekmet pins its own fhir.resources and fastapi):

    python3 -m venv .venv-sekmet && .venv-sekmet/bin/pip install sekmet-fhir

The binary is $CRS_CDS_SEKMET_BIN, else .venv-sekmet/bin/sekmet at the repository root. When it is
missing or does not start, `SekmetServer.start()` raises `SekmetUnavailable` with the reason (the fixtures
turn it into a skip). Started with `sekmet serve -c settings.yaml`: bearer tokens required, simulator off,
data in a temporary directory.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from cds_service.cdshooks.services import ServiceDefinition

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".venv-sekmet" / "bin" / "sekmet"
INSTALL_HINT = "python3 -m venv .venv-sekmet && .venv-sekmet/bin/pip install sekmet-fhir"
READY_SECONDS = 30.0


class SekmetUnavailable(Exception):
    """sekmet is not installed or did not start; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sekmet_binary() -> Path:
    """The sekmet executable, or SekmetUnavailable naming where it was looked for."""
    configured = os.environ.get("CRS_CDS_SEKMET_BIN")
    binary = Path(configured) if configured else DEFAULT_BIN
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise SekmetUnavailable(
            f"sekmet not found at {binary} (set CRS_CDS_SEKMET_BIN or run: {INSTALL_HINT})"
        )
    return binary


class SekmetServer:
    """One sekmet process on a free port of 127.0.0.1, with a static bearer token."""

    def __init__(self, workdir: Path, token: str) -> None:
        self.workdir = workdir
        self.token = token
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/fhir"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / "sekmet.log"

    def start(self) -> None:
        """Start sekmet and wait until GET /fhir/metadata answers 200."""
        binary = sekmet_binary()
        config = self.workdir / "settings.yaml"
        config.write_text(json.dumps(self._settings()), encoding="utf-8")  # JSON is YAML
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
                [str(binary), "serve", "-c", str(config)],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _settings(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "host": "127.0.0.1",
            "port": self.port,
            "data_dir": str(self.workdir / "data"),
            "server_auth": {"types": ["bearer"], "tokens": [self.token]},
            "simulator": {"enabled": False},
            "log_inbound": False,
        }

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise SekmetUnavailable(f"sekmet exited with {self._process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/metadata", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SekmetUnavailable(f"sekmet did not become ready in {READY_SECONDS:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        return self._log.read_text(encoding="utf-8", errors="replace")[-800:] if self._log.exists() else ""

    def stop(self) -> None:
        """Stop the process this object started (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)

    # ------------------------------------------------------------ data

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"}

    def seed(self, resources: list[dict[str, Any]]) -> None:
        """PUT every resource (by its id) in one transaction Bundle."""
        entries = [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in resources
        ]
        body = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        response = httpx.post(self.base_url, json=body, headers=self.headers(), timeout=30.0)
        if response.status_code != 200:
            raise SekmetUnavailable(
                f"seeding sekmet failed with HTTP {response.status_code}: {response.text[:300]}"
            )

    def full_prefetch(self, service: ServiceDefinition, patient_id: str) -> dict[str, Any]:
        """What a fully prefetching EHR would send: each template of `service`, queried on this server."""
        prefetch: dict[str, Any] = {}
        for key, template in service.prefetch.items():
            url = f"{self.base_url}/{template.replace('{{context.patientId}}', patient_id)}"
            response = httpx.get(url, headers=self.headers(), timeout=30.0)
            response.raise_for_status()
            prefetch[key] = response.json()
        return prefetch
