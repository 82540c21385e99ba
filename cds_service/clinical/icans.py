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

from cds_service.clinical.windows import clock, measurement_evidence, series, value_text
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
        extra = () if self.low_gcs is None else (measurement_evidence("Glasgow Coma Scale", self.low_gcs),)
        return (*(d.evidence for d in self.domains), *extra)

    @property
    def found(self) -> bool:
        """Whether anything neurological needs a card: a graded domain, a documented ICANS or a low GCS."""
        return bool(self.grade) or self.documented is not None or self.low_gcs is not None


def grade_icans(facts: Facts, spec: GradingSpec, *, window_start: datetime, since_exposure: datetime,
                hours: int) -> IcansGrading:
    """ICANS at `facts.now`: assessments since `window_start`, events since the exposure within the look-back."""
    years = years_at(facts.birth_date, facts.now)
    tool = "CAPD" if years is not None and years < spec.ice_from_age_years else "ICE"
    events_from = max(since_exposure, facts.now - timedelta(hours=spec.event_lookback_hours))
    score = _score_domain(facts, spec, tool, window_start)
    consciousness = _consciousness_domain(facts, window_start)
    events = [_event_domain(facts, name, events_from) for name in ("seizure", "motor", "oedema")]
    domains = tuple(d for d in (score, consciousness, *events) if d is not None)
    graded = max((d.grade for d in domains), default=0)
    missing = _missing(tool, score, consciousness, hours, years)
    grade = graded or None
    is_minimum = grade is not None and grade < 4 and bool(missing)
    documented = _documented(facts, since_exposure)
    low_gcs = _low_gcs(facts, spec, window_start)
    steps = [d.step for d in domains]
    if low_gcs is not None:
        steps.append(f"GCS {value_text(low_gcs.value)} at {clock(low_gcs.effective, facts.now)}.")
    if grade is not None:
        steps.append(_conclusion(grade, domains, is_minimum, missing))
    return IcansGrading(
        grade=grade,
        is_minimum=is_minimum,
        tool=tool,
        domains=domains,
        missing=missing,
        steps=tuple(steps),
        low_gcs=low_gcs,
        seizure=any(d.name == "seizure" and d.grade for d in domains),
        documented=documented,
        last_assessment=_last_assessment(facts, tool),
    )


def ice_domain(m: Measurement, spec: GradingSpec, now: datetime) -> Domain:
    """ICE 10: no sign; 7-9: grade 1; 3-6: 2; 0-2: 3 (ASTCT 2019)."""
    grade = spec.ice_grade(m.value)
    step = f"ICE {value_text(m.value)}/10 at {clock(m.effective, now)}: " + (
        f"grade {grade}." if grade else "no encephalopathy by ICE."
    )
    return Domain("ice", grade, step, measurement_evidence("ICE score", m))


def capd_domain(m: Measurement, spec: GradingSpec, now: datetime) -> Domain:
    """CAPD 9 or more: grade 3 (ASCO 2021); below 9: no grade of its own."""
    grade = 3 if m.value >= spec.capd_grade_3_from else 0
    verdict = "delirium, grade 3." if grade else f"below {spec.capd_grade_3_from}: no grade from CAPD alone."
    step = f"CAPD {value_text(m.value)} at {clock(m.effective, now)}: {verdict}"
    return Domain("capd", grade, step, measurement_evidence("CAPD score", m))


def _score_domain(facts: Facts, spec: GradingSpec, tool: str, start: datetime) -> Domain | None:
    concept = "capd" if tool == "CAPD" else "ice_score"
    recent = [m for m in series(facts, concept) if start <= m.effective <= facts.now]
    if not recent:
        return None
    latest = recent[-1]
    return capd_domain(latest, spec, facts.now) if tool == "CAPD" else ice_domain(latest, spec, facts.now)


def _consciousness_domain(facts: Facts, start: datetime) -> Domain | None:
    recorded = [n for n in facts.neuro if n.domain == "consciousness" and _within(n, start, facts.now)]
    if not recorded:
        return None
    latest = recorded[-1]
    grade_text = f"grade {latest.grade}" if latest.grade else "no depressed consciousness"
    step = f"Level of consciousness {latest.label} at {clock(latest.effective, facts.now)}: {grade_text}."
    return Domain("consciousness", latest.grade, step, _sign_evidence("Level of consciousness", latest))


def _event_domain(facts: Facts, name: str, start: datetime) -> Domain | None:
    """The most severe event of one domain since `start` (seizure, motor, oedema)."""
    found = [n for n in facts.neuro if n.domain == name and _within(n, start, facts.now)]
    if not found:
        return None
    worst = max(found, key=lambda n: (n.grade, n.effective or facts.now))
    step = f"{worst.label.capitalize()} recorded at {clock(worst.effective, facts.now)}: grade {worst.grade}."
    return Domain(name, worst.grade, step, _sign_evidence(worst.label.capitalize(), worst))


def _missing(tool: str, score: Domain | None, consciousness: Domain | None, hours: int,
             years: int | None) -> tuple[str, ...]:
    missing: list[str] = []
    if score is None:
        missing.append(f"{tool} score in the last {hours} h")
    elif score.name == "ice" and score.grade >= 3 and consciousness is None:
        missing.append("level of consciousness (with ICE 0-2, unarousable is grade 4)")
    if years is None:
        missing.append("age (no birth date: ICE used, as for an adult)")
    return tuple(missing)


def _conclusion(grade: int, domains: tuple[Domain, ...], minimum: bool, missing: tuple[str, ...]) -> str:
    worst = [DOMAIN_NAMES[d.name] for d in domains if d.grade == grade]
    text = f"ICANS grade {grade} from the {' and '.join(worst)} (the worst domain sets the grade)"
    return text + ("; at least this grade, as an assessment is not recorded." if minimum else ".")


def _low_gcs(facts: Facts, spec: GradingSpec, start: datetime) -> Measurement | None:
    recent = [m for m in series(facts, "gcs") if start <= m.effective <= facts.now]
    return recent[-1] if recent and recent[-1].value < spec.gcs_prompt_below else None


def _documented(facts: Facts, since: datetime) -> DiagnosisFact | None:
    found = [d for d in facts.diagnoses if d.concept == "icans" and (d.onset is None or since <= d.onset <= facts.now)]
    return max(found, key=lambda d: (d.onset or facts.now, d.grade or 0, d.code)) if found else None


def _last_assessment(facts: Facts, tool: str) -> datetime | None:
    scores = series(facts, "capd" if tool == "CAPD" else "ice_score")
    return scores[-1].effective if scores else None


def _within(sign: NeuroSign, start: datetime, now: datetime) -> bool:
    return sign.effective is not None and start <= sign.effective <= now


def _sign_evidence(label: str, sign: NeuroSign) -> Evidence:
    return Evidence(label, sign.reference, None, sign.matched, None, sign.effective)
