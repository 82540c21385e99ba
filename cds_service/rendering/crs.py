"""Summary and detail of the patient-state cards: active-crs, monitoring-window, monitoring-gap, data-gap.

Each function takes the finding's `CardText` and returns (summary, detail Markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.rendering.markdown import escape, join_blocks, number, table, utc_text
from cds_service.rendering.registry import WARNING_SIGNALS
from cds_service.rendering.text import CardText


def active_crs(text: CardText) -> tuple[str, str]:
    """The CRS card: graded, at-least, documented, or "assess for CRS" when ASTCT's fever rule fails."""
    p, f = text.params, text.finding
    text.cite(["astct-2019"])  # the grading scale of every statement on this card, listed first under Sources
    grade = f.astct_grade if f.astct_grade is not None else p.get("grade")
    variant = _active_variant(p, grade, f.astct_grade_is_minimum)
    values = {
        "grade": grade,
        "documented_grade": p.get("documented_grade"),
        "days_after": text.days_phrase("days-after", f.days_since_exposure),
        "on_day": text.days_phrase("on-day", f.days_since_exposure),
        "signs": _signs(text, p),
    }
    summary = text.summary(variant, values, "drugs", text.drug_candidates())
    detail_values = {**values, "drugs": text.drug_candidates()[0]}
    intro = "intro-documented" if p.get("status") == "documented" else "intro-possible"
    blocks = [
        text.section(intro, **detail_values),
        _grade_conflict(text, grade, f.astct_grade_is_minimum),
        text.section("fever-waived", fever_waived=p["fever_waived"]) if p.get("fever_waived") else None,
        text.section("no-fever") if variant in ("no-fever", "no-temperature") else None,
        _paediatric(text, "hypotension_threshold"),
        text.evidence_block(),
        text.list_block("grading", list(p.get("grading_steps") or [])),
        text.missing_block(),
        text.list_block("signals", text.signal_lines(p.get("signals") or []), escaped=True),
        text.list_block("differential", text.differential_lines(p.get("differential") or []), escaped=True),
        _management(text, grade),
        text.list_block("monitoring", text.label_monitoring_lines(), escaped=True),
    ]
    return summary, join_blocks([*blocks, text.sources_block()])


def _grade_differs(p: Mapping[str, Any], grade: object) -> bool:
    """A documented CRS whose recorded grade is not the grade computed from the data (never hidden)."""
    recorded = p.get("documented_grade")
    return p.get("status") == "documented" and recorded is not None and recorded != grade


def _grade_conflict(text: CardText, grade: object, minimum: bool) -> str | None:
    """The recorded grade beside the computed one, when they differ."""
    p = text.params
    if not _grade_differs(p, grade):
        return None
    key = "grade-conflict-ungraded" if grade is None else "grade-conflict-minimum" if minimum else "grade-conflict"
    return text.section(key, documented_grade=p["documented_grade"], grade=grade)


def _active_variant(p: Mapping[str, Any], grade: object, minimum: bool) -> str:
    """Which summary the active-crs finding gets."""
    documented = p.get("status") == "documented"
    if _grade_differs(p, grade):
        return "documented-conflict" + ("-ungraded" if grade is None else "-minimum" if minimum else "")
    if grade is not None:
        return ("documented" if documented else "possible") + ("-minimum" if minimum else "")
    if documented:
        return "documented-ungraded"
    if p.get("hypotension") or p.get("hypoxia"):
        return "no-temperature" if p.get("fever") is None else "no-fever"
    return "ungraded"


def _signs(text: CardText, p: Mapping[str, Any]) -> str:
    if p.get("hypotension") and p.get("hypoxia"):
        return text.templates.phrase("sign-both")
    return text.templates.phrase("sign-hypoxia" if p.get("hypoxia") else "sign-hypotension")


def _paediatric(text: CardText, threshold_key: str | None) -> str | None:
    if not text.params.get("paediatric"):
        return None
    values: dict[str, object] = {"age": text.age_text() or text.templates.phrase("unknown")}
    if threshold_key:
        values[threshold_key] = text.params.get(threshold_key, text.templates.phrase("unknown"))
    return text.section("paediatric", **values)


