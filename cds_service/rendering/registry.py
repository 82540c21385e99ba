"""What each card template may say: the parameters its rule supplies (docs/FINDINGS.md) and what the
renderer adds.

This module mirrors the findings contract. When a rule gains a parameter, add it here and to docs/FINDINGS.md;
`load_templates` then accepts templates that use it. Derived names are computed by the renderer from the
params
(for example `drugs`, the drug list shortened to fit the summary).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One card template's contract: its rule, the names it may use, the variants the renderer picks."""

    rule_id: str
    params: frozenset[str]  # supplied by the rule (docs/FINDINGS.md)
    derived: frozenset[str]  # computed by the renderer
    summaries: frozenset[str]  # summary variants the renderer chooses between
    sections: frozenset[str]  # detail paragraphs the renderer uses
    lists: frozenset[str] = frozenset()  # item lists (guidance) the renderer uses

    @property
    def available(self) -> frozenset[str]:
        """Every placeholder name a template of this kind may declare."""
        return self.params | self.derived


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


_CRS_STATUS_COMMON = _f(
    "drug_name",
    "drug_id",
    "drug_class",
    "other_drugs",
    "days_since_exposure",
    "signals",
    "differential",
    "context",
    "paediatric",
    "age_years",
    "weight_kg",
    "bsa_m2",
    "birth_date_precision",
    "icans_found",
    "neuro_tool",
    "neuro_due",
    "icans_open",
)
_DAY_DERIVED = _f("drugs", "days_after", "on_day", "age")

#: The placeholders of the tocilizumab lines of the active-CRS card (cards/dosing.yaml and the rule's plan).
TOCILIZUMAB_WORDS = (
    "dose", "mg_per_kg", "weight", "interval", "max_24h", "max_total", "adult_mg_per_kg", "under_mg_per_kg",
    "under_kg", "max_mg", "label_age", "given_24h", "given_total", "next_at",
)

TEMPLATE_SPECS: dict[str, TemplateSpec] = {
    "active-crs": TemplateSpec(
        rule_id="crs.active",
        params=_CRS_STATUS_COMMON
        | _f(
            "status",
            "documented_grade",
            "grade",
            "grade_is_minimum",
            "fever",
            "max_temperature_c",
            "fever_waived",
            "hypotension",
            "min_systolic",
            "hypotension_threshold",
            "vasopressor_count",
            "vasopressin",
            "hypoxia",
            "o2_device",
            "o2_flow_l_min",
            "grading_steps",
            "cannot_exclude",
            "tocilizumab",
            "infection_workup",
            "confirm_hypotension",
        ),
        derived=_DAY_DERIVED | _f("signs", "action", "tool", "value", "threshold", *TOCILIZUMAB_WORDS),
        summaries=_f(
            "possible",
            "possible-minimum",
            "documented",
            "documented-minimum",
            "documented-ungraded",
            "documented-conflict",
            "documented-conflict-minimum",
            "documented-conflict-ungraded",
            "no-fever",
            "no-temperature",
            "ungraded",
        ),
        sections=_f(
            "found", "grade", "missing", "now", "consider", "fever-waived", "grade-conflict", "paediatric", "neuro",
            "neuro-icans", "confirm", "toci-offer", "toci-no-weight", "toci-under-label-age", "toci-limit-24h",
            "toci-limit-total", "toci-too-soon",
        ),
    ),
    "monitoring-window": TemplateSpec(
        rule_id="crs.monitoring-window",
        params=_CRS_STATUS_COMMON
        | _f("day_of_window", "window_days", "treatment_given", "cannot_exclude", "setting", "vital_signs_unread",
             "unmeasured"),
        derived=_DAY_DERIVED | _f("warning_signs", "cannot_exclude_text", "tool"),
        summaries=_f("quiet", "quiet-neuro", "warning", "unexcluded", "unread", "unread-neuro", "icans-open",
                     "unmeasured"),
        sections=_f(
            "found", "missing", "now", "consider", "quiet", "incomplete", "paediatric", "treatment-given", "neuro"
        ),
        lists=_f("inpatient", "outpatient"),
    ),
    "monitoring-gap": TemplateSpec(
        rule_id="crs.monitoring-gap",
        params=_f("drug_name", "hours", "missing", "last_seen", "unusable", "gaps", "reason"),
        derived=_f("drugs", "gap_text", "concept", "since", "what", "drug", "until"),
        summaries=_f("gap"),
        sections=_f("found", "now", "never", "since", "unusable", "expected-inpatient", "expected-period"),
        lists=_f("local-items"),
    ),
    "active-icans": TemplateSpec(
        rule_id="icans.active",
        params=_f(
            "drug_name",
            "drug_class",
            "grade",
            "grade_is_minimum",
            "tool",
            "domains",
            "grading_steps",
            "seizure",
            "with_crs",
            "low_gcs",
            "low_gcs_at",
            "documented_grade",
            "documented",
            "next_assessment_due",
            "age_years",
            "weight_kg",
        ),
        derived=_f("drugs", "days_after", "gcs", "action"),
        summaries=_f("graded", "graded-minimum", "seizure", "documented", "documented-ungraded", "gcs"),
        sections=_f(
            "found",
            "grade",
            "now",
            "consider",
            "missing",
            "documented",
            "gcs",
            "consciousness-cause",
            "action-1",
            "action-2",
            "action-3",
            "action-4",
            "action-ungraded",
        ),
    ),
    "data-gap": TemplateSpec(
        rule_id="data.unreadable",
        params=_f("items", "signs"),
        derived=_f("signs_text"),
        summaries=_f("unreadable", "signs"),
        sections=_f("intro"),
    ),
    "order-risk": TemplateSpec(
        rule_id="order.risk",
        params=_f(
            "drug_name",
            "tier",
            "boxed_warning",
            "boxed_neurotoxicity",
            "already_exposed_days",
            "premedication",
            "missing_premedication",
            "missing_baseline",
            "baseline_results",
            "paediatric",
            "bsa_m2",
            "weight_kg",
        ),
        derived=_f(
            "drugs", "requirements", "risk_reason", "typical_onset", "missing_text", "results_text", "timing", "doses"
        ),
        summaries=_f("high-boxed-neuro", "high-boxed", "high", "moderate", "low"),
        sections=_f(
            "found", "now", "boxed-neuro", "boxed", "risk", "already-exposed", "missing", "results", "premedicate",
            "requirements-missing", "requirements-premedication-monitoring", "requirements-premedication",
            "requirements-monitoring", "requirements-none",
        ),
    ),
    "pre-infusion-risk": TemplateSpec(
        rule_id="order.pre-infusion-risk",
        params=_f("drug_name", "easix", "m_easix", "reference_cutoff", "labs", "missing_labs"),
        derived=_f("drugs", "easix_text", "m_easix_text", "missing_labs_text", "labs_text"),
        summaries=_f("computed", "not-computable"),
        sections=_f(
            "found", "missing", "labs", "easix", "m-easix", "above-cutoff", "below-cutoff", "not-computable", "caveat"
        ),
    ),
}

