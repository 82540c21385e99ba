"""The package layout keeps the pipeline one-way: no import cycle, and each package imports only what it may.

docs/ARCHITECTURE.md has one paragraph per package saying the same; this test is what keeps the two true.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cds_service"

#: unit (sub-package or top-level module of cds_service) -> the units it may import.
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "errors": set(),
    "settings": set(),
    "store": {"domain", "errors"},
    "security": {"errors", "settings"},
    "observability": {"cdshooks", "security", "settings"},
    "knowledge": {"domain", "errors"},
    "intake": {"domain"},
    "cdshooks": {"errors", "settings", "security"},
    "fhir": {"cdshooks", "domain", "errors", "intake", "security", "settings"},
    "reading": {"domain", "intake", "knowledge"},
    "clinical": {"domain", "knowledge"},
    "rendering": {"cdshooks", "domain", "errors", "knowledge", "settings"},
    "runtime": {"clinical", "fhir", "knowledge", "observability", "rendering", "security", "settings", "store"},
    "pipeline": {"cdshooks", "clinical", "domain", "errors", "fhir", "intake", "reading", "runtime", "security",
                 "store"},
    "web": {"domain", "intake", "knowledge", "reading"},  # the timeline page: its FHIR-to-facts function
    "api": {"cdshooks", "clinical", "domain", "errors", "observability", "pipeline", "runtime", "security",
            "store", "web"},
    "app": {"api", "errors", "observability", "runtime", "security", "settings", "web"},
    "server": {"observability", "security", "settings"},
    "tooling": {"cdshooks", "domain", "errors", "fhir", "intake", "knowledge", "pipeline", "reading", "runtime",
                "security", "settings", "store"},
    "cli": {"errors", "knowledge", "observability", "rendering", "runtime", "security", "server", "settings", "store",
            "tooling"},
    "__main__": {"cli"},
    "__init__": set(),
}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        source = _unit(module)
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] if node.module != "cds_service" else []
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target.startswith("cds_service.") and _unit(target) != source:
                    graph[source].add(_unit(target))
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    assert _cycle(import_graph()) is None


def test_each_package_imports_only_what_it_may() -> None:
    graph = import_graph()
    unknown = sorted(set(graph) - set(MAY_IMPORT))
    assert not unknown, f"packages with no import rule (add them to MAY_IMPORT and docs/ARCHITECTURE.md): {unknown}"
    breaches = {unit: sorted(targets - MAY_IMPORT[unit]) for unit, targets in graph.items()}
    breaches = {unit: extra for unit, extra in breaches.items() if extra}
    assert not breaches


def test_a_cycle_is_detected_when_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
