"""Benchmark 3: no prefetch, every FHIR answer delayed: hook latency against the slowest single query.

    .venv/bin/python bench/bench_fhir_fallback.py [--delay 0.2] [--calls 10]

Starts bench/slow_fhir.py (serving the typical request's data, every answer after `--delay` s) and the service
(uvicorn, one worker), both on loopback. First times each of the service's prefetch queries alone from this
client (p50 of 5 reads each: the slowest is the reference), then calls crs-patient-view `--calls` times in
sequence without prefetch. Target: hook p50 <= slowest query + 50 ms (the reads run concurrently).
"""

from __future__ import annotations

import argparse
import json
import time

import httpx
from common import RESULTS, SERVICE_PATH, percentile, save, server, typical_request

from cds_service.cdshooks.services import PREFETCH_TEMPLATES


def timed_get(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    client.get(url).raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()

    request = typical_request()
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = RESULTS / "slow-fhir-data.json"
    data.write_text(json.dumps(request.pop("prefetch")))
    patient = request["context"]["patientId"]
    with server("slow_fhir", args=["--data", str(data), "--delay", str(args.delay)]) as (fhir_base, _):
        fhir = f"{fhir_base}/fhir"
        queries = {
            key: f"{fhir}/{template.replace('{{context.patientId}}', patient)}"
            for key, template in PREFETCH_TEMPLATES.items()
        }
        with httpx.Client(timeout=10) as client:
            single = {key: percentile([timed_get(client, url) for _ in range(5)], 50) for key, url in queries.items()}
        slowest_key = max(single, key=single.get)
        request["fhirServer"] = fhir
        request["fhirAuthorization"] = {"access_token": "bench-token", "token_type": "Bearer", "expires_in": 300,
                                        "scope": "patient/*.read", "subject": "crs-cds", "patient": patient}
        body = json.dumps(request).encode()
        with server("service") as (base, _), httpx.Client(timeout=30) as client:
            headers = {"Content-Type": "application/json"}
            cards = len(client.post(base + SERVICE_PATH, content=body, headers=headers).json()["cards"])  # warm-up
            hook = [timed_get_post(client, base + SERVICE_PATH, body, headers) for _ in range(args.calls)]
    figures = {
        "delay_ms": args.delay * 1000, "queries": len(queries), "single_query_p50_ms": single,
        "slowest_query": slowest_key, "slowest_query_ms": round(single[slowest_key], 1),
        "hook_p50_ms": round(percentile(hook, 50), 1), "hook_max_ms": round(max(hook), 1), "cards": cards,
    }
    figures["hook_minus_slowest_ms"] = round(figures["hook_p50_ms"] - figures["slowest_query_ms"], 1)
    print(f"{len(queries)} queries, each delayed {args.delay * 1000:.0f} ms; slowest alone: {slowest_key} "
          f"{figures['slowest_query_ms']} ms")
    print(f"hook (no prefetch): p50 {figures['hook_p50_ms']} ms, max {figures['hook_max_ms']} ms, cards {cards}; "
          f"p50 - slowest = {figures['hook_minus_slowest_ms']} ms (target <= 50 ms)")
    print(f"written: {save('fhir-fallback', figures)}")


def timed_get_post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    client.post(url, content=body, headers=headers).raise_for_status()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
