"""build_record: prefetch semantics, fallback reads, partial failure, deadline, paging and 412."""

from __future__ import annotations

import time

import httpx
import pytest
from fhir_helpers import BASE, PATIENT, TOKEN, bundle, empty_prefetch, hook_request, observation, patient

from cds_service.errors import PreconditionFailed
from cds_service.settings import Settings

LABS_URL = f"{BASE}/Observation"


def with_keys(**values: object) -> dict[str, object]:
    prefetch = empty_prefetch()
    prefetch.update(values)
    return prefetch


def without(*keys: str) -> dict[str, object]:
    prefetch = empty_prefetch()
    for key in keys:
        del prefetch[key]
    return prefetch


@pytest.mark.respx(assert_all_called=False)
def test_full_prefetch_makes_no_request_and_reports_no_gap(respx_mock, build) -> None:
    route = respx_mock.route(host="ehr.example.org")
    record = build(hook_request(with_keys(vitalSigns=bundle(observation("t1")))))
    assert not route.called
    assert record.gaps == []
    assert [o.id for o in record.observations] == ["t1"]
    assert record.patient is not None and record.patient_id == PATIENT


def test_a_missing_key_is_read_from_the_fhir_server_with_the_bearer_token(respx_mock, build) -> None:
    route = respx_mock.get(LABS_URL, params={"category": "laboratory"}).respond(
        json=bundle(observation("crp1", code="1988-5"))
    )
    record = build(hook_request(without("labs")))
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.url.params["patient"] == PATIENT
    assert request.url.params["_sort"] == "-date"
    assert [o.id for o in record.observations] == ["crp1"]
    assert record.gaps == []


def test_no_prefetch_at_all_reads_every_key_from_the_server(respx_mock, build, service) -> None:
    respx_mock.get(f"{BASE}/Patient/{PATIENT}").respond(json=patient())
    search = respx_mock.get(url__regex=rf"{BASE}/\w+\?.*").respond(json=bundle())
    record = build(hook_request(None))
    assert search.call_count == len(service.prefetch) - 1
    assert record.patient is not None
    assert record.gaps == []


@pytest.mark.respx(assert_all_called=False)
def test_a_null_prefetch_value_is_a_valid_no_data_answer(respx_mock, build) -> None:
    route = respx_mock.route(host="ehr.example.org")
    record = build(hook_request(with_keys(labs=None, procedures=None)))
    assert not route.called
    assert record.gaps == []


def test_an_operation_outcome_prefetch_value_is_read_again_from_the_server(respx_mock, build) -> None:
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    route = respx_mock.get(LABS_URL).respond(json=bundle(observation("crp1", code="1988-5")))
    record = build(hook_request(with_keys(labs=failed)))
    assert route.called
    assert [o.id for o in record.observations] == ["crp1"]


def test_an_operation_outcome_without_a_server_becomes_an_ehr_error_gap(build) -> None:
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
    record = build(hook_request(with_keys(labs=failed), server=None, token=None))
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "ehr-error")]


@pytest.mark.parametrize(
    ("status", "reason", "words"),
    [
        (401, "unauthorized", "did not accept the EHR's access token"),
        (403, "forbidden", "refused access"),
        (404, "not-found", "did not find it"),
        (500, "server-error", "reported an error"),
    ],
)
def test_a_failed_read_becomes_a_data_gap_and_evaluation_goes_on(
    respx_mock, build, status, reason, words
) -> None:
    respx_mock.get(LABS_URL).respond(status)
    record = build(hook_request(without("labs")))
    assert len(record.gaps) == 1
    gap = record.gaps[0]
    assert (gap.key, gap.reason) == ("labs", reason)
    assert gap.description == f"laboratory results could not be read (the FHIR server {words})"
    assert record.patient is not None


def test_a_503_is_retried_and_the_later_answer_used(respx_mock, build, fhir_settings) -> None:
    settings = Settings(**{**fhir_settings.model_dump(), "fhir_deadline_seconds": 2.0})
    route = respx_mock.get(LABS_URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(503),
            httpx.Response(200, json=bundle(observation("a"))),
        ]
    )
    record = build(hook_request(without("labs")), settings=settings)
    assert route.call_count == 3
    assert record.gaps == []
    assert [o.id for o in record.observations] == ["a"]


def test_a_503_that_persists_gives_up_after_the_configured_retries(respx_mock, build, fhir_settings) -> None:
    settings = Settings(**{**fhir_settings.model_dump(), "fhir_deadline_seconds": 2.0, "fhir_retries": 1})
    route = respx_mock.get(LABS_URL).respond(503)
    record = build(hook_request(without("labs")), settings=settings)
    assert route.call_count == 2
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "server-error")]


