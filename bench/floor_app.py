"""The floor: the least a CDS Hooks endpoint can do with the same request.

A minimal FastAPI app that reads the body, decodes it as JSON and answers {"cards": []}; served like the real
service (uvicorn, one worker, the same logging set-up and options as `crs-cds serve`), so benchmark 1 compares
like with like. Run: `.venv/bin/python bench/floor_app.py --port 8090`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI(title="crs-cds floor")


@app.get("/")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/cds-services/{service_id}")
async def invoke(service_id: str, request: Request) -> JSONResponse:
    """Decode the body as JSON and answer no cards."""
    json.loads(await request.body())
    return JSONResponse({"cards": []})


def main() -> None:
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from cds_service.cli import configure_logging

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    configure_logging("INFO")  # as crs-cds serve does: access log lines through the same handler
    uvicorn.run(app, host=args.host, port=args.port, workers=1, proxy_headers=True, log_config=None,
                server_header=False)


if __name__ == "__main__":
    main()
