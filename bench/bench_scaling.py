"""Benchmark 2: hook latency on heavy charts (1,000 / 5,000 / 20,000 observations + 200 medication requests).

    .venv/bin/python bench/bench_scaling.py [--sizes 1000 5000 20000] [--repeat 9]

In-process: each call does what the HTTP route does after authentication (json decode with the body limits,
HookRequest validation, answer_hook with the SQLite audit), so HTTP framing is left out. Printed per size: body
size, p50 of the hook call, p50 of a bare `json.loads` of the same body, their ratio, and the growth factor of
the hook p50 from the previous size (normalised per doubling: factor ** (1 / log2(size ratio))).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import math
import time

from common import call_hook, heavy_request, in_process_runtime, percentile, save


async def hook_times(runtime, body: bytes, repeat: int) -> list[float]:
    await call_hook(runtime, body)  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call_hook(runtime, body)
        times.append((time.perf_counter() - started) * 1000)
    return times


def loads_times(body: bytes, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        json.loads(body)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def run(sizes: list[int], repeat: int) -> list[dict]:
    rows = []
    with in_process_runtime() as runtime:
        for size in sizes:
            body = json.dumps(heavy_request(size)).encode()
            hook = percentile(await hook_times(runtime, body, repeat), 50)
            loads = percentile(loads_times(body, repeat), 50)
            rows.append({"observations": size, "body_bytes": len(body), "hook_p50_ms": round(hook, 2),
                         "json_loads_p50_ms": round(loads, 2), "hook_over_loads": round(hook / loads, 2)})
        await runtime.aclose()
    for previous, row in itertools.pairwise(rows):
        factor = row["hook_p50_ms"] / previous["hook_p50_ms"]
        doublings = math.log2(row["observations"] / previous["observations"])
        row["growth"] = round(factor, 2)
        row["growth_per_doubling"] = round(factor ** (1 / doublings), 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rows = asyncio.run(run(args.sizes, args.repeat))
    for row in rows:
        growth = (f"  growth x{row['growth']} (x{row['growth_per_doubling']} per doubling)"
                  if "growth" in row else "")
        print(f"{row['observations']:6} obs  {row['body_bytes'] / 1e6:6.2f} MB  hook p50 {row['hook_p50_ms']:8.1f} ms  "
              f"json.loads p50 {row['json_loads_p50_ms']:7.1f} ms  ratio {row['hook_over_loads']:5.2f}{growth}")
    print("targets: at 5,000 observations hook p50 <= 3 x json.loads; growth <= 2.2 per doubling")
    print(f"written: {save('scaling', {'mode': 'in-process', 'repeat': args.repeat, 'rows': rows})}")


if __name__ == "__main__":
    main()
