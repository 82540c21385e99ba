"""docs/FINDINGS.md is the findings contract; `cds_service/rendering/registry.py` is what the templates may use and
the `Finding(...)` calls of `cds_service/clinical/` are what the rules emit. This test keeps the three the same:

    rules table       every rule id of TEMPLATE_SPECS, with its template and the category its rule emits; no other
    rule params       every param of TEMPLATE_SPECS[...].params named in the rule's row or sections, as `name` or as
                      a code-block line "    name: ..."; no code-block line naming a param the registry lacks
    signals table     every signal id of SIGNAL_PARAMS with exactly its values, "yes" for WARNING_SIGNALS; no other
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cds_service.domain.findings import Category
from cds_service.rendering.registry import SIGNAL_PARAMS, TEMPLATE_SPECS, WARNING_SIGNALS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "FINDINGS.md"
CLINICAL = ROOT / "cds_service" / "clinical"

RULES_HEADER = ("rule_id", "category", "severity", "template", "params")
SIGNALS_HEADER = ("id", "values", "warning?")
_BACKTICKED = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(#{1,3}) (.*)$")
#: A param defined in a code block: four spaces, its name, a colon (nested keys are indented further).
_DEFINITION = re.compile(r"^ {4}([a-z_][a-z0-9_]*):")

RULE_TEMPLATES = {spec.rule_id: template_id for template_id, spec in TEMPLATE_SPECS.items()}


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(text: str, header: tuple[str, ...]) -> dict[str, list[str]]:
    """The Markdown table with this header: first cell's backticked id -> the row's cells."""
    lines = text.splitlines()
    index = next((i for i, line in enumerate(lines) if line.startswith("|") and tuple(_cells(line)) == header), None)
    if index is None:
        pytest.fail(f"docs/FINDINGS.md has no table with the header | {' | '.join(header)} |")
    rows: dict[str, list[str]] = {}
    for line in lines[index + 2 :]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        assert len(cells) == len(header), (
            f"docs/FINDINGS.md: row {line[:60]!r} has {len(cells)} cells, not {len(header)}"
        )
        ids = _BACKTICKED.findall(cells[0])
        assert len(ids) == 1, f"docs/FINDINGS.md: row {line[:60]!r} does not start with one `id`"
        assert ids[0] not in rows, f"docs/FINDINGS.md: {ids[0]} has two rows in the | {header[0]} | table"
        rows[ids[0]] = cells
    return rows


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of every heading of levels 1 to 3."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            found.append((match.group(2), []))
        elif found:
            found[-1][1].append(line)
    return [(heading, "\n".join(body)) for heading, body in found]


def _rule_sections(text: str, rule_id: str) -> list[str]:
    """The bodies of the sections whose heading names the rule id in backticks (a shared section names several)."""
    return [body for heading, body in _sections(text) if rule_id in _BACKTICKED.findall(heading)]


def _documented(text: str) -> set[str]:
    """Names written as `name`, and names defined in a code block ("    name: type  # meaning")."""
    names = set(_BACKTICKED.findall(text))
    names |= {m.group(1) for line in text.splitlines() if (m := _DEFINITION.match(line))}
    return names


def _called(call: ast.Call) -> str | None:
    """The name a call calls: `Finding(...)` or `findings.Finding(...)` -> "Finding"."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _emitted() -> dict[str, tuple[str, str]]:
    """rule id -> (category value, template id) of every `Finding(rule_id=..., category=Category.x, template=...)`
    call in cds_service/clinical/."""
    emitted: dict[str, tuple[str, str]] = {}
    for path in sorted(CLINICAL.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call) or _called(node) != "Finding":
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            rule, category, template = keywords.get("rule_id"), keywords.get("category"), keywords.get("template")
            assert isinstance(rule, ast.Constant) and isinstance(template, ast.Constant), (
                f"{path.name}:{node.lineno}: Finding(...) without a literal rule_id and template"
            )
            assert isinstance(category, ast.Attribute), f"{path.name}:{node.lineno}: category is not Category.<name>"
            emitted[str(rule.value)] = (Category[category.attr].value, str(template.value))
    return emitted


def test_rules_table_lists_every_rule_of_the_registry_and_no_other() -> None:
    rows = _table(_doc(), RULES_HEADER)
    missing = sorted(set(RULE_TEMPLATES) - set(rows))
    unknown = sorted(set(rows) - set(RULE_TEMPLATES))
    assert not missing, f"docs/FINDINGS.md rules table lacks rule(s) of TEMPLATE_SPECS: {missing}"
    assert not unknown, f"docs/FINDINGS.md rules table has rule(s) TEMPLATE_SPECS does not know: {unknown}"


