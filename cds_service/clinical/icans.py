"""ICANS grading (ASTCT 2019, Lee 2019) over the recent window, one small function per domain, honest about
missing assessments.

    grade = the worst domain:
      ICE score (age 12 and over)   7-9: 1   3-6: 2   0-2: 3           (cards/icans.yaml grading.ice_bands)
      CAPD (under 12)               9 or more: 3 (below 9 gives no grade of its own: ASCO 2021)
      level of consciousness        awakens spontaneously 1, to voice 2, only to touch 3, unarousable 4
      seizure                       any clinical or EEG seizure 3; prolonged or repetitive 4
      motor findings                deep focal motor weakness 4
      raised ICP / cerebral oedema  focal oedema 3; diffuse oedema, posturing, CN VI palsy, papilloedema 4

    minimum: no ICE (or CAPD under 12) in the window; or an ICE of 0-2 without a level of consciousness
             (ICE 0 is grade 4 when the patient is unarousable)
    GCS never grades (ASTCT does not use it): a GCS below 15 asks for an ICE or CAPD.

Assessments count inside the grading window; events (seizure, weakness, oedema) within the knowledge base's
event look-back, since the exposure. A documented ICANS diagnosis (ICD-10-CM G92.0x) is shown with its grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cds_service.clinical.windows import (
    clock,
    in_window_series,
    measurement_evidence,
    onset_since,
    series,
    value_text,
)
from cds_service.domain.age import years_at
from cds_service.domain.facts import DiagnosisFact, Facts, Measurement, NeuroSign
from cds_service.domain.findings import Evidence
from cds_service.knowledge.neuro import GradingSpec

DOMAIN_NAMES = {
    "ice": "ICE score",
    "capd": "CAPD",
    "consciousness": "level of consciousness",
    "seizure": "seizure",
    "motor": "motor findings",
    "oedema": "raised intracranial pressure / cerebral oedema",
}


@dataclass(frozen=True, slots=True)
class Domain:
    """One graded ASTCT domain: its grade (0: recorded, no ICANS sign) and how it was read."""

    name: str  # a key of DOMAIN_NAMES
    grade: int
    step: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class IcansGrading:
    grade: int | None  # None: no domain shows ICANS
    is_minimum: bool
    tool: str  # "ICE" (age 12 and over, or age unknown) or "CAPD" (under 12)
    domains: tuple[Domain, ...]
    missing: tuple[str, ...]
    steps: tuple[str, ...]
    low_gcs: Measurement | None  # a GCS below 15 in the window: an assessment is due
    seizure: bool  # a seizure is recorded (the card is critical whatever the grade)
    documented: DiagnosisFact | None
    last_assessment: datetime | None  # the latest ICE or CAPD, whatever its age

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """Each domain's evidence, then the low GCS."""
        return (*(d.evidence for d in self.domains), *_gcs_evidence(self.low_gcs))

    @property
    def found(self) -> bool:
        """Whether anything neurological needs a card: a graded domain, a documented ICANS or a low GCS."""
        return bool(self.grade) or self.documented is not None or self.low_gcs is not None


def grade_icans(facts: Facts, spec: GradingSpec, *, window_start: datetime, since_exposure: datetime,
                hours: int) -> IcansGrading:
    """ICANS at `facts.now`: assessments since `window_start`, events since the exposure within the look-back."""
    years = years_at(facts.birth_date, facts.now)
    tool = assessment_tool(years, spec)
    events_from = max(since_exposure, facts.now - timedelta(hours=spec.event_lookback_hours))
    score = _score_domain(facts, spec, tool, window_start)
    consciousness = _consciousness_domain(facts, window_start)
    events = [_event_domain(facts, name, events_from) for name in ("seizure", "motor", "oedema")]
    domains = tuple(d for d in (score, consciousness, *events) if d is not None)
    missing = _missing(tool, score, consciousness, hours, years)
    grade = _worst_grade(domains)
    is_minimum = _is_minimum(grade, missing)
    low_gcs = _low_gcs(facts, spec, window_start)
    return IcansGrading(
        grade=grade,
        is_minimum=is_minimum,
        tool=tool,
        domains=domains,
        missing=missing,
        steps=_steps(facts.now, domains, low_gcs, grade, is_minimum, missing),
        low_gcs=low_gcs,
        seizure=_seizure(domains),
        documented=_documented(facts, since_exposure),
        last_assessment=_last_assessment(facts, tool),
    )