def _management(text: CardText, grade: object) -> str:
    """The management summary for the grade, each item cited; a note instead when there is no grade."""
    entry = text.templates.management.get(grade) if isinstance(grade, int) else None
    if entry is None:
        return text.section("no-management")
    lines = [text.item_line(item) for item in entry.items]
    title = "#### " + text.section("management-heading", grade=grade)
    return f"{title}\n\n*{entry.title}*\n\n" + "\n".join(f"- {line}" for line in lines)


def monitoring_window(text: CardText) -> tuple[str, str]:
    """The info card inside a window; warning signals counted in the summary."""
    p, f = text.params, text.finding
    signals = p.get("signals") or []
    warnings = sum(1 for s in signals if s.get("id") in WARNING_SIGNALS)
    values: dict[str, object] = {
        "days_since_exposure": f.days_since_exposure
        if f.days_since_exposure is not None
        else p.get("days_since_exposure")
    }
    if warnings:
        key = "warning-signs-one" if warnings == 1 else "warning-signs-many"
        values["warning_signs"] = text.templates.phrase(key, count=warnings)
    unexcluded = list(p.get("cannot_exclude") or [])
    values["cannot_exclude_text"] = " or ".join(unexcluded)
    variant = "warning" if warnings else "unexcluded" if unexcluded else "quiet"
    summary = text.summary(variant, values, "drugs", text.drug_candidates())
    lists = text.template.lists
    guidance = [
        *(text.item_line(item) for item in lists["guideline-items"]),
        *text.label_monitoring_lines(),
        *(text.item_line(item) for item in lists["local-items"]),
    ]
    blocks = [
        text.section(
            # never "the data do not meet CRS criteria" when some data are missing or unusable
            "intro-incomplete" if f.missing else "intro",
            drugs=text.drug_candidates()[0],
            window_days=p.get("window_days", "?"),
            days_since_exposure=values["days_since_exposure"],
        ),
        _paediatric(text, None),
        text.section("treatment-given", treatment_given=p["treatment_given"]) if p.get("treatment_given") else None,
        text.list_block("signals", text.signal_lines(signals), escaped=True),
        text.evidence_block(),
        text.missing_block(),
        text.list_block("differential", text.differential_lines(p.get("differential") or []), escaped=True),
        text.list_block("monitoring", guidance, escaped=True),
    ]
    return summary, join_blocks([*blocks, text.sources_block()])


def monitoring_gap(text: CardText) -> tuple[str, str]:
    """The warning card for hours without temperature or blood pressure inside a window."""
    p = text.params
    unusable = set(p.get("unusable") or [])
    missing_text = " or ".join(
        text.section("usable", concept=text.concept(m)) if m in unusable else text.concept(m)
        for m in p.get("missing") or []
    ) or text.templates.phrase("unknown")
    values = {"missing_text": missing_text, "hours": number(p.get("hours"))}
    summary = text.summary("gap", values, "drugs", [text.drug_name])
    last_seen: Mapping[str, Any] = p.get("last_seen") or {}
    never, unreadable = text.template.sections["never-seen"], text.template.sections["unusable-seen"]
    rows = [
        (text.concept(concept), _last_seen_cell(moment, never, unreadable if concept in unusable else None))
        for concept, moment in last_seen.items()
    ]
    header = text.templates.common.table_header
    last_block = text.heading("last-seen") + "\n\n" + table((header[0], header[3]), rows) if rows else None
    guidance = [
        *(text.item_line(item) for item in text.template.lists["local-items"]),
        *text.label_monitoring_lines(),
    ]
    blocks = [
        text.section("intro", **values, drugs=text.drug_name),
        last_block,
        text.evidence_block(),
        text.missing_block(),
        text.list_block("monitoring", guidance, escaped=True),
    ]
    return summary, join_blocks([*blocks, text.sources_block()])


def _last_seen_cell(moment: str | None, never: str, unreadable: str | None) -> str:
    """The last usable time (or "none in the window"); "present but not usable" when a later value is."""
    seen = utc_text(moment) if moment else None
    if unreadable is None:
        return seen or never
    return f"{seen}; {unreadable}" if seen else unreadable


def data_gap(text: CardText) -> tuple[str, str]:
    """The info card saying which data could not be read (descriptions come from the FHIR layer)."""
    p = text.params
    summary = text.summary("unreadable", {}, "unused", [""])
    blocks = [
        text.section("intro"),
        text.list_block("items", [escape(item) for item in p.get("items") or []], escaped=True),
    ]
    return summary, join_blocks(blocks)
