"""Concurrent reads of one hook call: searches with paging and Medication reads, all under one deadline.

Each read fills a `KeyOutcome` page by page, so a read cut short by the deadline still gives what it had read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from cds_service.fhir.client import FetchError, FhirGateway
from cds_service.intake.builder import bundle_resources
from cds_service.security.fhir_guard import within_base

log = logging.getLogger(__name__)


@dataclass
class KeyOutcome:
    """What one prefetch key (or the Medication reads) gave: raw resources, and why it fell short, if so."""

    key: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    obtained: bool = False  # a usable answer (a null prefetch value counts: "no data" is an answer)
    reason: str | None = None  # DataGap reason when something is missing
    partial: bool = False  # obtained in part only (a later page failed, or a next link was refused)
    explanation: str | None = None  # a more specific cause than the reason's standard words


@dataclass(frozen=True)
class Reader:
    """Everything a read needs: the shared gateway, the EHR's server and token, limits and the deadline."""

    gateway: FhirGateway
    fhir_server: str
    token: str | None
    max_pages: int
    deadline: float  # asyncio loop time

    def url(self, relative: str) -> str:
        """The absolute URL of a rendered template on the EHR's server."""
        return f"{self.fhir_server.rstrip('/')}/{relative.lstrip('/')}"


def next_link(body: Any, fhir_server: str) -> str | None:
    """The `next` link of a searchset Bundle, made absolute against fhirServer; None when there is none."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        return None
    for link in body.get("link") or []:
        url = link.get("url") if isinstance(link, dict) and link.get("relation") == "next" else None
        if isinstance(url, str):
            return urljoin(fhir_server.rstrip("/") + "/", url)
    return None


async def read_pages(reader: Reader, url: str | None, outcome: KeyOutcome, pages_done: int = 0) -> None:
    """GET `url` (e.g. `{fhirServer}/Observation?patient=123&category=laboratory&_sort=-date&_count=200`),
    then GET each searchset `next` link, up to `reader.max_pages` pages in all, filling `outcome` as pages
    arrive.

    A next link outside fhirServer (another scheme, host, port, or a path not under its base) is refused: the
    token never goes elsewhere.
    """
    while url is not None:
        if pages_done >= reader.max_pages:
            log.info("prefetch key %s: stopped after %d pages (fhir_max_pages)", outcome.key, pages_done)
            _fall_short(
                outcome,
                "page-cap",
                f"only the newest {len(outcome.resources)} records were read: the limit of {reader.max_pages} "
                "pages was reached",
            )
            return
        if not within_base(url, reader.fhir_server):
            log.warning("prefetch key %s: refused a next link to another server", outcome.key)
            _fall_short(outcome, "not-allowed", "the FHIR server sent a page link to another address")
            return
        try:
            body = await reader.gateway.get_json(url, reader.token, deadline=reader.deadline)
        except FetchError as error:
            log.warning("prefetch key %s: FHIR read failed: %s", outcome.key, error.reason)
            _fall_short(outcome, error.reason)
            return
        outcome.resources.extend(bundle_resources(body))
        outcome.obtained = True
        pages_done += 1
        url = next_link(body, reader.fhir_server)


async def read_one(reader: Reader, relative: str, outcome: KeyOutcome) -> None:
    """GET `{fhirServer}/{relative}` (e.g. `{fhirServer}/Medication/abc`) into `outcome`; no paging."""
    try:
        body = await reader.gateway.get_json(reader.url(relative), reader.token, deadline=reader.deadline)
    except FetchError as error:
        _fall_short(outcome, error.reason)
        return
    outcome.resources.extend(bundle_resources(body))
    outcome.obtained = True


def _fall_short(outcome: KeyOutcome, reason: str, explanation: str | None = None) -> None:
    outcome.partial = outcome.obtained
    outcome.reason = reason
    outcome.explanation = explanation


async def run_until(deadline: float, jobs: list[tuple[KeyOutcome, Awaitable[None]]]) -> None:
    """Run the jobs concurrently until they finish or the loop time reaches `deadline`.

    Jobs still running at the deadline are cancelled and their outcomes marked "timeout" (keeping the pages
    they had read). Returns no later than the deadline plus the time cancellation takes.
    """
    if not jobs:
        return
    tasks = {asyncio.ensure_future(job): outcome for outcome, job in jobs}
    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        done, pending = await asyncio.wait(tasks, timeout=remaining)
    except asyncio.CancelledError:  # the hook itself was cancelled: leave no orphan reads behind
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
        _fall_short(tasks[task], "timeout")
    if pending:
        log.warning("FHIR reads cut at the deadline: %d still running", len(pending))
        await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a programming error surfaces; FHIR failures were recorded in the outcome
