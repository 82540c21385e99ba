"""docs/ARCHITECTURE.md says, per package, what it may import: the same as tests/test_architecture.py enforces."""

from __future__ import annotations

import re

from tests.conftest import REPO
from tests.test_architecture import MAY_IMPORT

DOC = REPO / "docs" / "ARCHITECTURE.md"
_LINE = re.compile(r"^- \*\*`(\w+)/?`\*\* \(may import: ([^)]*)\)", re.M)


def documented() -> dict[str, set[str]]:
    found = {}
    for unit, allowed in _LINE.findall(DOC.read_text()):
        names = {n.strip() for n in allowed.replace("nothing of the service", "").replace("nothing", "").split(",")}
        found[unit] = {n for n in names if n}
    return found


def test_every_package_has_its_paragraph_with_the_imports_the_test_allows() -> None:
    doc = documented()
    expected = {unit: allowed for unit, allowed in MAY_IMPORT.items() if unit not in {"__init__", "__main__"}}
    assert set(doc) == set(expected), f"missing: {set(expected) - set(doc)}, unknown: {set(doc) - set(expected)}"
    wrong = {unit: (doc[unit], expected[unit]) for unit in expected if doc[unit] != expected[unit]}
    assert not wrong
