"""The wheel is what the Docker image installs: it must carry cards/ and the migrations, so an installed
service works from any directory without CRS_CDS_KNOWLEDGE_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from tests.conftest import REPO


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)  # noqa: S603


def test_the_installed_wheel_finds_its_knowledge_and_migrations_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                 str(REPO), cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("crs_cds-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cds_service/cards/thresholds.yaml" in names and "cds_service/cards/templates/active-crs.yaml" in names
    assert "cds_service/store/migrations/script.py.mako" in names
    assert any(n.startswith("cds_service/store/migrations/versions/0001") for n in names)

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    # The dependencies come from the test environment, appended after the new venv's own site-packages (so
    # cds_service is the installed wheel, not the checkout: the checkout's editable finder is not loaded).
    site = next((target / "lib").glob("python3*/site-packages"))
    test_site = [p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix)]
    (site / "test-dependencies.pth").write_text("\n".join(test_site) + "\n")
    installed = _run(str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_") and k != "PYTHONPATH"}
    crs_cds = str(target / "bin" / "crs-cds")

    checked = _run(crs_cds, "check-knowledge", cwd=elsewhere, env=env)
    assert checked.returncode == 0, checked.stderr
    assert str(target) in checked.stdout.splitlines()[0], "the knowledge must come from the installed package"
    assert "drugs" in checked.stdout

    version = _run(crs_cds, "--version", cwd=elsewhere, env=env)
    assert version.stdout.strip().startswith("crs-cds ") and "unknown" not in version.stdout

    database = f"sqlite:///{elsewhere / 'store.sqlite3'}"
    upgraded = _run(crs_cds, "db", "upgrade", cwd=elsewhere, env=env | {"CRS_CDS_DATABASE_URL": database})
    assert upgraded.returncode == 0, upgraded.stderr
