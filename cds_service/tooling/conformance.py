"""`crs-cds check-request FILE`: the FHIR R4 conformance problems of a hook request, for integrators.

The service itself never validates a whole resource (it reads only what its rules need, liberally); an
integrator still wants to know what their EHR sends that is not R4. This checks every resource of the request's
prefetch and draftOrders against the R4 models of fhir.resources (its R4B package: fhir.resources 8 ships no R4
package, and R4B is wire-compatible with R4 for every resource type the service reads) and says, separately,
whether the service could still read what it needs.

    resource                          element                  problem
    MedicationRequest/sandbox-1       intent                   Field required
    MedicationRequest/sandbox-1       category                 Input should be a valid list

Exit status 0 when the service could read what it needs (problems or not), 1 when it could not (the request is
not a CDS Hooks request, or a resource a rule reads had to be set aside), 2 when the file cannot be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cds_service.cdshooks.body import validate
from cds_service.cdshooks.models import HookRequest
from cds_service.errors import InvalidRequest
from cds_service.intake.builder import bundle_resources, record_from_resources
from cds_service.knowledge.base import KnowledgeBase

MAX_PROBLEMS_PER_RESOURCE = 10


@dataclass(frozen=True, slots=True)
class Problem:
    resource: str  # "MedicationRequest/abc" or "prefetch.vitalSigns entry 3"
    element: str  # "intent", "category", "(resource)"
    problem: str  # pydantic's message, never the value


@dataclass(frozen=True, slots=True)
class Report:
    problems: tuple[Problem, ...]
    readable: bool  # the service could read what its rules need
    notes: tuple[str, ...]  # why not, or what it set aside


def check_request(path: Path, knowledge: KnowledgeBase) -> Report:
    """The R4 problems of every resource in the request at `path`, and whether the service could read it."""
    body = json.loads(path.read_text(encoding="utf-8"))
    try:
        request = validate(HookRequest, body)
    except InvalidRequest as exc:
        return Report((), False, (f"not a CDS Hooks 2.0 request: {exc.message}",))
    located = list(_resources(request))
    problems = tuple(p for where, raw in located for p in _r4_problems(where, raw))
    record = record_from_resources(
        [raw for where, raw in located if not where.startswith("context.draftOrders")],
        knowledge=knowledge,
        now=None,
        draft_orders=request.context.draftOrders,
    )
    set_aside = [item for item in record.set_aside if item.could_matter]
    notes = tuple(f"{item.reference}: {item.field} {item.reason}: set aside" for item in set_aside)
    return Report(problems, not set_aside, notes)


def _resources(request: HookRequest) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for key, value in sorted((request.prefetch or {}).items()):
        found += [(f"prefetch.{key}", raw) for raw in bundle_resources(value)]
    found += [("context.draftOrders", raw) for raw in bundle_resources(request.context.draftOrders)]
    return found


def _r4_problems(where: str, raw: dict[str, Any]) -> list[Problem]:
    resource_type = raw.get("resourceType")
    name = f"{resource_type}/{raw.get('id')}" if raw.get("id") else f"a {resource_type} in {where}"
    try:
        model = get_fhir_model_class(str(resource_type))
    except (KeyError, ValueError):
        return [Problem(name, "resourceType", "not an R4 resource type")]
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        return [
            Problem(name, ".".join(str(p) for p in error["loc"]) or "(resource)", _one_line(error["msg"]))
            for error in exc.errors(include_url=False, include_input=False)[:MAX_PROBLEMS_PER_RESOURCE]
        ]
    except Exception as exc:  # fhir.resources raises KeyError, TypeError... on odd shapes
        return [Problem(name, "(resource)", f"could not be validated ({type(exc).__name__})")]
    return []


def _one_line(text: str) -> str:
    """A message as one printable line (pydantic quotes regex patterns with their raw newlines and tabs)."""
    return text.encode("unicode_escape").decode("ascii")


def render(report: Report) -> str:
    """The report as a table for a terminal."""
    lines: list[str] = []
    if report.problems:
        width = max(len(p.resource) for p in report.problems)
        element = max(len(p.element) for p in report.problems)
        lines.append(f"{'resource':<{width}}  {'element':<{element}}  problem")
        lines += [f"{p.resource:<{width}}  {p.element:<{element}}  {p.problem}" for p in report.problems]
    else:
        lines.append("no R4 conformance problems found")
    lines += report.notes
    verdict = "the service can read what it needs" if report.readable else "the service could NOT read all it needs"
    lines.append(f"{len(report.problems)} R4 problem(s); {verdict}")
    return "\n".join(lines)
