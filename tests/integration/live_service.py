"""crs-cds itself over real HTTP on 127.0.0.1 (uvicorn in a thread of the test process), for the browser tests."""

from __future__ import annotations

import threading
import time

import httpx
import uvicorn

from cds_service.app import create_app
from cds_service.settings import Settings

READY_SECONDS = 20.0


class LiveService:
    """One uvicorn server for `settings` on `port`; `stop()` asks it to exit and joins the thread."""

    def __init__(self, settings: Settings, port: int) -> None:
        from cds_service.runtime import open_store

        open_store(settings).create_schema()  # a fresh test database, at the head revision (as `db upgrade`)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        # Access log on, through the root logger (log_config=None), so tests can read what it records.
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="info",
                                log_config=None, lifespan="on", access_log=True)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> LiveService:
        self._thread.start()
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"crs-cds did not start on {self.base_url} in {READY_SECONDS:.0f} s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
