"""Text normalisation and whole-token phrase matching for medication, treatment and device names.

Text is lower-cased, accents are stripped and every run of non-alphanumeric characters splits tokens, so
"Rituximab-ABBS 500 mg", "rituximab abbs" and "RITUXIMAB/abbs" all give the tokens rituximab, abbs (+ dose).
A phrase matches only a whole sequence of tokens: "rituximab" is never found inside "ritonavir" and "tec"
never inside "tecfidera". Hyphens are remembered: a match glued by a hyphen to a neighbouring token is refused
("nivolumab-like", "nor-epinephrine" for epinephrine) unless the glued token after it is a four-letter
biosimilar suffix ("rituximab-abbs", "teclistamab-cqyv").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")

_TOKEN = re.compile(r"[a-z0-9]+")
# English four-letter words that follow a name in phrases like "nivolumab-like"; never biosimilar suffixes.
_NOT_SUFFIXES = frozenset(
    {"like", "type", "free", "only", "base", "dose", "drug", "test", "cell", "form", "bags"}
)


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens of one text and, per token, whether a hyphen glues it to the token before."""

    words: tuple[str, ...]
    glued: tuple[bool, ...]


def fold(text: str) -> str:
    """Lower-case text with accents removed (NFKD), for comparison."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


#: Texts repeat across calls (the same medication, Observation and Condition names on every chart): tokenising
#: them is most of the knowledge lookups' cost, so the tokens of the most recent texts are kept (docs/PERFORMANCE.md).
TOKEN_CACHE_SIZE = 16_384


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def tokenize(text: str) -> Tokens:
    """Split folded text into alphanumeric tokens, recording hyphen-glued ones (immutable, so cached by text)."""
    folded = fold(text)
    words: list[str] = []
    glued: list[bool] = []
    previous_end = -1
    for match in _TOKEN.finditer(folded):
        between = folded[previous_end : match.start()] if previous_end >= 0 else ""
        words.append(match.group())
        glued.append(between == "-")
        previous_end = match.end()
    return Tokens(tuple(words), tuple(glued))


def normalise(text: str) -> str:
    """Canonical form of a name: its tokens joined by single spaces."""
    return " ".join(tokenize(text).words)


def _is_suffix(word: str) -> bool:
    return len(word) == 4 and word.isalpha() and word not in _NOT_SUFFIXES


@dataclass(frozen=True, slots=True)
class PhraseHit(Generic[T]):
    value: T
    phrase: str  # normalised phrase that matched
    length: int  # in tokens
    priority: int


class PhraseIndex(Generic[T]):
    """Phrases (token sequences) mapped to values, searched in one pass over a text's tokens."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], T, int]]] = {}
        self._owner: dict[tuple[str, ...], T] = {}

    def add(self, phrase: str, value: T, priority: int = 1) -> T | None:
        """Register a phrase; returns the value that already owned it (a conflict), else None."""
        words = tokenize(phrase).words
        if not words:
            raise ValueError(f"phrase {phrase!r} has no letters or digits")
        if words in self._owner:
            previous = self._owner[words]
            return previous if previous != value else None
        self._owner[words] = value
        bucket = self._by_first.setdefault(words[0], [])
        bucket.append((words, value, priority))
        bucket.sort(key=lambda item: -len(item[0]))
        return None

    def __len__(self) -> int:
        return len(self._owner)

    def search(self, texts: Iterable[str]) -> PhraseHit[T] | None:
        """The best phrase found in any text: highest priority, then most tokens, then first seen."""
        best: PhraseHit[T] | None = None
        for text in texts:
            for hit in self._hits(tokenize(text)):
                if best is None or (hit.priority, hit.length) > (best.priority, best.length):
                    best = hit
        return best

    def first_start(self, text: str) -> int | None:
        """Token position of the earliest phrase found in the text, or None when none is."""
        tokens = tokenize(text)
        return next((start for start, _ in self._starts(tokens)), None)

    def spans(self, tokens: Tokens) -> Iterable[tuple[int, int, T]]:
        """(start, end, value) of each phrase found in the tokens (the longest at each start)."""
        for start, hit in self._starts(tokens):
            yield start, start + hit.length, hit.value

    def _hits(self, tokens: Tokens) -> Iterable[PhraseHit[T]]:
        for _, hit in self._starts(tokens):
            yield hit

    def _starts(self, tokens: Tokens) -> Iterable[tuple[int, PhraseHit[T]]]:
        words, glued = tokens.words, tokens.glued
        for start, word in enumerate(words):
            if glued[start]:
                continue  # "nor-epinephrine" is not "epinephrine"
            for phrase, value, priority in self._by_first.get(word, ()):
                end = start + len(phrase)
                if words[start:end] == phrase and _clean_end(words, glued, end):
                    yield start, PhraseHit(value, " ".join(phrase), len(phrase), priority)
                    break  # longest phrase at this start wins


def _clean_end(words: tuple[str, ...], glued: tuple[bool, ...], end: int) -> bool:
    """True when the match is not glued by a hyphen to a following word (biosimilar suffixes excepted)."""
    return end >= len(words) or not glued[end] or _is_suffix(words[end])
