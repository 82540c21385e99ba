"""The CRS timeline page's one service call, and its configuration.

    POST /smart/timeline   {"resources": [FHIR resources or Bundles], "patientId": "..."}   -> the timeline
    GET  /smart/config     the page's SMART client settings (client id, scopes, look-back)

The page reads the chart itself, with its own SMART token, and posts what it read; the service computes the
timeline with the cards' own rules (`clinical.timeline`) and answers. Nothing is stored and nothing of the body
is logged (counts and timings only). No FHIR server is called, so the call needs no token: it returns nothing
but values computed from the data it was sent (docs/SECURITY.md, "The timeline endpoint").
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cds_service.cdshooks.body import parse_json, read_body, validate
from cds_service.clinical.timeline import Timeline, build_timeline
from cds_service.domain.findings import Finding
from cds_service.errors import InvalidRequest, PayloadTooLarge
from cds_service.runtime import Runtime
from cds_service.web.intake import facts_from_resources

log = logging.getLogger("cds_service.smart")
router = APIRouter()

#: More resources than this in one timeline call get 413 (besides the byte, depth and element limits).
MAX_RESOURCES = 20_000
SCOPES_EHR = "launch patient/*.read"
SCOPES_STANDALONE = "launch/patient patient/*.read"


class TimelineRequest(BaseModel):
    """What the page posts: the FHIR resources (or searchset Bundles) it read for one patient."""

    model_config = ConfigDict(extra="forbid")
    resources: list[dict[str, Any]] = Field(max_length=MAX_RESOURCES)
    patientId: str | None = Field(default=None, max_length=64)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/smart/config")
async def smart_config(request: Request) -> JSONResponse:
    """The page's SMART client settings: client id and scopes, and how many days of observations to read."""
    runtime = _runtime(request)
    windows = [int(d.exposure_window_days) for d in runtime.knowledge.drugs.values()]
    return JSONResponse(
        {
            "clientId": runtime.settings.smart_client_id,
            "scopes": {"ehr": SCOPES_EHR, "standalone": SCOPES_STANDALONE},
            "lookbackDays": min(60, max([14, *windows]) + 1),
            "knowledgeVersion": runtime.knowledge.version,
        }
    )


@router.post("/smart/timeline")
async def timeline(request: Request) -> JSONResponse:
    """The CRS timeline of the posted resources, graded at each change point by the cards' rules."""
    runtime = _runtime(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise InvalidRequest("the timeline takes application/json", expression=["content-type"])
    raw = await read_body(request, runtime.settings.max_body_bytes)
    data = parse_json(raw, runtime.settings)
    if isinstance(data, dict) and isinstance(data.get("resources"), list) and len(data["resources"]) > MAX_RESOURCES:
        raise PayloadTooLarge(f"at most {MAX_RESOURCES} resources per timeline call")
    body = validate(TimelineRequest, data)
    started = time.perf_counter()
    now = runtime.clock()
    facts = facts_from_resources(
        body.resources,
        runtime.knowledge,
        now,
        patient_id=body.patientId,
        max_observations=runtime.settings.max_observations,
    )
    result = build_timeline(facts, runtime.knowledge, runtime.rule_config)
    log.info(
        "timeline computed resources=%d measurements=%d points=%d capped=%s ms=%.1f",
        len(body.resources),
        len(facts.measurements),
        result.points_evaluated,
        result.points_capped,
        (time.perf_counter() - started) * 1000,
    )
    return JSONResponse(timeline_json(result, runtime.knowledge.version))


# ---------------------------------------------------------------- wire format (README "The timeline API")


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def timeline_json(tl: Timeline, knowledge_version: str) -> dict[str, Any]:
    """The response body: times ISO 8601 with offset, values in canonical units; see the README."""
    return {
        "patientId": tl.patient_id,
        "birthDate": tl.birth_date,
        "now": _t(tl.now),
        "start": _t(tl.start),
        "knowledgeVersion": knowledge_version,
        "gradingWindowHours": tl.grading_window_hours,
        "thresholds": {
            "feverCelsius": tl.fever_celsius,
            "spo2AssessBelow": tl.spo2_assess_below,
            "lowFlowMaxLMin": tl.low_flow_max_l_min,
            "systolic": [
                {"start": _t(s.start), "end": _t(s.end), "value": s.value, "group": s.group}
                for s in tl.systolic_thresholds
            ],
        },
        "series": {
            concept: [
                {"t": _t(m.effective), "value": m.value, "unit": m.unit, "reference": m.reference, "code": m.code}
                for m in values
            ]
            for concept, values in tl.series.items()
        },
        "oxygen": [
            {
                "start": _t(b.start),
                "end": _t(b.end),
                "device": b.device,
                "flowLMin": b.flow_l_min,
                "astctLevel": b.astct_level,
                "reference": b.reference,
            }
            for b in tl.oxygen
        ],
        "vasopressors": [
            {
                "id": v.vasopressor_id,
                "vasopressin": v.is_vasopressin,
                "start": _t(v.start),
                "end": _t(v.end),
                "reference": v.reference,
            }
            for v in tl.vasopressors
        ],
        "treatments": [
            {"id": x.treatment_id, "kind": x.kind, "t": _t(x.time), "reference": x.reference} for x in tl.treatments
        ],
        "exposures": [
            {
                "drugId": e.drug_id,
                "drugName": e.drug_name,
                "drugClass": e.drug_class,
                "riskTier": e.risk_tier,
                "start": _t(e.start),
                "last": _t(e.last),
                "ongoing": e.ongoing,
                "source": e.source,
                "reference": e.reference,
            }
            for e in tl.exposures
        ],
        "crs": [
            {
                "start": _t(s.start),
                "end": _t(s.end),
                "ruleId": s.rule_id,
                "category": s.category,
                "severity": s.severity,
                "grade": s.grade,
                "isMinimum": s.is_minimum,
                "cannotExclude": list(s.cannot_exclude),
                "drugId": s.drug_id,
            }
            for s in tl.crs
        ],
        "icans": [
            {
                "start": _t(s.start),
                "end": _t(s.end),
                "severity": s.severity,
                "grade": s.grade,
                "isMinimum": s.is_minimum,
                "tool": s.tool,
                "seizure": s.seizure,
            }
            for s in tl.icans
        ],
        "unusable": [
            {"concept": u.concept, "t": _t(u.effective), "reason": u.reason, "reference": u.reference}
            for u in tl.unusable
        ],
        "finding": _finding(tl.finding),
        "points": {"evaluated": tl.points_evaluated, "onGrid": tl.points_capped},
    }


def _finding(finding: Finding | None) -> dict[str, Any] | None:
    """The CRS-status finding at now, as the card's extension carries it (evidence references and labels)."""
    if finding is None:
        return None
    return {
        "ruleId": finding.rule_id,
        "category": finding.category.value,
        "severity": finding.severity.value,
        "astctGrade": finding.astct_grade,
        "astctGradeIsMinimum": finding.astct_grade_is_minimum,
        "drug": finding.drug.name if finding.drug else None,
        "gradingSteps": list(finding.params.get("grading_steps") or []),
        "evidence": [
            {"label": e.label, "reference": e.reference, "effective": _t(e.effective)} for e in finding.evidence
        ],
        "missing": list(finding.missing),
    }
