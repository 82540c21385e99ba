"""The CDS Hooks HTTP surface, through HTTP: discovery, invocation, feedback, errors, CORS, health."""

from __future__ import annotations

import json

from cds_service.cdshooks.models import CdsResponse, DiscoveryResponse
from cds_service.settings import Settings
from tests.conftest import load_json, make_client
from tests.contract import assert_finding_contract

ORDER_SIGN = "examples/order-sign-teclistamab.json"


def _is_outcome(response, *, code: str | None = None) -> dict:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["diagnostics"]
    if code:
        assert body["issue"][0]["code"] == code
    assert "Traceback" not in response.text
    return body


def test_discovery_lists_the_three_services_with_prefetch_and_usage(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    body = DiscoveryResponse.model_validate(response.json())
    assert {(s.id, s.hook) for s in body.services} == {
        ("crs-patient-view", "patient-view"),
        ("crs-order-select", "order-select"),
        ("crs-order-sign", "order-sign"),
    }
    for service in body.services:
        assert service.title and service.description and service.usageRequirements
        assert "sort:desc" not in json.dumps(service.prefetch)
        assert service.prefetch["patient"] == "Patient/{{context.patientId}}"
        assert "_sort=-date" in service.prefetch["vitalSigns"]


def test_hook_call_with_a_fixture_answers_cards_that_validate(client):
    response = client.post("/cds-services/crs-order-sign", json=load_json(ORDER_SIGN))
    assert response.status_code == 200
    body = CdsResponse.model_validate(response.json())
    assert body.cards, "a teclistamab order must produce at least one card"
    assert all(card.uuid for card in body.cards)
    for card in response.json()["cards"]:  # no nulls, except astctGrade in the finding contract (README)
        assert_finding_contract(card)
        outside_contract = {k: v for k, v in card.items() if k != "extension"}
        assert "null" not in json.dumps(outside_contract)


def test_malformed_json_is_400_with_an_operation_outcome(client):
    response = client.post(
        "/cds-services/crs-patient-view",
        content=b'{"hook": "patient-view",',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    _is_outcome(response, code="invalid")


def test_schema_violation_names_the_offending_field(client):
    request = load_json(ORDER_SIGN)
    del request["hookInstance"]
    response = client.post("/cds-services/crs-order-sign", json=request)
    assert response.status_code == 400
    body = _is_outcome(response)
    assert "hookInstance" in body["issue"][0]["expression"]


def test_hook_mismatch_is_400(client):
    response = client.post("/cds-services/crs-patient-view", json=load_json(ORDER_SIGN))
    assert response.status_code == 400
    assert "does not match" in _is_outcome(response)["issue"][0]["diagnostics"]


def test_order_hook_without_draft_orders_is_400_naming_the_field(client):
    request = load_json(ORDER_SIGN)
    del request["context"]["draftOrders"]
    response = client.post("/cds-services/crs-order-sign", json=request)
    assert response.status_code == 400
    assert _is_outcome(response)["issue"][0]["expression"] == ["context.draftOrders"]


def test_unknown_service_is_404(client):
    response = client.post("/cds-services/no-such-service", json=load_json(ORDER_SIGN))
    assert response.status_code == 404
    _is_outcome(response, code="not-found")


def test_unknown_path_is_404_with_an_operation_outcome(client):
    _is_outcome(client.get("/nothing-here"), code="not-found")


def test_oversized_body_is_413(tmp_path):
    settings = Settings(
        environment="development",
        auth_mode="disabled",
        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
        max_body_bytes=2048,
    )
    with make_client(settings) as client:
        request = load_json(ORDER_SIGN)
        request["extension"] = {"org.example.padding": "x" * 4096}
        response = client.post("/cds-services/crs-order-sign", json=request)
        assert response.status_code == 413
        _is_outcome(response, code="too-long")

        def chunks():
            yield b'{"hook": "order-sign", "pad": "'
            for _ in range(10):
                yield b"y" * 512
            yield b'"}'

        streamed = client.post("/cds-services/crs-order-sign", content=chunks())
        assert streamed.status_code == 413


def test_unknown_fields_and_extensions_are_tolerated(client):
    request = load_json(ORDER_SIGN)
    request["extension"] = {"com.example.flag": {"on": True}}
    request["somethingNew"] = {"a": 1}
    request["context"]["extension"] = {"com.example.ctx": 1}
    response = client.post("/cds-services/crs-order-sign", json=request)
    assert response.status_code == 200


def _feedback(card_uuid: str, suggestion: str = "s-1") -> dict:
    return {
        "feedback": [
            {
                "card": card_uuid,
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": suggestion}],
                "outcomeTimestamp": "2026-11-24T12:05:00Z",
            }
        ]
    }


def test_feedback_is_stored_once_and_survives_a_restart(settings):
    with make_client(settings) as client:
        cards = client.post("/cds-services/crs-order-sign", json=load_json(ORDER_SIGN)).json()["cards"]
        card_uuid = cards[0]["uuid"]
        first = client.post("/cds-services/crs-order-sign/feedback", json=_feedback(card_uuid))
        again = client.post("/cds-services/crs-order-sign/feedback", json=_feedback(card_uuid))
        assert first.status_code == 200 and first.json() == {"received": 1, "stored": 1}
        assert again.json() == {"received": 1, "stored": 0}
    with make_client(settings) as restarted:
        stored = restarted.app.state.runtime.store.feedback_for(card_uuid)
        assert len(stored) == 1
        assert stored[0].known_card is True
        assert stored[0].accepted_suggestions == ["s-1"]


def test_feedback_for_an_unknown_card_is_kept_and_flagged(client):
    response = client.post("/cds-services/crs-order-sign/feedback", json=_feedback("never-issued"))
    assert response.status_code == 200
    stored = client.app.state.runtime.store.feedback_for("never-issued")
    assert [f.known_card for f in stored] == [False]


def test_feedback_accepted_without_suggestions_is_400(client):
    body = _feedback("c")
    del body["feedback"][0]["acceptedSuggestions"]
    response = client.post("/cds-services/crs-order-sign/feedback", json=body)
    assert response.status_code == 400
    _is_outcome(response)


def test_overridden_feedback_keeps_its_reason(client):
    body = {
        "feedback": [
            {
                "card": "card-x",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "system": "https://crs-cds.org/fhir/CodeSystem/override-reason",
                        "code": "will-reassess",
                        "display": "will reassess",
                    },
                    "userComment": "reviewed on rounds",
                },
                "outcomeTimestamp": "2026-11-24T12:05:00Z",
            }
        ]
    }
    assert client.post("/cds-services/crs-order-sign/feedback", json=body).status_code == 200
    stored = client.app.state.runtime.store.feedback_for("card-x")
    assert stored[0].override_reason["reason"]["code"] == "will-reassess"


