"""The crs-cds command and start-up: evaluate offline, check the knowledge, refuse to start on bad knowledge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cds_service.errors import KnowledgeError
from cds_service.settings import Settings
from tests.cli_kit import CliResult, run_cli
from tests.conftest import FIXTURES, REPO, make_client


def _run(*args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli(*args, env=env)


def test_evaluate_prints_the_response_a_hook_call_would_get():
    result = _run("evaluate", str(FIXTURES / "examples" / "order-sign-teclistamab.json"))
    assert result.returncode == 0, result.stderr
    cards = json.loads(result.stdout)["cards"]
    (order_card,) = [c for c in cards if c["extension"]["org.crs-cds.finding"]["category"] == "order-risk"]
    assert order_card["suggestions"], "the missing premedication is offered on the one order card"


def test_evaluate_of_a_broken_request_prints_an_operation_outcome(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"hook": "patient-view"}')
    result = _run("evaluate", str(broken))
    assert result.returncode == 2
    assert json.loads(result.stdout)["resourceType"] == "OperationOutcome"


def test_check_knowledge_summarises_the_catalogue():
    result = _run("check-knowledge")
    assert result.returncode == 0, result.stderr
    assert "drugs" in result.stdout and "RxNorm" in result.stdout


def _broken_knowledge(tmp_path: Path) -> Path:
    cards = tmp_path / "cards"
    shutil.copytree(REPO / "cards", cards)
    thresholds = cards / "thresholds.yaml"
    thresholds.write_text(thresholds.read_text() + "\nunexpected_field: 1\n")
    return cards


def test_check_knowledge_names_the_broken_file(tmp_path):
    env = {"CRS_CDS_KNOWLEDGE_DIR": str(_broken_knowledge(tmp_path))}
    result = _run("check-knowledge", env=env)
    assert result.returncode == 1
    assert "thresholds.yaml" in result.stderr and "unexpected_field" in result.stderr


def test_the_service_refuses_to_start_on_an_invalid_knowledge_file(tmp_path):
    settings = Settings(environment="development", auth_mode="disabled", knowledge_dir=_broken_knowledge(tmp_path),
                        database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    with pytest.raises(KnowledgeError, match=r"thresholds\.yaml"), make_client(settings):
        pass


def test_validate_prints_the_table_and_summary_and_writes_the_report(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES / "scenarios" / "grade-2-hypotension", fixtures / "scenarios" / "grade-2-hypotension")
    shutil.copytree(FIXTURES / "background", fixtures / "background")
    report = tmp_path / "VALIDATION.md"
    result = _run("validate", "--fixtures", str(fixtures), "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "grade-2-hypotension" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "1 passed, 0 failed"
    assert "grade-2-hypotension" in report.read_text()


def test_validate_with_no_scenario_fails(tmp_path):
    assert _run("validate", "--fixtures", str(tmp_path)).returncode == 1