def test_a_connection_error_is_retried_then_reported_as_unreachable(respx_mock, build, fhir_settings) -> None:
    settings = Settings(**{**fhir_settings.model_dump(), "fhir_deadline_seconds": 2.0})
    route = respx_mock.get(LABS_URL).mock(side_effect=httpx.ConnectError("refused"))
    record = build(hook_request(without("labs")), settings=settings)
    assert route.call_count == 3
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "unreachable")]


def test_a_request_time_out_is_reported_as_timeout(respx_mock, build) -> None:
    respx_mock.get(LABS_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    record = build(hook_request(without("labs")))
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "timeout")]
    assert "did not answer in time" in record.gaps[0].description


def test_a_hanging_server_never_holds_the_call_past_the_deadline(respx_mock, build, fhir_settings) -> None:
    settings = Settings(**{**fhir_settings.model_dump(), "fhir_request_timeout_seconds": 30.0})

    async def hang(request: httpx.Request) -> httpx.Response:
        import asyncio

        await asyncio.sleep(60)
        return httpx.Response(200, json=bundle())

    respx_mock.get(url__startswith=BASE).mock(side_effect=hang)
    started = time.monotonic()
    record = build(hook_request(without("labs", "vitalSigns")), settings=settings)
    elapsed = time.monotonic() - started
    # The deadline cut the call, not the 30 s request timeout or the 60 s hang; the margin is wide because the CI
    # machine is shared (this tells a deadline from a hang, it does not measure speed).
    assert elapsed < settings.fhir_deadline_seconds + 10.0
    assert sorted((g.key, g.reason) for g in record.gaps) == [("labs", "timeout"), ("vitalSigns", "timeout")]


def test_search_pages_are_followed_through_next_links(respx_mock, build) -> None:
    page2 = f"{BASE}/Observation?page=2"
    page3 = f"{BASE}/Observation?page=3"
    respx_mock.get(LABS_URL, params={"page": "2"}).respond(json=bundle(observation("b"), next_url=page3))
    respx_mock.get(LABS_URL, params={"page": "3"}).respond(json=bundle(observation("c")))
    respx_mock.get(LABS_URL, params={"category": "laboratory"}).respond(
        json=bundle(observation("a"), next_url=page2)
    )
    record = build(hook_request(without("labs")))
    assert [o.id for o in record.observations] == ["a", "b", "c"]
    assert record.gaps == []


def test_paging_stops_at_the_page_cap(respx_mock, build) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "1"))
        return httpx.Response(
            200, json=bundle(observation(f"o{n}"), next_url=f"{BASE}/Observation?page={n + 1}")
        )

    route = respx_mock.get(LABS_URL).mock(side_effect=page)
    record = build(hook_request(without("labs")))
    assert route.call_count == 3  # fhir_max_pages
    assert [o.id for o in record.observations] == ["o1", "o2", "o3"]


def test_a_next_link_to_another_host_is_refused_and_reported(respx_mock, build) -> None:
    elsewhere = respx_mock.get(url__startswith="https://evil.example.com").respond(json=bundle())
    respx_mock.get(LABS_URL).respond(
        json=bundle(observation("a"), next_url="https://evil.example.com/fhir/Observation?page=2")
    )
    record = build(hook_request(without("labs")))
    assert not elsewhere.called
    assert [o.id for o in record.observations] == ["a"]
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "not-allowed")]
    assert "could be read only in part" in record.gaps[0].description


@pytest.mark.parametrize("other", ["http://ehr.example.org/fhir/x", "https://ehr.example.org:8443/fhir/x"])
@pytest.mark.respx(assert_all_called=False)
def test_a_next_link_on_another_scheme_or_port_is_refused(respx_mock, build, other) -> None:
    elsewhere = respx_mock.get(url__startswith=other).respond(json=bundle())
    respx_mock.get(LABS_URL).respond(json=bundle(observation("a"), next_url=other))
    record = build(hook_request(without("labs")))
    assert not elsewhere.called
    assert record.gaps[0].reason == "not-allowed"


def test_a_paginated_prefetch_bundle_is_completed_from_the_server(respx_mock, build) -> None:
    route = respx_mock.get(f"{BASE}/Observation", params={"page": "2"}).respond(json=bundle(observation("b")))
    prefetched = bundle(observation("a"), next_url=f"{BASE}/Observation?page=2")
    record = build(hook_request(with_keys(vitalSigns=prefetched)))
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert [o.id for o in record.observations] == ["a", "b"]


