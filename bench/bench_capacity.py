"""Benchmark 6: latency at a fixed arrival rate (open loop), the service against the floor, one worker and the
shipped default (one per core).

    .venv/bin/python bench/bench_capacity.py [--rates 50 100 150 200 250] [--seconds 10] [--workers 1 2]

EHRs call a CDS service when a clinician opens a chart or signs an order: calls arrive at a rate, whatever the
service's speed. A closed-loop load (benchmark 1: wrk keeps 16 requests in flight, so the service is always
saturated) measures overload; this one sends the typical ~60 KB request at a fixed rate and times each answer
from the moment it was due (a call that had to wait for a free connection counts its wait: no coordinated
omission). For each rate it prints p50/p99 and the share answered, for the service and for the floor app run
the same way right after (the machine's own noise at that rate), and the highest rate at which the service's
p99 stays under 100 ms.

Bounded: every rate runs `--seconds` (plus a 2 s warm-up at the first rate), at most rate x seconds requests, on
at most 64 connections to 127.0.0.1; every server started is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from common import SERVICE_PATH, percentile, save, server, typical_request

P99_TARGET_MS = 100.0
MAX_CONNECTIONS = 64
TIMEOUT_S = 10.0


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs the same body (a minimal client: little CPU per call)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
        self.reader, self.writer, self.request = reader, writer, request

    @classmethod
    async def open(cls, host: str, port: int, path: str, body: bytes) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        return cls(reader, writer, head + body)

    async def post(self) -> int:
        """Send the request and read the whole answer; its HTTP status."""
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
        await self.reader.readexactly(length)
        return int(lines[0].split()[1])

    def close(self) -> None:
        self.writer.close()


async def run_rate(url: str, body: bytes, rate: float, seconds: float) -> dict[str, Any]:
    """Send `rate` requests a second for `seconds`; latency of each from its due time."""
    host_port, path = url.removeprefix("http://").split("/", 1)
    host, port = host_port.split(":")
    idle: list[Connection] = []
    opened = 0
    latencies: list[float] = []
    errors = 0

    async def one(due: float) -> None:
        nonlocal opened, errors
        connection = idle.pop() if idle else None
        if connection is None:
            if opened >= MAX_CONNECTIONS:
                while not idle:  # every connection busy: the wait counts against this call
                    await asyncio.sleep(0.0005)
                connection = idle.pop()
            else:
                opened += 1
                connection = await Connection.open(host, int(port), "/" + path, body)
        status = None
        for attempt in range(2):
            try:
                status = await asyncio.wait_for(connection.post(), TIMEOUT_S)
                break
            except asyncio.IncompleteReadError as exc:
                connection.close()
                if exc.partial or attempt:  # an answer cut short, or a second failure: an error
                    break
                # The server closed a kept-alive connection that sat idle (uvicorn: after 5 s), as HTTP allows:
                # send again on a new one, as any HTTP client does; the wait still counts from the due time.
                try:
                    connection = await Connection.open(host, int(port), "/" + path, body)
                except OSError:
                    break
            except (TimeoutError, OSError, ValueError, StopIteration):
                connection.close()
                break
        if status is None:
            errors += 1
            opened -= 1
            return
        latencies.append((time.perf_counter() - due) * 1000)
        if status != 200:
            errors += 1
        idle.append(connection)

    loop = asyncio.get_running_loop()
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one(due)))
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()
    answered = len(latencies)
    return {
        "rate": rate,
        "sent": total,
        "answered": answered,
        "errors": errors,
        "achieved_per_s": round(answered / (time.perf_counter() - start), 1),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def measure(kind: str, workers: int, body: bytes, rates: list[float], seconds: float) -> list[dict[str, Any]]:
    with server(kind, workers=workers) as (base, _pid):
        url = base + SERVICE_PATH
        asyncio.run(run_rate(url, body, rates[0], 2.0))  # warm-up
        return [asyncio.run(run_rate(url, body, rate, seconds)) for rate in rates]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[50, 100, 150, 200, 250])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}))
    args = parser.parse_args()
    body = json.dumps(typical_request()).encode()
    figures: dict[str, Any] = {"body_bytes": len(body), "seconds": args.seconds, "runs": []}
    for workers in args.workers:
        service = measure("service", workers, body, args.rates, args.seconds)
        floor = measure("floor", 1, body, args.rates, args.seconds)
        fits = [s["rate"] for s in service if s["p99_ms"] is not None and s["p99_ms"] < P99_TARGET_MS
                and s["answered"] == s["sent"] and s["errors"] == 0]
        print(f"service with {workers} worker(s), floor with 1 (same run):")
        for s, f in zip(service, floor, strict=True):
            print(f"  {s['rate']:6.0f}/s  service p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:8.1f} ms  "
                  f"answered {s['answered']}/{s['sent']} errors {s['errors']}   "
                  f"floor p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:7.1f} ms")
        print(f"  highest rate with service p99 < {P99_TARGET_MS:.0f} ms: {max(fits) if fits else 'none'}/s")
        figures["runs"].append({"workers": workers, "service": service, "floor": floor,
                                "highest_rate_p99_under_target": max(fits) if fits else None})
    print(f"written: {save('capacity', figures)}")


if __name__ == "__main__":
    main()
