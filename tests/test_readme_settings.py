"""The README's configuration table names every setting the service reads, and nothing it does not."""

from __future__ import annotations

import re

from cds_service.settings import Settings
from tests.conftest import REPO


def test_every_setting_has_its_row_in_the_readme_and_every_row_is_a_setting() -> None:
    readme = (REPO / "README.md").read_text()
    rows = set(re.findall(r"^\| `(CRS_CDS_[A-Z0-9_]+)` \|", readme, re.M))
    fields = {f"CRS_CDS_{name.upper()}" for name in Settings.model_fields}
    assert fields - rows == set(), "settings the README's Configuration table does not describe"
    assert rows - fields == set(), "README rows naming no setting"
