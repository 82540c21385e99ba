"""The command line an operator uses: --version, evaluate at a given time, a progress line from validate, and
`make run PORT=...`."""

from __future__ import annotations

import json
import shutil
import subprocess

from cds_service import __version__
from tests.cli_kit import CliResult, run_cli
from tests.conftest import FIXTURES, REPO

EXAMPLE = FIXTURES / "examples" / "patient-view-car-t-grade-2"


def _crs_cds(*args: str) -> CliResult:
    return run_cli(*args)


def _cards(result: CliResult) -> list[tuple[str, int | None]]:
    assert result.returncode == 0, result.stderr
    findings = [card["extension"]["org.crs-cds.finding"] for card in json.loads(result.stdout)["cards"]]
    return [(f["category"], f["astctGrade"]) for f in findings]


def test_version_comes_from_the_package_metadata():
    result = _crs_cds("--version")
    assert result.stdout.strip() == f"crs-cds {__version__}" and __version__[0].isdigit()


def test_a_scenario_folder_is_evaluated_at_its_anchor_or_shifted_to_any_time():
    assert _cards(_crs_cds("evaluate", str(EXAMPLE))) == [("active-crs", 2)]
    assert _cards(_crs_cds("evaluate", str(EXAMPLE), "--at", "2031-06-01T08:30:00+02:00")) == [("active-crs", 2)]


def test_a_request_file_is_evaluated_at_the_time_given():
    request = str(EXAMPLE / "request.json")
    assert _cards(_crs_cds("evaluate", request, "--at", "2026-01-15T12:00:00Z")) == [("active-crs", 2)]
    assert _cards(_crs_cds("evaluate", request, "--at", "2026-03-15T12:00:00Z")) == []  # weeks later: no window


def test_request_only_prints_the_shifted_request_for_a_live_server():
    result = _crs_cds("evaluate", str(EXAMPLE), "--at", "2030-01-15T12:00:00Z", "--request-only")
    request = json.loads(result.stdout)
    assert request["hook"] == "patient-view"
    assert "2030-01-1" in json.dumps(request["prefetch"]) and "2026-01-1" not in json.dumps(request["prefetch"])


def test_evaluate_refuses_a_time_without_a_zone():
    result = _crs_cds("evaluate", str(EXAMPLE), "--at", "2026-01-15T12:00:00")
    assert result.returncode == 2 and "time zone" in result.stderr


def test_validate_prints_progress_on_stderr_while_it_runs(tmp_path):
    fixtures = tmp_path / "fixtures"
    for name in ("grade-2-hypotension", "grade-1-fever-only"):
        shutil.copytree(FIXTURES / "scenarios" / name, fixtures / "scenarios" / name)
    shutil.copytree(FIXTURES / "background", fixtures / "background")
    result = _crs_cds("validate", "--fixtures", str(fixtures))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validate: 1/2 grade-1-fever-only pass" in result.stderr
    assert "validate: 2/2 grade-2-hypotension pass" in result.stderr


def test_make_run_takes_the_port_from_the_command_line():
    make = shutil.which("make")
    assert make, "make is one of the README's two commands"
    result = subprocess.run([make, "-n", "run", "PORT=9123"], capture_output=True, text=True, cwd=REPO, timeout=60)  # noqa: S603
    assert "--port 9123" in result.stdout and "db upgrade" in result.stdout