def test_a_page_failing_after_the_first_keeps_what_was_read(respx_mock, build) -> None:
    respx_mock.get(LABS_URL, params={"page": "2"}).respond(500)
    respx_mock.get(LABS_URL, params={"category": "laboratory"}).respond(
        json=bundle(observation("a"), next_url=f"{BASE}/Observation?page=2")
    )
    record = build(hook_request(without("labs")))
    assert [o.id for o in record.observations] == ["a"]
    assert record.gaps[0].description.startswith("laboratory results could be read only in part")


@pytest.mark.respx(assert_all_called=False)
def test_when_fhir_access_is_not_allowed_nothing_is_read_and_gaps_say_so(respx_mock, build) -> None:
    route = respx_mock.route(host="ehr.example.org")
    record = build(hook_request(without("labs", "vitalSigns")), fhir_allowed=False)
    assert not route.called
    assert sorted((g.key, g.reason) for g in record.gaps) == [
        ("labs", "not-allowed"),
        ("vitalSigns", "not-allowed"),
    ]


def test_a_missing_key_without_a_fhir_server_is_reported(build) -> None:
    record = build(hook_request(without("labs"), server=None, token=None))
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "unreachable")]
    assert "neither the data nor a FHIR server" in record.gaps[0].description


@pytest.mark.respx(assert_all_called=False)
def test_a_template_token_without_value_is_not_queried(respx_mock, build) -> None:
    route = respx_mock.route(host="ehr.example.org")
    request = hook_request(without("labs"), patientId=None)
    record = build(request)
    assert not route.called
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "not-found")]


def test_nothing_obtainable_at_all_raises_precondition_failed(respx_mock, build) -> None:
    respx_mock.get(url__startswith=BASE).respond(401)
    with pytest.raises(PreconditionFailed) as raised:
        build(hook_request(None))
    assert raised.value.http_status == 412
    assert "did not accept the EHR's access token" in raised.value.message


def test_no_prefetch_and_no_server_raises_precondition_failed(build) -> None:
    with pytest.raises(PreconditionFailed):
        build(hook_request(None, server=None, token=None))


def test_one_key_obtained_is_enough_to_avoid_412(respx_mock, build) -> None:
    respx_mock.get(f"{BASE}/Patient/{PATIENT}").respond(json=patient())
    respx_mock.get(url__regex=rf"{BASE}/\w+\?.*").respond(403)
    record = build(hook_request(None))
    assert record.patient is not None
    assert len(record.gaps) == 10  # every search key, the optional encounters and serviceRequests included


def test_without_fhir_authorization_the_server_is_read_without_a_token(respx_mock, build) -> None:
    route = respx_mock.get(LABS_URL).respond(json=bundle())
    build(hook_request(without("labs"), token=None))
    assert "Authorization" not in route.calls.last.request.headers


def test_context_selections_and_draft_orders_reach_the_record(build) -> None:
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "tocilizumab"},
        "subject": {"reference": f"Patient/{PATIENT}"},
    }
    request = hook_request(
        empty_prefetch(),
        selections=["MedicationRequest/draft-1"],
        draftOrders={"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]},
    )
    record = build(request)
    assert record.selections == ("MedicationRequest/draft-1",)
    assert [d.id for d in record.draft_orders] == ["draft-1"]


@pytest.mark.parametrize("garbage", ["oops", [1, 2], {"no": "resourceType"}])
def test_a_prefetch_value_that_is_no_fhir_resource_is_read_again(respx_mock, build, garbage) -> None:
    route = respx_mock.get(LABS_URL).respond(json=bundle(observation("a")))
    record = build(hook_request(with_keys(labs=garbage)))
    assert route.called
    assert [o.id for o in record.observations] == ["a"]


def test_a_redirect_is_not_followed(respx_mock, build) -> None:
    elsewhere = respx_mock.get(url__startswith="https://evil.example.com").respond(json=bundle())
    respx_mock.get(LABS_URL).respond(302, headers={"Location": "https://evil.example.com/fhir/Observation"})
    record = build(hook_request(without("labs")))
    assert not elsewhere.called
    assert [(g.key, g.reason) for g in record.gaps] == [("labs", "server-error")]


def test_retries_stop_at_the_deadline(respx_mock, build, fhir_settings) -> None:
    settings = Settings(**{**fhir_settings.model_dump(), "fhir_retries": 5, "fhir_deadline_seconds": 0.25})
    route = respx_mock.get(LABS_URL).respond(503)
    record = build(hook_request(without("labs")), settings=settings)
    assert route.call_count <= 2  # back-off 0.1 s fits in 0.25 s, the next 0.2 s does not
    assert record.gaps[0].reason == "server-error"  # gave up before the deadline instead of being cut by it