def assessment_tool(years: int | None, spec: GradingSpec) -> str:
    """CAPD under the ICE age (12 years), else ICE (an unknown age too, as for an adult)."""
    if years is not None and years < spec.ice_from_age_years:
        return "CAPD"
    return "ICE"


def _worst_grade(domains: tuple[Domain, ...]) -> int | None:
    """The worst domain sets the grade; None when no domain shows ICANS."""
    return max((d.grade for d in domains), default=0) or None


def _is_minimum(grade: int | None, missing: tuple[str, ...]) -> bool:
    """A grade below 4 with an assessment missing is only a minimum."""
    if grade is None or grade >= 4:
        return False
    return bool(missing)


def _seizure(domains: tuple[Domain, ...]) -> bool:
    return any(d.name == "seizure" and d.grade for d in domains)


def _steps(
    now: datetime,
    domains: tuple[Domain, ...],
    low_gcs: Measurement | None,
    grade: int | None,
    is_minimum: bool,
    missing: tuple[str, ...],
) -> tuple[str, ...]:
    """One step per domain, the low GCS, then the conclusion when there is a grade."""
    steps = [d.step for d in domains]
    if low_gcs is not None:
        steps.append(f"GCS {value_text(low_gcs.value)} at {clock(low_gcs.effective, now)}.")
    if grade is not None:
        steps.append(_conclusion(grade, domains, is_minimum, missing))
    return tuple(steps)


def ice_domain(m: Measurement, spec: GradingSpec, now: datetime) -> Domain:
    """ICE 10: no sign; 7-9: grade 1; 3-6: 2; 0-2: 3 (ASTCT 2019)."""
    grade = spec.ice_grade(m.value)
    step = f"ICE {value_text(m.value)}/10 at {clock(m.effective, now)}: {_ice_verdict(grade)}"
    return Domain("ice", grade, step, measurement_evidence("ICE score", m))


def _ice_verdict(grade: int) -> str:
    if grade:
        return f"grade {grade}."
    return "no encephalopathy by ICE."


def capd_domain(m: Measurement, spec: GradingSpec, now: datetime) -> Domain:
    """CAPD 9 or more: grade 3 (ASCO 2021); below 9: no grade of its own."""
    if m.value >= spec.capd_grade_3_from:
        grade, verdict = 3, "delirium, grade 3."
    else:
        grade, verdict = 0, f"below {spec.capd_grade_3_from}: no grade from CAPD alone."
    step = f"CAPD {value_text(m.value)} at {clock(m.effective, now)}: {verdict}"
    return Domain("capd", grade, step, measurement_evidence("CAPD score", m))


def _score_concept(tool: str) -> str:
    """The measurement concept of the assessment tool."""
    if tool == "CAPD":
        return "capd"
    return "ice_score"


def _score_domain(facts: Facts, spec: GradingSpec, tool: str, start: datetime) -> Domain | None:
    """The latest ICE (or CAPD) in the window, graded."""
    recent = in_window_series(facts, _score_concept(tool), start)
    if not recent:
        return None
    if tool == "CAPD":
        return capd_domain(recent[-1], spec, facts.now)
    return ice_domain(recent[-1], spec, facts.now)


