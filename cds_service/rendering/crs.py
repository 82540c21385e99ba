"""Summary and detail of the patient-state cards: active-crs, monitoring-window, monitoring-gap, data-gap.

Each function takes the finding's `CardText` and returns (summary, detail Markdown). Warning and critical cards
follow the bedside shape (rendering/bedside.py): found, grade, not recorded, do now, consider, sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.knowledge.dosing import capped_mg
from cds_service.rendering.bedside import Bedside
from cds_service.rendering.markdown import escape, join_blocks, number
from cds_service.rendering.registry import FOUND_CONTEXT_IDS
from cds_service.rendering.templates import ManagementGroup, ManagementItem, fill
from cds_service.rendering.text import CardText

# ---------------------------------------------------------------- active CRS


def active_crs(text: CardText) -> tuple[str, str]:
    """The CRS card: graded, at-least, documented, or "assess for CRS" when ASTCT's fever rule fails."""
    p, f = text.params, text.finding
    grade = f.astct_grade if f.astct_grade is not None else p.get("grade")
    variant = _active_variant(p, grade, f.astct_grade_is_minimum)
    found = _group(text)
    action = found[1].actions.get(int(grade)) if found and isinstance(grade, int) else None
    values = {
        "grade": grade,
        "documented_grade": p.get("documented_grade"),
        "days_after": text.days_phrase("days-after", f.days_since_exposure),
        "on_day": text.days_phrase("on-day", f.days_since_exposure),
        "signs": _signs(text, p),
        "action": action or "assess and grade",
    }
    summary = text.summary(variant, values, "drugs", text.drug_candidates())
    card = Bedside()
    card.cite([text.kb.short_source("lee-2019-astct")])
    card.found = [*_evidence_sentences(text), *_found_values(text)]
    card.grade = _grade_sentences(text, grade)
    card.missing = [escape(m) for m in f.missing]
    card.now = _management(text, card, grade)
    if p.get("confirm_hypotension"):
        card.now.insert(0, text.section("confirm", value=number(p.get("min_systolic")),
                                        threshold=number(p.get("hypotension_threshold"))))
    card.consider = [*_signal_sentences(text), *_consider(text, card)]
    if p.get("icans_found"):
        card.consider.append(text.section("neuro-icans"))
    elif p.get("neuro_tool"):
        card.now.append(text.section("neuro", tool=p["neuro_tool"]))
    return summary, card.markdown(_headings(text))


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


def _grade_differs(p: Mapping[str, Any], grade: object) -> bool:
    recorded = p.get("documented_grade")
    return p.get("status") == "documented" and recorded is not None and recorded != grade


def _signs(text: CardText, p: Mapping[str, Any]) -> str:
    if p.get("hypotension") and p.get("hypoxia"):
        return text.templates.phrase("sign-both")
    return text.templates.phrase("sign-hypoxia" if p.get("hypoxia") else "sign-hypotension")


def _grade_sentences(text: CardText, grade: object) -> list[str]:
    """The conclusion of the grading (the steps' last sentence), the waiver, the charted grade, the age rule."""
    p = text.params
    steps = [s for s in p.get("grading_steps") or [] if not s.startswith("Grade ") or " is a minimum" not in s]
    sentences = [escape(steps[-1])] if steps else []
    if p.get("fever_waived"):
        sentences.append(text.section("fever-waived", fever_waived=p["fever_waived"]))
    if _grade_differs(p, grade):
        sentences.append(text.section("grade-conflict", documented_grade=p["documented_grade"]))
    if p.get("paediatric"):
        sentences.append(
            text.section("paediatric", age=text.age_text() or "unknown", hypotension_threshold=number(
                p.get("hypotension_threshold")))
        )
    if p.get("birth_date_precision") in ("year", "month"):
        sentences.append(escape(text.templates.phrase("partial-birth-date", precision=p["birth_date_precision"])))
    return sentences


