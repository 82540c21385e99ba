"""Shared helpers of the benchmarks: request bodies, heavy charts, servers on loopback, wrk, results.

Not product code and not tests: every benchmark prints its figures and writes them to bench/results/
(git-ignored). All traffic stays on 127.0.0.1; every server started here is stopped by its own pid.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
SCENARIOS = REPO / "fixtures" / "scenarios"
CHARTS = REPO / "fixtures" / "background" / "charts"
SERVICE_PATH = "/cds-services/crs-patient-view"

#: The typical request: a scenario with an active CRS card, plus a second background chart (about 60 KB).
TYPICAL_SCENARIO = "grade-2-hypotension"
EXTRA_CHART = "adult-31"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# ---------------------------------------------------------------- request bodies


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def scenario_request(name: str, now: datetime | None = None) -> dict[str, Any]:
    """A scenario's hook request with its times shifted to `now` (background chart merged in)."""
    from cds_service.tooling.scenarios import build_request, load_scenario

    return build_request(load_scenario(SCENARIOS / name), now or now_utc())


def typical_request(now: datetime | None = None) -> dict[str, Any]:
    """About 60 KB: the typical scenario plus a second background chart for the same patient."""
    from cds_service.tooling.scenarios import merge_background

    request = scenario_request(TYPICAL_SCENARIO, now)
    merge_background(request, json.loads((CHARTS / f"{EXTRA_CHART}.json").read_text(encoding="utf-8")))
    return request


def describe_request(request: dict[str, Any]) -> dict[str, int]:
    """Entries per prefetch key and the body size in bytes."""
    counts = {
        key: len(value.get("entry") or []) if isinstance(value, dict) else 0
        for key, value in (request.get("prefetch") or {}).items()
    }
    counts["body_bytes"] = len(json.dumps(request).encode())
    return counts


# ---------------------------------------------------------------- heavy charts

_LOINC = "http://loinc.org"
_UCUM = "http://unitsofmeasure.org"
_VITAL_CATEGORY = [
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}
]
_LAB_CATEGORY = [
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
]
#: (code, display, unit, typical value, spread): codes from cards/observations.yaml
_VITALS = [
    ("8310-5", "Body temperature", "Cel", 37.0, 0.6),
    ("8867-4", "Heart rate", "/min", 88.0, 12.0),
    ("9279-1", "Respiratory rate", "/min", 17.0, 3.0),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 96.0, 2.0),
    ("85354-9", "Blood pressure panel", None, 0.0, 0.0),
]
_LABS = [
    ("1988-5", "C reactive protein", "mg/L", 40.0, 20.0),
    ("2276-4", "Ferritin", "ng/mL", 900.0, 300.0),
    ("751-8", "Neutrophils", "10*9/L", 2.0, 0.8),
    ("777-3", "Platelets", "10*9/L", 120.0, 30.0),
]
_RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_OTHER_DRUGS = [
    ("308192", "amoxicillin 500 MG Oral Tablet"),
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("310965", "ibuprofen 200 MG Oral Tablet"),
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("198211", "simvastatin 40 MG Oral Tablet"),
    ("313782", "acetaminophen 325 MG Oral Tablet"),
]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": _UCUM, "code": unit}


def _status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.035:  # a few amended, preliminary and entered-in-error results among the final ones
        return "amended" if roll < 0.02 else "preliminary" if roll < 0.03 else "entered-in-error"
    return "final"