#: Signal ids and their values (docs/FINDINGS.md "Signals"); `effective` arrives as ISO text.
SIGNAL_PARAMS: dict[str, frozenset[str]] = {
    "tachycardia": _f("value", "threshold", "effective"),
    "tachypnoea": _f("value", "threshold", "effective"),
    "spo2-low-no-o2": _f("value", "threshold", "effective"),
    "crp-rising": _f("from", "to", "hours"),
    "ferritin-rising": _f("from", "to", "hours"),
    "ferritin-hlh": _f("value", "threshold", "effective"),
    "neutropenic-fever": _f("anc", "threshold", "effective"),
    "crp-suppressed": _f("treatment"),
}

#: Signals that raise a monitoring-window card to warning (docs/FINDINGS.md).
WARNING_SIGNALS: frozenset[str] = _f(
    "spo2-low-no-o2", "ferritin-hlh", "neutropenic-fever"
)

#: Differential ids a CRS-status finding may name.
DIFFERENTIAL_IDS: frozenset[str] = _f(
    "neutropenic-fever", "infection", "iec-hs", "blood-culture", "lactate", "neutrophils", "adrenal"
)
#: Context items that are values, said under "Found" (the others are what to consider).
FOUND_CONTEXT_IDS: frozenset[str] = _f("lactate", "neutrophils")

#: Section headings every detail may use (common.yaml `headings`).
HEADING_IDS: frozenset[str] = _f(
    "evidence",
    "grading",
    "missing",
    "signals",
    "differential",
    "monitoring",
    "sources",
    "last-seen",
    "labs",
    "items",
)

#: Placeholders of the shared phrases in common.yaml.
COMMON_PHRASE_PARAMS: dict[str, frozenset[str]] = {
    "repeat": _f("first_shown_at"),
    "repeat-held": _f("reason", "held_until"),
    "days-after-zero": frozenset(),
    "days-after-one": frozenset(),
    "days-after-many": _f("n"),
    "days-after-unknown": frozenset(),
    "on-day-zero": frozenset(),
    "on-day-many": _f("n"),
    "on-day-unknown": frozenset(),
    "and-others": _f("first", "count"),
    "count-items": _f("count"),
    "sign-hypotension": frozenset(),
    "sign-hypoxia": frozenset(),
    "sign-both": frozenset(),
    "warning-signs-many": _f("first", "more"),
    "per-local-protocol": _f("text"),
    "cited": _f("text", "source"),
    "cited-label": _f("text", "source"),
    "not-recorded": frozenset(),
    "none-in-window": frozenset(),
    "age-years": _f("years"),
    "partial-birth-date": _f("precision"),
    "yes": frozenset(),
    "no": frozenset(),
    "unknown": frozenset(),
}

#: Placeholders of links.yaml labels.
LINK_LABEL_PARAMS: dict[str, frozenset[str]] = {
    "astct": frozenset(),
    "drug-label": _f("drug_name"),
    "smart-app": frozenset(),
}

#: Reference ids the renderer itself cites (links.yaml `references` must define them).
REQUIRED_REFERENCES: frozenset[str] = _f("astct-2019", "asco-2021", "korell-2022")

#: The special source id meaning "the drug's label" (resolved per card from the knowledge base).
DRUG_LABEL_SOURCE = "drug-label"
