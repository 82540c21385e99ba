"""Benchmark 1: throughput and latency of crs-patient-view against the floor endpoint (wrk, 16 connections).

    .venv/bin/python bench/bench_throughput.py [--seconds 15] [--warmup 3] [--connections 16]

Both servers are started here on a free loopback port (uvicorn, one worker), warmed up, then loaded with the
same ~60 KB request for a fixed duration; each is stopped by its pid when done. Needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import json

import httpx
from common import SERVICE_PATH, describe_request, save, server, typical_request, vm_hwm_mb, wrk


def load(kind: str, body: bytes, args: argparse.Namespace) -> dict:
    """Start one server, check one answer, warm up, measure; the worker's peak RSS is read before stopping."""
    with server(kind, workers=args.workers if kind == "service" else 1) as (base, pid):
        url = base + SERVICE_PATH
        answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        answer.raise_for_status()
        wrk(url, body, seconds=args.warmup, connections=args.connections)
        figures = wrk(url, body, seconds=args.seconds, connections=args.connections)
        figures["cards"] = len(answer.json()["cards"])
        figures["peak_rss_mb"] = round(vm_hwm_mb(pid), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1,
                        help="service workers (the floor always runs one); `crs-cds serve` defaults to one per core")
    args = parser.parse_args()

    request = typical_request()
    body = json.dumps(request).encode()
    print(f"request: {describe_request(request)}; service workers: {args.workers}")
    service = load("service", body, args)
    floor = load("floor", body, args)
    ratio = service["requests_per_s"] / floor["requests_per_s"]
    for name, f in (("service", service), ("floor", floor)):
        print(f"{name:8} {f['requests_per_s']:8.1f} req/s  p50 {f['p50_ms']:7.2f} ms  p90 {f['p90_ms']:7.2f} ms  "
              f"p99 {f['p99_ms']:7.2f} ms  requests {f['requests']}  non-2xx {f['non_2xx']}  "
              f"cards {f['cards']}  peak RSS {f['peak_rss_mb']} MB")
    print(f"service/floor throughput: {ratio:.2f} (target >= 0.50); service p99 {service['p99_ms']:.1f} ms "
          f"(target < 100 ms at {args.connections} connections)")
    path = save("throughput", {"request": describe_request(request), "connections": args.connections,
                               "seconds": args.seconds, "workers": args.workers, "service": service, "floor": floor,
                               "service_over_floor": round(ratio, 3)})
    print(f"written: {path}")


if __name__ == "__main__":
    main()
