"""The bedside shape every warning and critical card follows, in this order (issue 14):

    **Found:** what the chart shows, values rounded as a clinician writes them, times with their zone.
    **ASTCT 2019:** how the grade was reached (the conclusion, not every step).
    **Not recorded or not usable:** what could change the result, once each.
    **Do now** (at most 5 bullets)      what to do for this grade and this patient.
    **Consider** (at most 3 bullets)    what else this patient's chart points to.
    Sources: each source once, by its short label.

At most MAX_WORDS words and MAX_BULLETS bullets in the detail (tests/rendering/test_bedside_shape.py checks
every card of every scenario). Lines here are already escaped Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cds_service.rendering.markdown import bullets, escape

MAX_WORDS = 150
MAX_BULLETS = 8
MAX_NOW = 5
MAX_CONSIDER = 3


@dataclass(slots=True)
class Bedside:
    found: list[str] = field(default_factory=list)  # sentences
    grade: list[str] = field(default_factory=list)  # sentences
    missing: list[str] = field(default_factory=list)  # items, joined by "; "
    now: list[str] = field(default_factory=list)  # bullets
    consider: list[str] = field(default_factory=list)  # bullets
    sources: list[str] = field(default_factory=list)  # short labels

    def cite(self, labels: Sequence[str]) -> None:
        for label in labels:
            if label not in self.sources:
                self.sources.append(label)

    def markdown(self, headings: dict[str, str]) -> str:
        """The detail, each part only when it has something to say; no line twice."""
        blocks: list[str] = []
        if self.found:
            blocks.append(f"{headings['found']} " + " ".join(_unique(self.found)))
        if self.grade:
            blocks.append(f"{headings['grade']} " + " ".join(_unique(self.grade)))
        if self.missing:
            items = [item.rstrip().rstrip(".") for item in self.missing]
            blocks.append(f"{headings['missing']} " + "; ".join(_unique(items)) + ".")
        if self.now:
            blocks.append(f"{headings['now']}\n\n" + bullets([_sentence(x) for x in _unique(self.now)[:MAX_NOW]]))
        if self.consider:
            lines = [_sentence(x) for x in _unique(self.consider)[:MAX_CONSIDER]]
            blocks.append(f"{headings['consider']}\n\n" + bullets(lines))
        if self.sources:
            blocks.append("Sources: " + "; ".join(escape(s) for s in self.sources) + ".")
        return "\n\n".join(blocks)


def _sentence(line: str) -> str:
    """A bullet ends as a sentence does."""
    line = line.rstrip()
    return line if line.endswith((".", "!", "?", ")")) and not line.endswith("(per local protocol)") else line + "."


def _unique(lines: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(line for line in lines if line))
