"""Summary and detail of the ICANS card (`icans.active`), in the bedside shape: what was found and how it was
graded, what is not recorded, what to do now for this grade and this patient, the sources once.

The "do now" lines come from cards/icans.yaml (ASCO 2021 Table 2), chosen by grade, concurrent CRS, a recorded
seizure and the drug class; for a patient under 18 a line's paediatric wording replaces an adult flat dose, and a
per-kilogram dose is computed from the charted weight ("weight not charted" otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cds_service.knowledge.dosing import capped_mg
from cds_service.rendering.bedside import MAX_NOW
from cds_service.rendering.knowledge_view import ManagementLineView
from cds_service.rendering.markdown import bullets, escape, join_blocks, number
from cds_service.rendering.templates import fill
from cds_service.rendering.text import CardText

MAX_ACTIONS = MAX_NOW  # bedside shape: at most 5 "do now" lines, most urgent first
MAX_MORE = 2  # ... and the next lines under "Consider" (the bedside limit is 8 bullets in all)
#: Which management lines come first when a grade has more than MAX_ACTIONS (most urgent first).
_PRIORITY = (
    "icans-g3-icu",
    "icans-g4",
    "icans-g3-steroids",
    "icans-g2-dex",
    "icans-g2-dex-with-crs",
    "icans-seizure",
    "icans-toci-with-crs",
    "icans-no-toci-alone",
    "icans-bispecific",
    "icans-eeg-imaging",
    "icans-assess",
    "icans-supportive",
    "icans-seizure-prophylaxis",
)


def active_icans(text: CardText) -> tuple[str, str]:
    """The ICANS card: graded, at-least, seizure, documented, or a low GCS asking for an assessment."""
    p = text.params
    grade, documented = p.get("grade"), p.get("documented_grade")
    variant = _variant(p)
    action_key = f"action-{grade or documented}" if (grade or documented) else "action-ungraded"
    values = {
        "grade": grade,
        "documented_grade": documented,
        "days_after": text.days_phrase("days-after", text.finding.days_since_exposure),
        "tool": p.get("tool"),
        "gcs": number(p.get("low_gcs")),
        "action": text.template.sections[action_key],
    }
    summary = text.summary(variant, values, "drugs", text.drug_candidates())
    lines, more = _management(text, int(grade or documented or 0))
    blocks = [
        _found(text),
        _missing(text),
        text.section("now") + "\n\n" + bullets(lines) if lines else None,
        text.section("consider") + "\n\n" + bullets(more) if more else None,
        _sources(text, lines),
    ]
    return summary, join_blocks(blocks)


def _variant(p: Mapping[str, Any]) -> str:
    if p.get("seizure") and p.get("grade"):
        return "seizure"
    if p.get("grade"):
        return "graded-minimum" if p.get("grade_is_minimum") else "graded"
    if p.get("documented"):
        return "documented" if p.get("documented_grade") else "documented-ungraded"
    return "gcs"


def _found(text: CardText) -> str:
    """The graded domains with their values and times, and the conclusion, as one paragraph."""
    p = text.params
    sentences = [escape(step) for step in p.get("grading_steps") or []]
    if p.get("documented"):
        sentences.append(text.section("documented", documented_grade=p.get("documented_grade") or "unspecified"))
    if p.get("low_gcs") is not None:
        sentences.append(text.section("gcs", tool=p.get("tool")))
    if any(d.get("name") == "consciousness" and d.get("grade") for d in p.get("domains") or []):
        sentences.append(text.section("consciousness-cause"))
    return text.section("found") + " " + " ".join(sentences)


def _missing(text: CardText) -> str | None:
    missing = list(text.finding.missing)
    if not missing:
        return None
    return text.section("missing") + " " + "; ".join(escape(item) for item in missing) + "."


def _management(text: CardText, grade: int) -> tuple[list[str], list[str]]:
    """The lines for this grade and patient, most urgent first: at most MAX_ACTIONS to do now, and the next
    MAX_MORE (seizure prophylaxis, supportive care...) to consider, so no applicable line is lost."""
    if grade <= 0:
        return [], []
    p = text.params
    applicable = [line for line in text.kb.neuro.management if _applies(line, grade, p)]
    applicable.sort(key=lambda line: _PRIORITY.index(line.id) if line.id in _PRIORITY else len(_PRIORITY))
    lines = [_line(text, line) for line in applicable]
    return lines[:MAX_ACTIONS], [_under_consider(x) for x in lines[MAX_ACTIONS : MAX_ACTIONS + MAX_MORE]]


def _under_consider(line: str) -> str:
    """A line under the "Consider" heading does not start with "Consider" again."""
    if line.startswith("Consider "):
        rest = line.removeprefix("Consider ")
        return rest[:1].upper() + rest[1:]
    return line


def _applies(line: ManagementLineView, grade: int, p: Mapping[str, Any]) -> bool:
    if grade not in line.grades:
        return False
    if line.crs is not None and line.crs != bool(p.get("with_crs")):
        return False
    if line.event == "seizure" and not p.get("seizure"):
        return False
    return line.drug_class is None or line.drug_class == p.get("drug_class")


def _line(text: CardText, line: ManagementLineView) -> str:
    """One "do now" line: the paediatric wording (weight-based dose) for a child; "per local protocol" items."""
    p = text.params
    wording = line.text
    if _child(p) and line.paediatric_text:
        wording = fill(line.paediatric_text, {"dose": _dose(p, line.mg_per_kg)})
    wording = escape(wording)
    if line.local:
        return text.local(wording)
    return wording


def _child(p: Mapping[str, Any]) -> bool:
    years = p.get("age_years")
    return years is not None and years < 18


def _dose(p: Mapping[str, Any], mg_per_kg: float | None) -> str:
    weight = p.get("weight_kg")
    if mg_per_kg is None:
        return ""
    if weight is None:
        return "weight not charted"
    return f"{number(capped_mg(mg_per_kg, float(weight), None))} mg for {number(weight)} kg"


def _sources(text: CardText, lines: Sequence[str]) -> str:
    """Each source once, by its short label: the grading scale, then the management lines' sources."""
    names = ["ASTCT 2019"]
    grade = int(text.params.get("grade") or text.params.get("documented_grade") or 0)
    for line in text.kb.neuro.management:
        if lines and _applies(line, grade, text.params):
            names += [text.kb.short_source(s) for s in line.sources if s != "local-protocol"]
    return "Sources: " + "; ".join(dict.fromkeys(escape(n) for n in names)) + "."
