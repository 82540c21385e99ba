"""load_knowledge: read cards/*.yaml, validate each file, cross-check them, build the KnowledgeBase.

Any problem raises KnowledgeError naming the file, the entry (its id) and the field, e.g.

    drugs/car-t.yaml: entry 'tisagenlecleucel', field 'codes[0].code': 'L01XL4' is not a well-formed ATC code
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cds_service.errors import KnowledgeError
from cds_service.knowledge.base import KnowledgeBase
from cds_service.knowledge.build import Catalogue, build_knowledge
from cds_service.knowledge.dosing import DosingFile
from cds_service.knowledge.neuro import IcansFile
from cds_service.knowledge.periods import MonitoringPeriodFile
from cds_service.knowledge.plausibility import PlausibilityFile
from cds_service.knowledge.schema import (
    BaselineFile,
    ConditionFile,
    DrugFile,
    ObservationFile,
    SourceFile,
    SystemFile,
    TreatmentFile,
    VasopressorFile,
)
from cds_service.knowledge.site import SiteFile
from cds_service.knowledge.thresholds import ThresholdFile

M = TypeVar("M", bound=BaseModel)

FILES: dict[str, type[BaseModel]] = {
    "sources.yaml": SourceFile,
    "code-systems.yaml": SystemFile,
    "vasopressors.yaml": VasopressorFile,
    "treatments.yaml": TreatmentFile,
    "observations.yaml": ObservationFile,
    "conditions.yaml": ConditionFile,
    "thresholds.yaml": ThresholdFile,
    "plausibility.yaml": PlausibilityFile,
    "icans.yaml": IcansFile,
    "dosing.yaml": DosingFile,
    "monitoring-periods.yaml": MonitoringPeriodFile,
    "baseline-monitoring.yaml": BaselineFile,
}


def load_knowledge(knowledge_dir: Path, site_file: Path | None = None) -> KnowledgeBase:
    """Load and cross-check the knowledge files under knowledge_dir (and the optional site file).

    Raises KnowledgeError naming file, entry and field for any invalid, missing or inconsistent content.
    """
    digest = hashlib.sha256()
    parsed: dict[str, BaseModel] = {}
    for name, model in FILES.items():
        parsed[name] = read_model(knowledge_dir / name, model, name, digest)
    drug_dir = knowledge_dir / "drugs"
    drug_paths = sorted(drug_dir.glob("*.yaml")) if drug_dir.is_dir() else []
    if not drug_paths:
        raise KnowledgeError(f"drugs/: no drug catalogue files (*.yaml) under {drug_dir}")
    drug_files = {f"drugs/{p.name}": read_model(p, DrugFile, f"drugs/{p.name}", digest) for p in drug_paths}
    site = read_model(site_file, SiteFile, site_file.name, digest) if site_file else None
    catalogue = Catalogue(
        sources=_as(parsed["sources.yaml"], SourceFile),
        systems=_as(parsed["code-systems.yaml"], SystemFile),
        drug_files=drug_files,
        vasopressors=_as(parsed["vasopressors.yaml"], VasopressorFile),
        treatments=_as(parsed["treatments.yaml"], TreatmentFile),
        observations=_as(parsed["observations.yaml"], ObservationFile),
        conditions=_as(parsed["conditions.yaml"], ConditionFile),
        thresholds=_as(parsed["thresholds.yaml"], ThresholdFile),
        plausibility=_as(parsed["plausibility.yaml"], PlausibilityFile),
        icans=_as(parsed["icans.yaml"], IcansFile),
        dosing=_as(parsed["dosing.yaml"], DosingFile),
        periods=_as(parsed["monitoring-periods.yaml"], MonitoringPeriodFile),
        baseline=_as(parsed["baseline-monitoring.yaml"], BaselineFile),
        site=site,
        site_name=site_file.name if site_file else None,
    )
    return build_knowledge(catalogue, version=f"kb-{digest.hexdigest()[:12]}")


def read_model(path: Path, model: type[M], name: str, digest: Any = None) -> M:
    """Parse one YAML file into its schema model; errors name the file, the entry and the field."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{name}: cannot read {path} ({exc.strerror})") from exc
    if digest is not None:
        digest.update(name.encode() + b"\0" + raw_bytes + b"\0")
    try:
        data = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{name}: not valid YAML ({_yaml_where(exc)})") from exc
    if not isinstance(data, dict):
        raise KnowledgeError(f"{name}: entry '(file)', field '(root)': expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeError(_describe(name, data, exc)) from exc


def _describe(name: str, data: dict[str, Any], exc: ValidationError) -> str:
    """Validation errors as 'file: entry <id>, field <path>: message', the first three of them."""
    parts = []
    for error in exc.errors()[:3]:
        entry, field_path = _entry_and_field(data, tuple(error["loc"]))
        parts.append(f"entry '{entry}', field '{field_path}': {error['msg']}")
    more = len(exc.errors()) - len(parts)
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{name}: " + "; ".join(parts) + suffix


def _entry_and_field(data: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, str]:
    if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
        items = data.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        ident = item.get("id") or item.get("drug_id") if isinstance(item, dict) else None
        entry = str(ident) if ident else f"{loc[0]}[{loc[1]}]"
        return entry, _path(loc[2:]) or "(entry)"
    if len(loc) >= 2:
        return str(loc[0]), _path(loc[1:])
    return "(file)", _path(loc) or "(root)"


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "syntax error"


def _as(value: BaseModel, model: type[M]) -> M:
    assert isinstance(value, model)  # noqa: S101 - FILES maps each name to this model
    return value
