"""Benchmark: the CRS timeline's CPU per call (POST /smart/timeline without HTTP), against the days of vitals.

    .venv/bin/python bench/bench_timeline.py [--days 3 7 14 28] [--runs 3]

A synthetic CAR-T chart: axicabtagene ciloleucel `days` ago, then hourly temperature, blood-pressure panel,
SpO2, heart rate and respiratory rate, oxygen flow every 4 h. Times `facts_from_resources` (parse and read) and
`build_timeline` (the CRS-status rule at every change point) separately; prints the median of `--runs`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cds_service.clinical.rules import RuleConfig  # noqa: E402 - after the path set-up
from cds_service.clinical.timeline import build_timeline  # noqa: E402
from cds_service.knowledge.loader import load_knowledge  # noqa: E402
from cds_service.web.intake import facts_from_resources  # noqa: E402
from tests.smart.chart_kit import (  # noqa: E402
    AXICEL,
    NOW,
    administration,
    blood_pressure,
    o2_flow,
    patient,
    searchset,
    spo2,
    temperature,
    vital,
)


def chart(days: int) -> list[dict]:
    observations = []
    for h in range(1, days * 24):
        observations += [
            temperature(f"t{h}", h, 37 + (h % 7) * 0.3),
            blood_pressure(f"b{h}", h, 80 + h % 40),
            spo2(f"s{h}", h, 90 + h % 8),
            vital(f"hr{h}", "8867-4", h, 90 + h % 30, "/min"),
            vital(f"rr{h}", "9279-1", h, 16 + h % 10, "/min"),
        ]
        if h % 4 == 0:
            observations.append(o2_flow(f"f{h}", h, h % 12))
    return [patient(), administration("ma", AXICEL, days * 24), searchset(*observations)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, nargs="+", default=[3, 7, 14, 28])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kb = load_knowledge(REPO / "cards")
    print("| days | observations | facts ms | timeline ms | rule runs | on grid | ms per run |")
    print("|---:|---:|---:|---:|---:|---|---:|")
    for days in args.days:
        resources = chart(days)
        facts_ms, timeline_ms = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            facts = facts_from_resources(resources, kb, NOW)
            read = time.perf_counter()
            result = build_timeline(facts, kb, RuleConfig())
            facts_ms.append((read - started) * 1000)
            timeline_ms.append((time.perf_counter() - read) * 1000)
        count = len(resources[-1]["entry"])
        per_run = statistics.median(timeline_ms) / result.points_evaluated
        print(f"| {days} | {count} | {statistics.median(facts_ms):.0f} | {statistics.median(timeline_ms):.0f} | "
              f"{result.points_evaluated} | {result.points_capped} | {per_run:.2f} |")


if __name__ == "__main__":
    main()
