"""Benchmark 4: peak resident memory (VmHWM) of one service worker under the load of benchmark 1.

    .venv/bin/python bench/bench_memory.py [--seconds 20] [--connections 16]

Starts the service (uvicorn, one worker: the process started is the worker), reads VmRSS once ready, loads
it with wrk (the ~60 KB typical request, 16 connections) and reads VmHWM from /proc/<pid>/status before
stopping it. Target: under 250 MB.
"""

from __future__ import annotations

import argparse
import json

import httpx
from common import SERVICE_PATH, save, server, typical_request, vm_hwm_mb, vm_rss_mb, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    body = json.dumps(typical_request()).encode()
    with server("service") as (base, pid):
        idle = vm_rss_mb(pid)
        httpx.post(base + SERVICE_PATH, content=body, headers={"Content-Type": "application/json"},
                   timeout=30).raise_for_status()
        load = wrk(base + SERVICE_PATH, body, seconds=args.seconds, connections=args.connections)
        peak, after = vm_hwm_mb(pid), vm_rss_mb(pid)
    figures = {"rss_idle_mb": round(idle, 1), "rss_after_mb": round(after, 1), "peak_rss_mb": round(peak, 1),
               "requests": load["requests"], "requests_per_s": load["requests_per_s"]}
    print(f"worker RSS idle {figures['rss_idle_mb']} MB, after {load['requests']} requests "
          f"{figures['rss_after_mb']} MB, peak (VmHWM) {figures['peak_rss_mb']} MB (target < 250 MB)")
    print(f"written: {save('memory', figures)}")


if __name__ == "__main__":
    main()
