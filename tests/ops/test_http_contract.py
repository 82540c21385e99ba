"""The HTTP surface an integrator relies on: an OpenAPI document that validates and says which statuses each
operation answers; Swagger UI served from the package (no CDN); slow clients cut off."""

from __future__ import annotations

import re
import socket
import time

import pytest
from openapi_spec_validator import validate

from cds_service.api.openapi import ERROR_STATUSES
from tests.conftest import load_json, make_client
from tests.ops.processes import production_env, service

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def document(settings):
    with make_client(settings) as client:
        return client.get("/openapi.json").json()


def _resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_openapi_document_validates_and_every_ref_resolves(document):
    validate(document)
    for ref in set(_refs(document)):
        assert ref.startswith("#/"), ref
        _resolve(document, ref)  # KeyError when a $ref points nowhere


def test_each_operation_lists_its_error_statuses_with_the_operation_outcome_schema_and_never_422(document):
    operations = {(m, p): op for p, ops in document["paths"].items() for m, op in ops.items()}
    assert set(operations) == set(ERROR_STATUSES)
    for key, operation in operations.items():
        statuses = {int(s) for s in operation["responses"]}
        assert statuses == {200, *ERROR_STATUSES[key]}, key
        for status in ERROR_STATUSES[key]:
            schema = operation["responses"][str(status)]["content"][FHIR_JSON]["schema"]
            assert schema == {"$ref": "#/components/schemas/OperationOutcome"}
    hook = operations[("post", "/cds-services/{service_id}")]
    assert hook["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/HookRequest"
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_statuses_the_service_sends_are_the_ones_the_document_lists(settings, document):
    listed = {int(s) for s in document["paths"]["/cds-services/{service_id}"]["post"]["responses"]}
    good = load_json("examples/order-sign-teclistamab.json")
    calls = [
        ("/cds-services/crs-order-sign", good),
        ("/cds-services/crs-order-sign", {"hook": "order-sign"}),
        ("/cds-services/nope", good),
        ("/cds-services/crs-order-sign", {"x": "y" * 20_000_000}),
    ]
    with make_client(settings) as client:
        seen = {client.post(path, json=body).status_code for path, body in calls}
    assert seen == {200, 400, 404, 413} and seen <= listed


def test_swagger_ui_comes_from_the_package_and_loads_nothing_from_elsewhere(settings):
    with make_client(settings) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text) + re.findall(r"url: '([^']+)'", page.text)
        assert urls and all(url.startswith("/") for url in urls), urls
        assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
        assert "https://" not in page.text.split("<body>")[1].split("SwaggerUIBundle")[0]


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes the connection (recv gives b"") before `seconds` pass."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    return True


def test_a_client_that_sends_half_a_header_or_half_a_body_is_disconnected(tmp_path):
    env = production_env(tmp_path, CRS_CDS_HEADER_TIMEOUT_SECONDS="1", CRS_CDS_BODY_TIMEOUT_SECONDS="1")
    with service(env, log=tmp_path / "s.log") as base:
        port = int(base.rsplit(":", 1)[1])
        half_header = socket.create_connection(("127.0.0.1", port))
        half_header.sendall(b"POST /cds-services/crs-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
        half_body = socket.create_connection(("127.0.0.1", port))
        half_body.sendall(
            b"POST /cds-services/crs-order-sign/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{\"feedback\": ["
        )
        silent = socket.create_connection(("127.0.0.1", port))
        time.sleep(0.1)
        assert _closed_within(half_header, 30), "a half-sent header must not hold the connection"
        assert _closed_within(half_body, 30), "a half-sent body must not hold the connection"
        assert _closed_within(silent, 30), "a connection that sends nothing must not be held"
        for sock in (half_header, half_body, silent):
            sock.close()
    log = (tmp_path / "s.log").read_text()
    assert "request header not complete" in log and "request body not complete" in log