def _evidence_sentences(text: CardText) -> list[str]:
    """One short clause per evidence item, as a clinician writes it: "temperature 38.9 °C at 09:00 UTC"."""
    clauses = [_evidence_clause(text, item) for item in text.finding.evidence]
    if not clauses:
        return []
    joined = "; ".join(clauses)
    return [escape(joined[:1].upper() + joined[1:] + ".")]


def _evidence_clause(text: CardText, item: Any) -> str:
    units = text.templates.common.units
    label = str(item.label)
    if label.startswith("Oxygen support (") and label.endswith(")"):
        device = label[len("Oxygen support (") : -1]
        what = f"{device} {number(item.value)} L/min" if isinstance(item.value, int | float) else device
    else:
        value = number(round(item.value, 1)) if isinstance(item.value, float) else item.value
        if isinstance(value, str) and label.endswith(" given"):
            value = None  # "tocilizumab given at 10:00", not its kind ("anti-cytokine")
        unit = units.get(item.unit or "", item.unit or "")
        space = "" if unit.startswith("/") or not unit else " "
        what = f"{_lower_first(label)} {value}{space}{unit}" if value is not None else _lower_first(label)
    return f"{what} at {text.when(item.effective)}" if item.effective else what


def _lower_first(label: str) -> str:
    """ "Systolic blood pressure" -> "systolic blood pressure"; acronyms ("ICE", "SpO2", "CRP") stay."""
    return label if len(label) > 1 and label[1].isupper() else label[:1].lower() + label[1:]


def _signal_sentences(text: CardText) -> list[str]:
    """Warning signals the values alone do not say (low SpO2 without oxygen, HLH-range ferritin)."""
    said = {"neutropenic-fever", "ferritin-hlh"}  # their differential lines say them, with what to do
    signals = [s for s in text.params.get("signals") or [] if s.get("id") in text.warning_signals - said]
    return text.signal_lines(signals)[:1]


def _group(text: CardText) -> tuple[str, ManagementGroup] | None:
    p = text.params
    return text.templates.management.group_for(str(p.get("drug_id") or ""), str(p.get("drug_class") or ""))


def _management(text: CardText, card: Bedside, grade: object) -> list[str]:
    """The "do now" lines of the drug's group for this grade, paediatric where the patient is a child."""
    found = _group(text)
    if found is None or not isinstance(grade, int):
        return []
    lines = []
    for item in found[1].grades.get(grade, ()):
        line = _management_line(text, item)
        if line:
            lines.append(line)
            card.cite([text.kb.short_source(s) for s in item.sources if s != "local-protocol"])
    return lines


def _management_line(text: CardText, item: ManagementItem) -> str:
    p = text.params
    child = p.get("paediatric") is True
    wording = item.paediatric if child and item.paediatric else item.text
    if "{tocilizumab}" in wording:
        return _tocilizumab_line(text)
    values = {"drug": text.drug_name, "dose": _dose(p, item)}
    line = escape(fill(wording, values))
    return text.local(line) if item.local else line


def _dose(p: Mapping[str, Any], item: ManagementItem) -> str:
    """The paediatric dose of a line: mg/kg x weight or mg/m2 x BSA, capped; what is missing otherwise."""
    if item.mg_per_kg is not None:
        weight = p.get("weight_kg")
        if weight is None:
            return "weight not charted"
        return f"{number(capped_mg(item.mg_per_kg, float(weight), item.max_mg))} mg for {number(weight)} kg"
    if item.mg_per_m2 is not None:
        bsa = p.get("bsa_m2")
        if bsa is None:
            return "height and weight needed for the body surface"
        return f"{number(capped_mg(item.mg_per_m2, float(bsa), item.max_mg))} mg for {number(bsa)} m2"
    return ""