def test_rules_emitted_by_clinical_are_those_of_the_registry() -> None:
    emitted = _emitted()
    assert emitted, "no Finding(...) call found in cds_service/clinical/"
    assert set(emitted) == set(RULE_TEMPLATES), (
        f"rules emitted but not in TEMPLATE_SPECS: {sorted(set(emitted) - set(RULE_TEMPLATES))}; "
        f"in TEMPLATE_SPECS but never emitted: {sorted(set(RULE_TEMPLATES) - set(emitted))}"
    )
    for rule_id, (_, template) in emitted.items():
        assert template == RULE_TEMPLATES[rule_id], (
            f"{rule_id} is emitted with template {template!r}, TEMPLATE_SPECS gives {RULE_TEMPLATES[rule_id]!r}"
        )


@pytest.mark.parametrize("rule_id", sorted(RULE_TEMPLATES))
def test_rules_table_gives_the_category_and_template(rule_id: str) -> None:
    row = _table(_doc(), RULES_HEADER).get(rule_id)
    assert row is not None, f"docs/FINDINGS.md rules table has no row for {rule_id}"
    category, template = row[1], _BACKTICKED.findall(row[3])
    values = {c.value for c in Category}
    assert category in values, f"docs/FINDINGS.md: {rule_id} category {category!r} is not a Category value"
    emitted = _emitted().get(rule_id)
    if emitted is not None:
        assert category == emitted[0], (
            f"docs/FINDINGS.md: {rule_id} category {category!r}, its rule emits {emitted[0]!r}"
        )
    assert template == [RULE_TEMPLATES[rule_id]], (
        f"docs/FINDINGS.md: {rule_id} template {row[3]!r}, TEMPLATE_SPECS gives `{RULE_TEMPLATES[rule_id]}`"
    )


@pytest.mark.parametrize("template_id", sorted(TEMPLATE_SPECS))
def test_every_param_is_documented_for_its_rule(template_id: str) -> None:
    spec = TEMPLATE_SPECS[template_id]
    text = _doc()
    row = _table(text, RULES_HEADER).get(spec.rule_id, [])
    documented = _documented("\n".join([*row, *_rule_sections(text, spec.rule_id)]))
    missing = sorted(spec.params - documented)
    assert not missing, (
        f"docs/FINDINGS.md does not document these {spec.rule_id} params (TEMPLATE_SPECS[{template_id!r}]) in its "
        f"row or its sections: {missing}"
    )


def test_code_block_params_are_params_of_the_rules_their_section_names() -> None:
    for heading, body in _sections(_doc()):
        rules = [r for r in _BACKTICKED.findall(heading) if r in RULE_TEMPLATES]
        defined = {m.group(1) for line in body.splitlines() if (m := _DEFINITION.match(line))}
        for rule_id in rules:
            stale = sorted(defined - TEMPLATE_SPECS[RULE_TEMPLATES[rule_id]].params)
            assert not stale, (
                f"docs/FINDINGS.md section {heading!r} defines {rule_id} params TEMPLATE_SPECS does not list: {stale}"
            )


def test_signals_table_matches_signal_params() -> None:
    rows = _table(_doc(), SIGNALS_HEADER)
    missing = sorted(set(SIGNAL_PARAMS) - set(rows))
    unknown = sorted(set(rows) - set(SIGNAL_PARAMS))
    assert not missing, f"docs/FINDINGS.md Signals table lacks signal(s) of SIGNAL_PARAMS: {missing}"
    assert not unknown, f"docs/FINDINGS.md Signals table has signal(s) SIGNAL_PARAMS does not know: {unknown}"
    for signal_id, params in SIGNAL_PARAMS.items():
        values = set(_BACKTICKED.findall(rows[signal_id][1]))
        assert values == params, (
            f"docs/FINDINGS.md signal {signal_id}: values lack {sorted(params - values)}, "
            f"and name {sorted(values - params)} that SIGNAL_PARAMS does not"
        )
        warning = rows[signal_id][2].startswith("yes")
        assert warning == (signal_id in WARNING_SIGNALS), (
            f"docs/FINDINGS.md signal {signal_id}: warning? says {rows[signal_id][2]!r}, WARNING_SIGNALS "
            f"{'has' if signal_id in WARNING_SIGNALS else 'lacks'} it"
        )
