"""The wording toolkit of one card: template lookups, summaries that fit, shared detail blocks, citations.

A `CardText` is built per finding; the per-template modules (`rendering.crs`, `rendering.orders`) use it to
choose
a summary variant and assemble the detail. Values from data are escaped here, never in the templates.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from cds_service.cdshooks.models import SUMMARY_MAX
from cds_service.domain.findings import Finding
from cds_service.rendering.knowledge_view import DrugView, KnowledgeView
from cds_service.rendering.markdown import bullets, escape, heading, number, plain
from cds_service.rendering.registry import DRUG_LABEL_SOURCE, SIGNAL_PARAMS, WARNING_SIGNALS
from cds_service.rendering.templates import CardTemplate, Item, TemplateSet, fill

#: The CDS Hooks spec says "<140 characters"; the wire model allows 140. We stay strictly below.
SUMMARY_BUDGET = SUMMARY_MAX - 1
_ELLIPSIS = "…"
_TIME_KEYS = frozenset({"effective", "onset"})

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CardText:
    """Wording helpers bound to one finding, its template and its drug; collects the references it cites."""

    templates: TemplateSet
    kb: KnowledgeView
    finding: Finding
    cited: dict[str, str] = field(default_factory=dict)  # short name -> full citation, in citation order
    zone: tzinfo = UTC  # the display time zone (Settings.time_zone)
    now: datetime | None = None  # the renderer's clock, for "today" in times

    @property
    def warning_signals(self) -> frozenset[str]:
        return WARNING_SIGNALS

    def when(self, moment: datetime | str | None) -> str:
        """A time as cards write it, in the display zone with its name: "09:00 CET", "23 Nov 14:20 CET"."""
        if moment is None:
            return self.templates.phrase("unknown")
        if isinstance(moment, str):
            try:
                moment = datetime.fromisoformat(moment)
            except ValueError:
                return str(moment)
        local = moment.astimezone(self.zone)
        zone = local.strftime("%Z") or "UTC"
        today = datetime.now(self.zone).date() if self.now is None else self.now.astimezone(self.zone).date()
        if local.date() == today:
            return f"{local:%H:%M} {zone}"
        return f"{local.day} {local:%b %H:%M} {zone}"

    def local(self, line: str) -> str:
        """An institution-specific line: "... (per local protocol)." (its own full stop moved after the note); a
        line that already names the local protocol is left as it is."""
        if "local protocol" in line.lower():
            return line
        return self.templates.phrase("per-local-protocol", text=line.rstrip().rstrip("."))

    def item_line_kb(self, item: Item, card: Any) -> str:
        """A template list item citing knowledge sources by short label (collected on the bedside card)."""
        if item.local:
            return self.local(escape(item.text))
        card.cite([self.kb.short_source(source) for source in item.sources])
        return escape(item.text)

    def context_line(self, item: Mapping[str, Any]) -> str | None:
        """One differential item with its values (clinical/differential.py), worded by differentials.yaml."""
        item_id = str(item.get("id"))
        entry = self.templates.differentials.get(item_id)
        if entry is None:
            return None
        values = {k: self._context_value(k, v) for k, v in item.items()}
        child = self.params.get("paediatric") is True
        wording = entry.paediatric if child and entry.paediatric else entry.text
        if item_id == "adrenal" and item.get("steroid_days") is None:
            wording = entry.low_cortisol or wording
        return escape(fill(wording, values))

    def _context_value(self, name: str, value: object) -> str:
        if value is None:
            return ""
        if name in ("effective", "cortisol_effective") and isinstance(value, str):
            return self.when(value)
        return number(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)

    @property
    def template(self) -> CardTemplate:
        return self.templates.card(self.finding.template)

    @property
    def params(self) -> Mapping[str, Any]:
        return self.finding.params

    @property
    def drug(self) -> DrugView | None:
        """The knowledge-base entry of the finding's drug, if any."""
        return self.kb.drugs.get(self.finding.drug.id) if self.finding.drug else None

    @property
    def drug_name(self) -> str:
        """The drug's name as the rule gave it, else the finding's drug reference, else ''."""
        name = self.params.get("drug_name") or (self.finding.drug.name if self.finding.drug else "")
        return plain(name)

    # ------------------------------------------------------------ summaries

    def summary(
        self, variant: str, values: Mapping[str, object], shrink: str, candidates: Sequence[str]
    ) -> str:
        """The summary `variant` filled with `values`; `shrink` takes the first candidate that fits."""
        text = self.template.summaries[variant]
        for candidate in candidates:
            filled = _capitalised(fill(text, {**values, shrink: candidate}))
            if len(filled) <= SUMMARY_BUDGET:
                return filled
        base = _capitalised(fill(text, {**values, shrink: ""}))
        room = SUMMARY_BUDGET - len(base) - len(_ELLIPSIS)
        last = candidates[-1] if candidates else ""
        filled = _capitalised(fill(text, {**values, shrink: last[: max(room, 1)].rstrip() + _ELLIPSIS}))
        return filled if len(filled) <= SUMMARY_BUDGET else filled[: SUMMARY_BUDGET - 1] + _ELLIPSIS

    def list_candidates(self, names: Sequence[str]) -> list[str]:
        """Ways to say a list, longest first: all of it, the first and a count, a count alone."""
        names = [plain(n) for n in names if plain(n)]
        if not names:
            return [""]
        if len(names) == 1:
            return [names[0]]
        full = ", ".join(names[:-1]) + " and " + names[-1]
        first = self.templates.phrase("and-others", first=names[0], count=len(names) - 1)
        return [full, first, self.templates.phrase("count-items", count=len(names)), names[0]]

    def drug_candidates(self) -> list[str]:
        """The finding's drug plus `other_drugs`, longest first (the primary drug always named)."""
        others = [o for o in self.params.get("other_drugs") or [] if plain(o) != self.drug_name]
        candidates = self.list_candidates([self.drug_name, *others])
        return [c for c in candidates if c.startswith(self.drug_name)] or [self.drug_name]

    def days_phrase(self, prefix: str, days: int | None) -> str:
        """ "3 days after" / "on day 3 after" style phrases (prefix "days-after" or "on-day")."""
        if days is None:
            return self.templates.phrase(f"{prefix}-unknown")
        if days <= 0:
            return self.templates.phrase(f"{prefix}-zero")
        if days == 1 and prefix == "days-after":
            return self.templates.phrase("days-after-one")
        return self.templates.phrase(f"{prefix}-many", n=days)

    # ------------------------------------------------------------ detail

    def section(self, key: str, **values: object) -> str:
        """A detail paragraph of the template, filled with escaped values."""
        return fill(self.template.sections[key], {k: escape(_display(v)) for k, v in values.items()})

    def heading(self, key: str) -> str:
        return heading(self.templates.common.headings[key])

    def cite(self, sources: Sequence[str]) -> str:
        """Short names of `sources` joined by "; ", remembering the full citations for the Sources section."""
        names: list[str] = []
        for source in sources:
            if source == DRUG_LABEL_SOURCE:
                short, citation = self.drug_label_reference()
            else:
                reference = self.templates.links.references[source]
                short, citation = reference.short, reference.citation
            self.cited.setdefault(short, citation)
            names.append(short)
        return "; ".join(names)

    def drug_label_reference(self) -> tuple[str, str]:
        """(short, citation) of the drug's label."""
        name = self.drug_name or "drug"
        return f"{name} label", f"{name} US prescribing information"

    def list_block(self, heading_key: str, lines: Sequence[str], *, escaped: bool = False) -> str | None:
        """A heading and a bullet list, or None when there are no lines."""
        if not lines:
            return None
        body = bullets(lines if escaped else [escape(line) for line in lines])
        return self.heading(heading_key) + "\n\n" + body

    def signal_lines(self, signals: Sequence[Mapping[str, Any]]) -> list[str]:
        """One sentence per known signal, warning signals first; unknown ids are logged and left out."""
        ordered = sorted(signals, key=lambda s: s.get("id") not in WARNING_SIGNALS)
        lines = []
        for signal in ordered:
            signal_id = signal.get("id")
            wording = self.templates.signals.get(str(signal_id))
            if wording is None or signal_id not in SIGNAL_PARAMS:
                log.warning("no wording for signal id %r; left out of the card", signal_id)
                continue
            values = {name: self._signal_value(name, signal.get(name)) for name in SIGNAL_PARAMS[signal_id]}
            lines.append(fill(wording.text, values))
        return lines

    def signal_shorts(self, signals: Sequence[Mapping[str, Any]]) -> list[str]:
        """The short names of the warning signals, in the order the card states them."""
        names = []
        for signal in sorted(signals, key=lambda s: s.get("id") not in WARNING_SIGNALS):
            wording = self.templates.signals.get(str(signal.get("id")))
            if signal.get("id") in WARNING_SIGNALS and wording is not None and wording.short:
                values = {n: self._signal_value(n, signal.get(n)) for n in SIGNAL_PARAMS[str(signal.get("id"))]}
                names.append(fill(wording.short, values))
        return names

    def _signal_value(self, name: str, value: object) -> str:
        if value is None:
            return self.templates.phrase("unknown")
        return escape(self.when(value) if name in _TIME_KEYS and isinstance(value, str) else _display(value))

    def concept(self, name: object) -> str:
        """The display name of a concept id ("ldh" -> "LDH"); unknown ids as given."""
        return self.templates.common.concepts.get(str(name), plain(name))

    def age_text(self) -> str:
        years = self.params.get("age_years")
        return self.templates.phrase("age-years", years=number(years)) if years is not None else ""


def _display(value: object) -> str:
    """Numbers as `number` shows them; anything else as text."""
    return number(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