def _tocilizumab_line(text: CardText) -> str:
    """The tocilizumab line of the rule's plan: the dose for the charted weight, or why it is not offered."""
    plan: Mapping[str, Any] = text.params.get("tocilizumab") or {}
    status = str(plan.get("status"))
    key = f"toci-{status}"
    if key not in text.template.sections:
        return ""  # "not-indicated"
    rule = text.kb.dosing.tocilizumab
    next_at = plan.get("next_at")
    values = {
        "dose": number(plan.get("dose_mg")), "mg_per_kg": number(plan.get("mg_per_kg")),
        "weight": number(plan.get("weight_kg")), "interval": rule.min_interval_hours,
        "max_24h": rule.max_doses_24h, "max_total": rule.max_doses_total, "adult_mg_per_kg": number(rule.mg_per_kg),
        "under_mg_per_kg": number(rule.mg_per_kg_under), "under_kg": number(rule.under_kg),
        "max_mg": number(rule.max_mg), "label_age": rule.label_from_age_years, "given_24h": plan.get("given_24h"),
        "given_total": plan.get("given_total"), "next_at": text.when(next_at) if next_at else "",
    }
    return text.section(key, **values)


def _found_values(text: CardText) -> list[str]:
    """Lab values of the differential the chart has (lactate, neutrophils), said with what was found."""
    items = [i for i in text.params.get("context") or [] if i.get("id") in FOUND_CONTEXT_IDS]
    return [line for line in (text.context_line(item) for item in items) if line]


def _consider(text: CardText, card: Bedside) -> list[str]:
    """This patient's differential: neutropenic fever, infection, a positive blood culture, lactate, adrenal
    insufficiency, IEC-HS (each with its values)."""
    p = text.params
    lines = []
    for item in p.get("context") or []:
        if item.get("id") in FOUND_CONTEXT_IDS:
            continue
        line = text.context_line(item)
        if line:
            lines.append(line)
    for differential_id in p.get("differential") or []:
        entry = text.templates.differentials.get(differential_id)
        if entry is not None:
            lines.append(escape(entry.text))
            card.cite([text.kb.short_source(s) for s in entry.sources])
    return lines


def _headings(text: CardText) -> dict[str, str]:
    sections = text.template.sections
    return {key: sections.get(key, "") for key in ("found", "grade", "missing", "now", "consider")}


# ---------------------------------------------------------------- monitoring window


def _window_variant(p: Mapping[str, Any], warnings: int, unexcluded: list[str]) -> str:
    """Which summary the window card has: "no criteria met" only when nothing is open (unreadable vital signs,
    a value not usable, an ICANS assessment not usable) and no warning sign is present."""
    neuro = bool(p.get("neuro_tool"))
    if p.get("vital_signs_unread"):
        return "unread-neuro" if neuro else "unread"
    if warnings:
        return "warning"
    if unexcluded:
        return "unexcluded"
    if p.get("icans_open"):
        return "icans-open"
    if p.get("unmeasured"):
        return "unmeasured"
    return "quiet-neuro" if neuro else "quiet"


def monitoring_window(text: CardText) -> tuple[str, str]:
    """The window card: "no CRS (or ICANS) criteria met" only when none is; warning signs; open signs."""
    p, f = text.params, text.finding
    signals = p.get("signals") or []
    warnings = sum(1 for s in signals if s.get("id") in text.warning_signals)
    days = f.days_since_exposure if f.days_since_exposure is not None else p.get("days_since_exposure")
    unexcluded = list(p.get("cannot_exclude") or [])
    values: dict[str, object] = {"days_since_exposure": days, "cannot_exclude_text": " or ".join(unexcluded)}
    if warnings:
        names = text.signal_shorts(signals)
        first = names[0] if names else ""
        many = text.templates.phrase("warning-signs-many", first=first, more=warnings - 1)
        values["warning_signs"] = first if warnings == 1 else many
    variant = _window_variant(p, warnings, unexcluded)
    summary = text.summary(variant, values, "drugs", text.drug_candidates())
    card = Bedside()
    open_ = f.missing or unexcluded or p.get("vital_signs_unread") or p.get("icans_open")
    intro = "incomplete" if open_ else "quiet"
    card.found = [text.section(intro, window_days=p.get("window_days", "?")), *text.signal_lines(signals)[:2]]
    if p.get("treatment_given"):
        card.found.append(text.section("treatment-given", treatment_given=str(p["treatment_given"]).capitalize()))
    if p.get("paediatric"):
        card.found.append(text.section("paediatric", age=text.age_text() or "unknown"))
    card.missing = [escape(m) for m in f.missing]
    setting = "outpatient" if p.get("setting") == "outpatient" else "inpatient"
    card.now = [text.item_line_kb(item, card) for item in text.template.lists[setting]]
    if p.get("neuro_tool"):
        card.now.append(text.section("neuro", tool=p["neuro_tool"]))
        card.cite([text.kb.short_source("santomasso-2021")])
    card.consider = _consider(text, card)
    card.cite([text.kb.short_source("lee-2019-astct")])
    return summary, card.markdown(_headings(text))


