"""A small test-only knowledge base with the documented API (docs/ARCHITECTURE.md), built from the real
schema models.

Keeps the renderer tests stable when the clinical content under cards/ changes. The entries are realistic but
abridged; they are not the product's knowledge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cds_service.knowledge.schema import BaselineItem, Drug, Fact, Premedication

LONGEST_TEST_NAME = "anti-thymocyte globulin (rabbit) lymphocyte immune globulin xx"  # 62 characters


def _drug(drug_id: str, name: str, **overrides: object) -> Drug:
    values: dict[str, object] = {
        "id": drug_id,
        "generic_name": name,
        "drug_class": "car-t",
        "drug_class_label": "CAR-T cell therapy",
        "risk_tier": "high",
        "risk_reason": "Living T-cell product; the US label carries a CRS boxed warning.",
        "risk_source": "test-label",
        "boxed_warning_crs": True,
        "boxed_warning_source": "test-label",
        "typical_onset": "median 2 days (range 1-12)",
        "typical_onset_source": "test-label",
        "exposure_window_days": 28,
        "exposure_window_rationale": "test",
        "exposure_window_source": "test-label",
        "label_url": f"https://labels.example.org/{drug_id}",
    }
    values.update(overrides)
    return Drug.model_validate(values)


def _premed(premed_id: str, label: str, dose: str) -> Premedication:
    return Premedication(
        id=premed_id,
        label=label,
        display=label.capitalize(),
        dose_text=dose,
        timing="1-3 h before each step-up dose",
        source="tecvayli-label",
    )


DRUGS: dict[str, Drug] = {
    "axicabtagene-ciloleucel": _drug(
        "axicabtagene-ciloleucel",
        "axicabtagene ciloleucel",
        monitoring=(
            Fact(
                text="Monitor daily for signs of CRS for at least 7 days after infusion",
                source="yescarta-label",
                label_anchored=True,
            ),
            Fact(text="Stay within 2 hours of the treating centre for 2 weeks", source="local-protocol"),
        ),
        tocilizumab_availability=Fact(
            text="Tocilizumab available before infusion", source="yescarta-label", label_anchored=True
        ),
    ),
    "tisagenlecleucel": _drug("tisagenlecleucel", "tisagenlecleucel", label_url=None),
    "teclistamab": _drug(
        "teclistamab",
        "teclistamab",
        drug_class="bispecific-t-cell-engager",
        drug_class_label="bispecific T-cell engager",
        monitoring=(
            Fact(
                text="Hospitalise for 48 h after each step-up dose",
                source="tecvayli-label",
                label_anchored=True,
            ),
        ),
        premedication=(
            _premed("tec-dex", "dexamethasone", "16 mg PO or IV"),
            _premed("tec-h1", "diphenhydramine", "50 mg PO or IV"),
            _premed("tec-apap", "acetaminophen", "650-1000 mg PO"),
        ),
    ),
    "blinatumomab": _drug(
        "blinatumomab", "blinatumomab", drug_class="bispecific-t-cell-engager", drug_class_label="BiTE"
    ),
    "tarlatamab": _drug(
        "tarlatamab",
        "tarlatamab",
        drug_class="bispecific-t-cell-engager",
        drug_class_label="bispecific T-cell engager",
    ),
    "rituximab": _drug(
        "rituximab",
        "rituximab",
        drug_class="anti-cd20",
        drug_class_label="anti-CD20 antibody",
        risk_tier="moderate",
        boxed_warning_crs=False,
        risk_reason="Infusion reactions and CRS mostly with the first infusion.",
        typical_onset="during or within 24 h of the first infusion",
    ),
    "nivolumab": _drug(
        "nivolumab",
        "nivolumab",
        drug_class="checkpoint-inhibitor",
        drug_class_label="PD-1 inhibitor",
        risk_tier="low",
        boxed_warning_crs=False,
        risk_reason="Case reports only.",
        typical_onset="",
    ),
    "longest-name": _drug(
        "longest-name",
        LONGEST_TEST_NAME,
        drug_class="anti-thymocyte-globulin",
        drug_class_label="polyclonal antibody",
        risk_tier="moderate",
        boxed_warning_crs=False,
        premedication=(_premed("atg-steroid", "methylprednisolone", "per local protocol"),),
    ),
}

BASELINE: tuple[BaselineItem, ...] = (
    BaselineItem(
        id="crp",
        label="CRP",
        system="http://loinc.org",
        code="1988-5",
        display="C reactive protein",
        source="asco-2021",
    ),
    BaselineItem(id="cbc", label="Blood count with differential", display="CBC", source="local-protocol"),
    BaselineItem(
        id="ferritin",
        label="Ferritin",
        system="http://loinc.org",
        code="2276-4",
        display="Ferritin",
        source="asco-2021",
    ),
)

CITATIONS = {
    "tecvayli-label": "Tecvayli US prescribing information, section 2.4 (2024)",
    "yescarta-label": "Yescarta US prescribing information, section 2.3",
    "rems-2025": "FDA REMS removal for autologous CAR-T, June 2025",
    "asco-2021": "Santomasso BD et al. J Clin Oncol 2021;39:3978",
    "test-label": "Test label",
}


def _real_knowledge() -> Any:
    from tests.clinical.facts_kit import kb

    return kb()


@dataclass
class FakeKnowledge:
    """The slice of KnowledgeBase the renderer reads."""

    drugs: Mapping[str, Drug] = field(default_factory=lambda: dict(DRUGS))
    baseline_monitoring: tuple[BaselineItem, ...] = BASELINE
    version: str = "test-1"

    def citation(self, source_id: str) -> str:
        return CITATIONS.get(source_id, source_id)

    def short_source(self, source_id: str) -> str:
        return _real_knowledge().short_source(source_id)

    @property
    def sources(self) -> Any:
        return _real_knowledge().sources

    @property
    def dosing(self) -> Any:
        from tests.clinical.rules_kit import DOSING

        return DOSING

    @property
    def neuro(self) -> Any:
        from tests.clinical.rules_kit import NEURO

        return NEURO
