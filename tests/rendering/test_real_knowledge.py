"""The renderer with the product's knowledge base (cards/): every catalogue drug, worst-case parameters.

The other renderer tests use a small test knowledge base; this one checks the real catalogue's names, label
facts and premedication against the summary limit, the finding contract and FHIR R4.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import rendering_cases as cases
from contract import assert_finding_contract
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.domain.findings import DrugRef, Finding, SuggestedOrder, Suggestion
from cds_service.knowledge.loader import KnowledgeBase, load_knowledge
from cds_service.rendering.renderer import CardRenderer
from cds_service.rendering.templates import TemplateSet
from cds_service.settings import Settings
from tests.rendering.conftest import RENDER_NOW, sequential_uuids

CARDS_DIR = Path(__file__).resolve().parents[2] / "cards"
MODELS = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(CARDS_DIR)


@pytest.fixture(scope="module")
def real_renderer(kb: KnowledgeBase, templates: TemplateSet) -> CardRenderer:
    settings = Settings(
        environment="development", auth_mode="disabled", smart_app_url="https://apps.example.org/x"
    )
    return CardRenderer(templates, settings, kb, uuid_factory=sequential_uuids(), clock=lambda: RENDER_NOW)


def _findings_for(drug: Any, kb: KnowledgeBase) -> list[Finding]:
    ref = DrugRef(drug.id, drug.generic_name, drug.drug_class, drug.risk_tier)
    others = [d.generic_name for d in kb.drugs.values() if d.id != drug.id][:4]
    window = {"drug_name": drug.generic_name, "other_drugs": others, "days_since_exposure": 365}
    premeds = [p.label for p in drug.premedication]
    orders = tuple(
        SuggestedOrder("MedicationRequest", p.label, p.system, p.code, p.display, p.dose_text)
        for p in drug.premedication
    ) + tuple(
        SuggestedOrder(b.resource_type, b.label, b.system, b.code, b.display) for b in kb.baseline_monitoring
    )
    return [
        replace(cases.active_crs(4, minimum=True, **window), drug=ref, days_since_exposure=365),
        replace(cases.active_crs(None, fever=None, **window), drug=ref, days_since_exposure=365),
        replace(
            cases.order_risk(
                ref, tier=drug.risk_tier, boxed_warning=drug.boxed_warning_crs, already_exposed_days=365
            )
        ),
        replace(
            cases.order_missing(
                drug_name=drug.generic_name,
                missing_premedication=premeds,
                missing_baseline=[b.label for b in kb.baseline_monitoring],
            ),
            drug=ref,
            suggestions=(Suggestion("Add the missing orders", orders),),
        ),
        replace(
            cases.pre_infusion_risk(
                drug_name=drug.generic_name, easix=None, missing_labs=["ldh", "creatinine", "platelets"]
            ),
            drug=ref,
        ),
        replace(cases.monitoring_gap(drug_name=drug.generic_name, hours=168), drug=ref),
    ]


def test_every_catalogue_drug_renders_within_the_limits_and_the_contract(
    real_renderer: CardRenderer, kb: KnowledgeBase
) -> None:
    checked = 0
    for drug in kb.drugs.values():
        for finding in _findings_for(drug, kb):
            for card in real_renderer.render([finding], patient_id="pat-1"):
                body = card.model_dump(mode="json")
                assert len(card.summary) < 140, card.summary
                assert_finding_contract(body)
                for suggestion in body.get("suggestions", []):
                    for action in suggestion["actions"]:
                        MODELS[action["resource"]["resourceType"]].model_validate(action["resource"])
                checked += 1
    assert checked >= 6 * len(kb.drugs)


def test_label_anchored_monitoring_of_a_real_drug_cites_its_label(
    real_renderer: CardRenderer, kb: KnowledgeBase
) -> None:
    drug = kb.drugs["teclistamab"]
    ref = DrugRef(drug.id, drug.generic_name, drug.drug_class, drug.risk_tier)
    (card,) = real_renderer.render([cases.order_risk(ref, boxed_neurotoxicity=True)], patient_id="p")
    assert card.summary == (
        "Teclistamab: boxed warning for CRS and neurotoxicity — premedication and 48 h hospitalisation after "
        "step-up doses"
    )
    detail = card.detail or ""
    assert "- Hospitalise for 48 hours after every dose of the step-up schedule.\n" in detail
    assert detail.endswith("Sources: FDA label; Tecvayli label.")
