"""docker-compose.yml and deploy/kubernetes/ are valid against their schemas (compose-spec as shipped by
check-jsonschema; the Kubernetes schemas shipped by kubernetes-validate), and say what the service needs:
settings it knows, an issuer file it can load, probes on routes it serves, shared Redis for several replicas."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from cds_service.security.issuers import load_issuers
from cds_service.settings import Settings
from tests.conftest import REPO

KUBERNETES = REPO / "deploy" / "kubernetes"
K8S_VERSION = "1.30.0"


def _documents() -> list[dict]:
    documents = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def _by_kind(kind: str) -> list[dict]:
    return [doc for doc in _documents() if doc["kind"] == kind]


def _known_setting(name: str) -> bool:
    return name.removeprefix("CRS_CDS_").lower() in Settings.model_fields


def test_docker_compose_file_is_valid_compose_spec():
    schema = json.loads(files("check_jsonschema").joinpath("builtin_schemas/vendor/compose-spec.json").read_text())
    document = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    jsonschema.validate(document, schema)


def test_docker_compose_runs_the_service_with_postgresql_and_redis_all_health_checked():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert set(services) == {"crs-cds", "postgres", "redis"}
    assert all("healthcheck" in service for service in services.values())
    app = services["crs-cds"]
    assert {name: dep["condition"] for name, dep in app["depends_on"].items()} == {
        "postgres": "service_healthy", "redis": "service_healthy"}
    env = app["environment"]
    assert env["CRS_CDS_DATABASE_URL"].startswith("postgresql://") and env["CRS_CDS_REDIS_URL"].startswith("redis://")
    assert all(_known_setting(name) for name in env if name.startswith("CRS_CDS_"))


@pytest.mark.parametrize("document", _documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_kubernetes_manifest_is_valid_against_the_kubernetes_schema(document):
    kubernetes_validate.validate(document, K8S_VERSION, strict=True)  # raises ValidationError naming the field


def test_the_kubernetes_set_has_what_a_cluster_needs():
    kinds = {doc["kind"] for doc in _documents()}
    assert kinds >= {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"}


def test_the_deployment_probes_routes_the_service_serves_and_migrates_before_serving():
    (deployment,) = _by_kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["initContainers"][0]["command"] == ["crs-cds", "db", "upgrade"]
    from cds_service.app import create_app

    paths = set(create_app(Settings(environment="development", auth_mode="disabled")).openapi()["paths"])
    assert {"/readyz", "/healthz", "/metrics"} <= paths


def test_every_configured_setting_is_a_real_setting_and_replicas_share_redis():
    settings_map = next(doc for doc in _by_kind("ConfigMap") if doc["metadata"]["name"] == "crs-cds-settings")
    (secret,) = _by_kind("Secret")
    names = [*settings_map["data"], *secret["stringData"]]
    unknown = [name for name in names if name.startswith("CRS_CDS_") and not _known_setting(name)]
    assert not unknown
    assert "CRS_CDS_REDIS_URL" in secret["stringData"] and "CRS_CDS_AUDIT_PEPPER" in secret["stringData"]


def test_the_issuer_file_of_the_config_map_loads(tmp_path):
    issuers = next(doc for doc in _by_kind("ConfigMap") if doc["metadata"]["name"] == "crs-cds-issuers")
    path: Path = tmp_path / "trusted-issuers.yaml"
    path.write_text(issuers["data"]["trusted-issuers.yaml"])
    assert load_issuers(path).get("https://ehr.example.org") is not None