def _consciousness_domain(facts: Facts, start: datetime) -> Domain | None:
    recorded = [n for n in facts.neuro if n.domain == "consciousness" and _within(n, start, facts.now)]
    if not recorded:
        return None
    latest = recorded[-1]
    step = f"Level of consciousness {latest.label} at {clock(latest.effective, facts.now)}: {_lesser(latest.grade)}."
    return Domain("consciousness", latest.grade, step, _sign_evidence("Level of consciousness", latest))


def _event_domain(facts: Facts, name: str, start: datetime) -> Domain | None:
    """The most severe event of one domain since `start` (seizure, motor, oedema)."""
    found = [n for n in facts.neuro if n.domain == name and _within(n, start, facts.now)]
    if not found:
        return None
    worst = max(found, key=lambda n: _severest(n, facts.now))
    step = f"{worst.label.capitalize()} recorded at {clock(worst.effective, facts.now)}: grade {worst.grade}."
    return Domain(name, worst.grade, step, _sign_evidence(worst.label.capitalize(), worst))


def _lesser(grade: int) -> str:
    if grade:
        return f"grade {grade}"
    return "no depressed consciousness"


def _severest(sign: NeuroSign, now: datetime) -> tuple[int, datetime]:
    """Highest grade first; ties: the latest (no time: now)."""
    return (sign.grade, sign.effective or now)


def _missing(tool: str, score: Domain | None, consciousness: Domain | None, hours: int,
             years: int | None) -> tuple[str, ...]:
    """What would make the grade exact: the assessment, the level of consciousness beside an ICE 0-2, the age."""
    missing: list[str] = []
    if score is None:
        missing.append(f"{tool} score in the last {hours} h")
    elif _consciousness_decides(score, consciousness):
        missing.append("level of consciousness (with ICE 0-2, unarousable is grade 4)")
    if years is None:
        missing.append("age (no birth date: ICE used, as for an adult)")
    return tuple(missing)


def _consciousness_decides(score: Domain, consciousness: Domain | None) -> bool:
    """An ICE of 0-2 (grade 3) without a level of consciousness: unarousable would make it grade 4."""
    return score.name == "ice" and score.grade >= 3 and consciousness is None


def _conclusion(grade: int, domains: tuple[Domain, ...], minimum: bool, missing: tuple[str, ...]) -> str:
    worst = [DOMAIN_NAMES[d.name] for d in domains if d.grade == grade]
    text = f"ICANS grade {grade} from the {' and '.join(worst)} (the worst domain sets the grade)"
    if minimum:
        return text + "; at least this grade, as an assessment is not recorded."
    return text + "."


def _low_gcs(facts: Facts, spec: GradingSpec, start: datetime) -> Measurement | None:
    """The latest GCS in the window when it is below the prompt threshold (15)."""
    recent = in_window_series(facts, "gcs", start)
    if recent and recent[-1].value < spec.gcs_prompt_below:
        return recent[-1]
    return None


def _gcs_evidence(low_gcs: Measurement | None) -> tuple[Evidence, ...]:
    if low_gcs is None:
        return ()
    return (measurement_evidence("Glasgow Coma Scale", low_gcs),)


def _documented(facts: Facts, since: datetime) -> DiagnosisFact | None:
    found = [d for d in facts.diagnoses if d.concept == "icans" and onset_since(d.onset, since, facts.now)]
    return max(found, key=lambda d: _diagnosis_order(d, facts.now), default=None)


def _diagnosis_order(d: DiagnosisFact, now: datetime) -> tuple[datetime, int, str]:
    """Latest onset (none recorded: now), then highest grade, then code."""
    return (d.onset or now, d.grade or 0, d.code)


def _last_assessment(facts: Facts, tool: str) -> datetime | None:
    scores = series(facts, _score_concept(tool))
    if not scores:
        return None
    return scores[-1].effective


def _within(sign: NeuroSign, start: datetime, now: datetime) -> bool:
    return sign.effective is not None and start <= sign.effective <= now


def _sign_evidence(label: str, sign: NeuroSign) -> Evidence:
    return Evidence(label, sign.reference, None, sign.matched, None, sign.effective)
