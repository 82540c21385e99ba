"""The `appContext` of a card's SMART link: the finding, so the timeline page opens on it.

CDS Hooks 2.0 carries `appContext` as a string, handed to the SMART app in the token response; this one is
compact JSON (README "The timeline app"):

    {"ruleId": "crs.active", "category": "active-crs", "astctGrade": 2, "astctGradeIsMinimum": false,
     "evidence": ["Observation/abc", "MedicationAdministration/def"]}

Only references, never values: the page reads the values itself, with its own token.
"""

from __future__ import annotations

import json

from cds_service.domain.findings import Category, Finding

#: The findings whose card opens the timeline on them.
CONTEXT_RULES = frozenset({"crs.active", "crs.monitoring-window", "icans.active"})


def smart_app_context(finding: Finding) -> str | None:
    """The appContext string for a CRS (or ICANS) status finding; None for every other card."""
    if finding.rule_id not in CONTEXT_RULES:
        return None
    references = list(dict.fromkeys(e.reference for e in finding.evidence if e.reference))
    context = {
        "ruleId": finding.rule_id,
        "category": Category(finding.category).value,
        "astctGrade": finding.astct_grade,
        "astctGradeIsMinimum": finding.astct_grade_is_minimum,
        "evidence": references,
    }
    if finding.category is Category.active_icans:
        context["icansGrade"] = finding.icans_grade
        context["icansGradeIsMinimum"] = finding.icans_grade_is_minimum
    return json.dumps(context, separators=(",", ":"))
