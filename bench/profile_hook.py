"""Profile one hook call in-process with pyinstrument (the typical request, or a heavy chart).

    .venv/bin/python bench/profile_hook.py [--observations N] [--repeat 50]

Prints pyinstrument's call tree (and writes it to bench/results/profile-*.txt). pyinstrument comes from the
optional `bench` extra. The hook runs in-process (no HTTP), as the route does after authentication.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging

from common import RESULTS, call_hook, heavy_request, in_process_runtime, typical_request
from pyinstrument import Profiler


async def run(body: bytes, repeat: int) -> str:
    with in_process_runtime() as runtime:
        await call_hook(runtime, body)  # warm-up: imports, caches
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        profiler.start()
        for _ in range(repeat):
            await call_hook(runtime, body)
        profiler.stop()
        await runtime.aclose()
    return profiler.output_text(unicode=False, color=False, show_all=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observations", type=int, default=0, help="0: the typical request")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    request = heavy_request(args.observations) if args.observations else typical_request()
    text = asyncio.run(run(json.dumps(request).encode(), args.repeat))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"profile-{args.observations or 'typical'}.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