# ---------------------------------------------------------------- monitoring gap


def monitoring_gap(text: CardText) -> tuple[str, str]:
    """The gap card: the real gap ("no temperature for 30 h, since 10:10 UTC") and what to do."""
    p = text.params
    gaps = _merged_gaps(p.get("gaps") or [])
    gap_text = "; ".join(_gap_text(text, g) for g in gaps) or "vital signs missing"
    texts = [_gap_text(text, g) for g in gaps]
    candidates = [gap_text, f"{texts[0]} and more"] if len(texts) > 1 else [gap_text]
    summary = text.summary("gap", {}, "gap_text", [c[:1].upper() + c[1:] for c in candidates])
    card = Bedside()
    card.found = [escape(gap_text[:1].upper() + gap_text[1:]) + "."]
    reason = p.get("reason") or {}
    if reason.get("kind") == "inpatient":
        card.found.append(text.section("expected-inpatient"))
    elif reason.get("kind") == "period":
        until = text.when(reason.get("until")) if reason.get("until") else ""
        card.found.append(text.section("expected-period", what=reason.get("what"), drug=reason.get("drug_name"),
                                       until=until))
    card.now = [text.item_line_kb(item, card) for item in text.template.lists["local-items"]]
    return summary, card.markdown(_headings(text))


def _merged_gaps(gaps: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Gaps with the same last time and state said once: "no temperature or blood pressure for 14 h"."""
    merged: dict[tuple[object, object, object], dict[str, Any]] = {}
    for gap in gaps:
        key = (gap.get("last"), gap.get("hours"), gap.get("unusable"))
        if key in merged:
            merged[key]["concepts"].append(gap.get("concept"))
        else:
            merged[key] = {**gap, "concepts": [gap.get("concept")]}
    return list(merged.values())


def _gap_text(text: CardText, gap: Mapping[str, Any]) -> str:
    concept = " or ".join(text.concept(c) for c in gap.get("concepts") or [gap.get("concept")])
    if gap.get("unusable"):
        return fill(text.template.sections["unusable"], {"concept": concept})
    if gap.get("last") is None:
        return fill(text.template.sections["never"], {"concept": concept})
    return fill(text.template.sections["since"], {"concept": concept, "hours": gap.get("hours"),
                                                   "since": text.when(gap["last"])})


# ---------------------------------------------------------------- data gap


def data_gap(text: CardText) -> tuple[str, str]:
    """The info card saying which data could not be read (descriptions come from the FHIR layer)."""
    p = text.params
    signs = list(p.get("signs") or [])
    if signs:
        summary = text.summary("signs", {"signs_text": _and_join(signs)}, "unused", [""])
    else:
        summary = text.summary("unreadable", {}, "unused", [""])
    blocks = [
        text.section("intro"),
        text.list_block("items", [escape(item) for item in p.get("items") or []], escaped=True),
    ]
    return summary, join_blocks(blocks)


def _and_join(names: list[str]) -> str:
    """ "Fever", "Fever and hypotension", "Fever, hypotension and hypoxia" (capitalised: it opens the summary)."""
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return text[:1].upper() + text[1:]
