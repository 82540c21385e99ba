"""What an operations team reads: JSON log lines with a request id and no caller-injected text, and Prometheus
metrics for hooks, cards, FHIR fetches, authentication failures and store errors (summed over workers)."""

from __future__ import annotations

import json
import uuid

import httpx
import jwt as pyjwt
import pytest

from tests.conftest import load_json, make_client
from tests.ops.processes import delete_prefix, production_env, require_redis, service, token
from tests.security.security_helpers import ec_key


def _sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_request_ids_are_kept_when_sane_and_made_otherwise(settings):
    with make_client(settings) as client:
        kept = client.get("/healthz", headers={"X-Request-ID": "ehr-req-42"})
        replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline" + "x" * 300})
        made = client.get("/healthz")
    assert kept.headers["x-request-id"] == "ehr-req-42"
    assert "\n" not in replaced.headers["x-request-id"] and len(replaced.headers["x-request-id"]) == 32
    assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != replaced.headers["x-request-id"]


def test_hook_cards_fhir_fetch_and_auth_metrics_count_what_happened(settings):
    request = load_json("examples/order-sign-teclistamab.json")
    request["fhirServer"] = "http://127.0.0.1:9/fhir"  # nothing listens: every fetch fails, "unreachable"
    request["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 60,
                                    "scope": "patient/*.read", "subject": "crs-cds"}
    del request["prefetch"]["vitalSigns"]
    with make_client(settings) as client:
        cards = client.post("/cds-services/crs-order-sign", json=request).json()["cards"]
        text = client.get("/metrics").text
    assert _sample(text, "crs_cds_hook_duration_seconds_count", service="crs-order-sign") == 1
    rules = [(c["extension"]["org.crs-cds.finding"]["ruleId"], c["indicator"]) for c in cards]
    for rule, indicator in set(rules):
        assert _sample(text, "crs_cds_cards_total", rule=rule, indicator=indicator) == rules.count((rule, indicator))
    assert _sample(text, "crs_cds_fhir_fetch_errors_total", query="vitalSigns", reason="unreachable") >= 1
    assert _sample(text, "crs_cds_fhir_fetch_duration_seconds_count", query="vitalSigns") >= 1
    assert "127.0.0.1:9" not in text and "pt-myeloma-1" not in text


def test_store_errors_are_counted_and_feedback_answers_500(settings, tmp_path):
    with make_client(settings) as client:
        runtime = client.app.state.runtime
        with runtime.store._engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE feedback")
        entry = {"card": "c-1", "outcome": "accepted", "acceptedSuggestions": [{"id": "s"}],
                 "outcomeTimestamp": "2026-11-24T12:00:00Z"}
        answer = client.post("/cds-services/crs-order-sign/feedback", json={"feedback": [entry]})
        text = client.get("/metrics").text
    assert answer.status_code == 500 and answer.json()["resourceType"] == "OperationOutcome"
    assert _sample(text, "crs_cds_store_errors_total", operation="feedback") == 1


def test_log_lines_are_json_with_the_request_id_and_caller_strings_capped_and_escaped(tmp_path):
    env = production_env(tmp_path, CRS_CDS_LOG_LEVEL="INFO")
    hostile = 'evil\n{"level": "critical", "event": "forged"}' + "x" * 5000
    now_token = token()
    claims = pyjwt.decode(now_token, options={"verify_signature": False})
    unknown_kid = pyjwt.encode(claims, ec_key(), algorithm="ES384", headers={"kid": hostile})
    untrusted_iss = pyjwt.encode({**claims, "iss": hostile}, ec_key(), algorithm="ES384", headers={"kid": "k"})
    request = load_json("examples/order-sign-teclistamab.json") | {"hookInstance": hostile[:200]}
    log = tmp_path / "service.log"
    with service(env, log=log) as base, httpx.Client(base_url=base, timeout=30) as client:
        for jwt_value in (unknown_kid, untrusted_iss):
            headers = {"Authorization": f"Bearer {jwt_value}", "X-Request-ID": "r-1"}
            answer = client.get("/cds-services", headers=headers)
            assert answer.status_code == 401
        path = "/cds-services/crs-order-sign"
        answer = client.post(path, json=request, headers={"Authorization": f"Bearer {token(path)}",
                                                          "X-Request-ID": "r-2"})
        assert answer.status_code == 200
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]  # every line is JSON
    assert not [line for line in lines if line.get("event") == "forged" or line.get("level") == "critical"]
    assert all("x" * 100 not in json.dumps(line) for line in lines)
    refused = [line for line in lines if "JWT refused" in line["event"]]
    assert len(refused) == 2 and all(line["request_id"] == "r-1" for line in refused)
    answered = [line for line in lines if line["event"].startswith("hook answered")]
    assert answered and answered[0]["request_id"] == "r-2"
    assert all(line["level"] in {"debug", "info", "warning", "error"} for line in lines)


def test_metrics_add_up_every_worker(tmp_path):
    require_redis()
    prefix = f"crs-cds-test-{uuid.uuid4().hex[:12]}:"
    env = production_env(tmp_path, CRS_CDS_REDIS_URL="redis://127.0.0.1:6379/0", CRS_CDS_REDIS_KEY_PREFIX=prefix)
    try:
        with service(env, workers=2, log=tmp_path / "w.log") as base:
            for _ in range(12):
                with httpx.Client(base_url=base, timeout=10) as client:  # new connections spread over workers
                    answer = client.get("/cds-services", headers={"Authorization": f"Bearer {token()}"})
                    assert answer.status_code == 200
            scrapes = []
            for _ in range(4):
                with httpx.Client(base_url=base, timeout=10) as client:
                    scrapes.append(client.get("/metrics").text)
    finally:
        delete_prefix(prefix)
    counts = {_sample(text, "crs_cds_http_requests_total", route="/cds-services", status="200") for text in scrapes}
    assert counts == {12.0}, "each scrape must count the requests of both workers"


@pytest.mark.parametrize("enabled", [False])
def test_metrics_can_be_turned_off(tmp_path, enabled):
    from cds_service.settings import Settings

    settings = Settings(environment="development", auth_mode="disabled", metrics_enabled=enabled,
                        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    with make_client(settings) as client:
        assert client.get("/metrics").status_code == 404
