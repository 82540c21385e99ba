"""A FHIR server on loopback that answers every read after a fixed delay (benchmark 3).

    .venv/bin/python bench/slow_fhir.py --port 8099 --data prefetch.json [--delay 0.2]

`--data` is a JSON object of prefetch keys (as a CDS Hooks request carries them). Searches are answered with
the Bundle of the matching key (resource type, and category for Observations), `Patient/{id}` and
`Medication/{id}` with the resource; anything else with an empty searchset. Every answer waits `--delay` s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_OBSERVATION_KEYS = {"vital-signs": "vitalSigns", "laboratory": "labs"}
_SEARCH_KEYS = {
    "MedicationRequest": "medicationRequests",
    "MedicationAdministration": "medicationAdministrations",
    "MedicationStatement": "medicationStatements",
    "MedicationDispense": "medicationDispenses",
    "Procedure": "procedures",
    "Condition": "conditions",
}
_EMPTY = {"resourceType": "Bundle", "type": "searchset", "entry": []}


def build_app(prefetch: dict[str, Any], delay: float) -> Starlette:
    """The app: every GET under /fhir/ answered from `prefetch` after `delay` seconds."""
    by_id = {
        f"{r['resourceType']}/{r.get('id')}": r
        for value in prefetch.values() if isinstance(value, dict)
        for r in ([e["resource"] for e in value.get("entry") or []] if value.get("resourceType") == "Bundle"
                  else [value])
    }

    async def read(request: Request) -> JSONResponse:
        await asyncio.sleep(delay)
        path = request.path_params["path"]
        if "/" in path:
            resource = by_id.get(path)
            return JSONResponse(resource or {"resourceType": "OperationOutcome"}, status_code=200 if resource else 404,
                                media_type="application/fhir+json")
        if path == "Observation":
            key = _OBSERVATION_KEYS.get(request.query_params.get("category", ""))
        else:
            key = _SEARCH_KEYS.get(path)
        body = prefetch.get(key) if key else None
        return JSONResponse(body or _EMPTY, media_type="application/fhir+json")

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/", ready), Route("/fhir/{path:path}", read)])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    app = build_app(json.loads(args.data.read_text(encoding="utf-8")), args.delay)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