def test_cors_preflight_allows_configured_origin_with_authorization(client):
    response = client.options(
        "/cds-services/crs-patient-view",
        headers={
            "Origin": "https://ehr.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://ehr.example.org"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_cors_refuses_an_unlisted_origin(client):
    response = client.options(
        "/cds-services",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["store"] == "reachable"


def test_a_store_failure_never_blocks_cards(settings):
    with make_client(settings) as client:
        store = client.app.state.runtime.store

        def broken(*_args, **_kwargs):
            from cds_service.errors import StoreError

            raise StoreError("disk full")

        store.record_cards = broken
        response = client.post("/cds-services/crs-order-sign", json=load_json(ORDER_SIGN))
        assert response.status_code == 200
        assert response.json()["cards"]


def test_a_trailing_slash_is_a_404_outcome_never_a_redirect(client):
    response = client.post(
        "/cds-services/crs-order-sign/", json=load_json(ORDER_SIGN), headers={"Host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert "location" not in response.headers
    _is_outcome(response)


def test_a_refused_cors_preflight_answers_with_an_operation_outcome(client):
    response = client.options(
        "/cds-services",
        headers={"Origin": "https://ehr.example.org", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "x-not-allowed"},
    )
    assert response.status_code == 400
    _is_outcome(response)


def test_an_unexpected_error_is_a_500_outcome_with_cors_and_no_message_in_the_logs(settings, caplog):
    with make_client(settings) as client:

        def explode(*_args, **_kwargs):
            raise ValueError("patient Quintessa Zyxwarble")

        client.app.state.runtime.renderer.render = explode
        response = client.post(
            "/cds-services/crs-order-sign", json=load_json(ORDER_SIGN), headers={"Origin": "https://ehr.example.org"}
        )
    assert response.status_code == 500
    _is_outcome(response)
    assert response.headers["access-control-allow-origin"] == "https://ehr.example.org"
    assert "Quintessa" not in response.text
    assert "Quintessa" not in "\n".join(r.getMessage() for r in caplog.records)
    assert any("ValueError" in r.getMessage() for r in caplog.records)


def test_production_does_not_publish_the_api_document(tmp_path):
    issuers = tmp_path / "issuers.yaml"
    issuers.write_text(
        "issuers:\n  - iss: https://ehr.example.org\n    jwks_url: https://ehr.example.org/jwks.json\n"
        "    fhir_servers: [https://fhir.example.org/r4]\n"
    )
    settings = Settings(trusted_issuers_file=issuers, database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    with make_client(settings) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404


def test_feedback_tolerates_extra_fields_in_the_override_coding(client):
    body = {"feedback": [{"card": "card-y", "outcome": "overridden", "outcomeTimestamp": "2026-11-24T12:05:00Z",
                          "overrideReason": {"reason": {"system": "https://ehr.example.org/reasons", "code": "x",
                                                        "display": "X", "userSelected": True}}}]}
    assert client.post("/cds-services/crs-order-sign/feedback", json=body).status_code == 200


def test_feedback_ids_longer_than_the_store_keeps_are_refused_not_truncated(client):
    body = _feedback("c" * 300)
    response = client.post("/cds-services/crs-order-sign/feedback", json=body)
    assert response.status_code == 400
    assert "feedback[0].card" in _is_outcome(response)["issue"][0]["expression"]


def test_an_order_with_no_patient_data_still_gets_its_order_cards_and_says_what_is_missing(client):
    request = load_json(ORDER_SIGN)
    del request["prefetch"]
    response = client.post("/cds-services/crs-order-sign", json=request)
    assert response.status_code == 200
    categories = [c["extension"]["org.crs-cds.finding"]["category"] for c in response.json()["cards"]]
    assert categories.count("order-risk") == 1  # one card per drug: risk, premedication and baseline together
    assert "data-gap" in categories


def test_patient_view_with_no_data_obtainable_is_412(client):
    request = load_json(ORDER_SIGN)
    del request["prefetch"]
    request["hook"] = "patient-view"
    del request["context"]["draftOrders"]
    response = client.post("/cds-services/crs-patient-view", json=request)
    assert response.status_code == 412
    _is_outcome(response)