def _observation(i: int, patient: str, when: datetime, spec: tuple, category: list, rng: random.Random) -> dict:
    code, display, unit, mean, spread = spec
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"heavy-ob-{i}",
        "status": _status(rng),
        "category": category,
        "code": {"coding": [{"system": _LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when.isoformat().replace("+00:00", "Z"),
    }
    if code == "85354-9":
        resource["component"] = [
            {"code": {"coding": [{"system": _LOINC, "code": "8480-6", "display": "Systolic blood pressure"}]},
             "valueQuantity": _quantity(round(rng.gauss(118, 10)), "mm[Hg]")},
            {"code": {"coding": [{"system": _LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}]},
             "valueQuantity": _quantity(round(rng.gauss(72, 8)), "mm[Hg]")},
        ]
    else:
        resource["valueQuantity"] = _quantity(round(rng.gauss(mean, spread), 1), unit)
    return resource


def heavy_observations(count: int, patient: str, now: datetime, *, days: float = 5.0) -> list[dict[str, Any]]:
    """`count` Observations spread evenly over the last `days` (vital signs every few minutes; 1 in 25 a lab).

    The span is fixed, so a bigger chart is a denser one: every size has the same share inside each rule
    window, and growth with size is not flattered by the look-back.
    """
    rng = random.Random(count)
    step = timedelta(days=days) / count
    resources = []
    for i in range(count):
        when = (now - step * (count - i)).replace(microsecond=0)
        if i % 25 == 0:
            spec, category = _LABS[(i // 25) % len(_LABS)], _LAB_CATEGORY
        else:
            spec, category = _VITALS[i % len(_VITALS)], _VITAL_CATEGORY
        resources.append(_observation(i, patient, when, spec, category, rng))
    return resources


def heavy_medication_requests(count: int, patient: str, now: datetime) -> list[dict[str, Any]]:
    """`count` MedicationRequests of common non-CRS drugs over the last year (mixed statuses)."""
    rng = random.Random(7)
    resources = []
    for i in range(count):
        code, display = _OTHER_DRUGS[i % len(_OTHER_DRUGS)]
        resources.append({
            "resourceType": "MedicationRequest",
            "id": f"heavy-mr-{i}",
            "status": rng.choice(["active", "completed", "stopped"]),
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": _RXNORM, "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{patient}"},
            "authoredOn": (now - timedelta(hours=rng.randint(1, 24 * 365))).isoformat().replace("+00:00", "Z"),
        })
    return resources


def heavy_request(observations: int, medication_requests: int = 200, now: datetime | None = None) -> dict:
    """The typical request plus a generated heavy chart (observations into vitalSigns/labs)."""
    now = now or now_utc()
    request = scenario_request(TYPICAL_SCENARIO, now)
    patient = request["context"]["patientId"]
    prefetch = request["prefetch"]
    for resource in heavy_observations(observations, patient, now):
        lab = resource["category"] is _LAB_CATEGORY
        prefetch["labs" if lab else "vitalSigns"].setdefault("entry", []).append({"resource": resource})
    for resource in heavy_medication_requests(medication_requests, patient, now):
        prefetch["medicationRequests"].setdefault("entry", []).append({"resource": resource})
    return request


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(database: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CRS_CDS_ENVIRONMENT": "development",
        "CRS_CDS_AUTH_MODE": "disabled",
        "CRS_CDS_DATABASE_URL": f"sqlite:///{database}",
    })
    env.update(extra)
    return env


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {timeout} s")


@contextmanager
def server(
    kind: str, *, workers: int = 1, extra_env: dict[str, str] | None = None, args: list[str] | None = None
) -> Iterator[tuple[str, int]]:
    """Run the service ("service"), the floor app ("floor") or the slow FHIR server ("slow_fhir", with `args`)
    on a free loopback port; yield (base URL, pid)."""
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        env = service_env(Path(tmp) / "bench.sqlite3", **(extra_env or {}))
        if kind == "service":
            _migrate(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            command = [str(VENV_BIN / "crs-cds"), "serve", "--host", "127.0.0.1", "--port", str(port),
                       "--workers", str(workers)]
        else:
            command = [str(PYTHON), str(BENCH / f"{kind}_app.py" if kind == "floor" else BENCH / f"{kind}.py"),
                       "--port", str(port), *(args or [])]
        log_file = (RESULTS / f"{kind}.log").open("w")
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO)  # noqa: S603
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/healthz" if kind == "service" else f"{base}/", process)
            yield base, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log_file.close()


def _migrate(database_url: str) -> None:
    """`crs-cds db upgrade` on a benchmark's fresh database (the service refuses one without the schema)."""
    from cds_service.store import SqlStore

    store = SqlStore(database_url)
    store.upgrade_schema()
    store.dispose()


def vm_hwm_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


# ---------------------------------------------------------------- wrk

_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb")
wrk.body = f:read("*all")
f:close()
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, body: bytes, *, seconds: int, connections: int = 16, threads: int = 1) -> dict[str, Any]:
    """Run wrk (POST `body`) and return requests/s, p50/p90/p99 in ms, request and error counts."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    body_file = RESULTS / "wrk-body.json"
    body_file.write_bytes(body)
    script = RESULTS / "wrk-post.lua"
    script.write_text(_LUA.format(body=body_file))
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    output = subprocess.run(  # noqa: S603
        [wrk_path, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout
    result: dict[str, Any] = {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        "socket_errors": bool(re.search(r"Socket errors", output)),
    }
    for percent in ("50", "90", "99"):
        result[f"p{percent}_ms"] = _ms(re.search(rf"\s{percent}%\s+([\d.]+\w+)", output).group(1))
    return result


# ---------------------------------------------------------------- statistics and results


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * (len(ordered) - 1))))
    return ordered[index]


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write figures (with the machine) to bench/results/<name>-<UTC time>.json and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"machine": machine(), **figures}, indent=2))
    return path


# ---------------------------------------------------------------- in-process hook calls


@contextmanager
def in_process_runtime() -> Iterator[Any]:
    """A Runtime as the service builds it (development, auth disabled, a temporary SQLite store), in a process
    whose garbage collector is tuned as a served worker's is once started (`app.tune_collector`)."""
    from cds_service.app import tune_collector
    from cds_service.runtime import build_runtime
    from cds_service.settings import Settings

    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        settings = Settings(environment="development", auth_mode="disabled",
                            database_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", log_level="WARNING")
        _migrate(settings.database_url)
        runtime = build_runtime(settings)
        tune_collector()
        yield runtime


async def call_hook(runtime: Any, body: bytes) -> Any:
    """What the HTTP route does after authentication: decode, validate, answer_hook (patient-view)."""
    from cds_service.cdshooks.body import parse_json, validate
    from cds_service.cdshooks.models import HookRequest
    from cds_service.cdshooks.services import SERVICES_BY_ID
    from cds_service.pipeline import answer_hook
    from cds_service.security.authenticator import UNAUTHENTICATED

    hook_request = validate(HookRequest, parse_json(body, runtime.settings))
    response = await answer_hook(hook_request, SERVICES_BY_ID["crs-patient-view"], runtime, UNAUTHENTICATED)
    return response.model_dump(mode="json")
