"""Limits on hostile JSON, checked on the raw bytes before any parser sees them.

`check_json_limits(raw, max_depth=..., max_elements=...)` refuses bodies that nest deeper than `max_depth` or
hold more than `max_elements` values, without recursion and in linear time, using only C-speed bytes
operations plus one bounded pass over the brackets:

1. escapes are removed (`\\\\` pairs first, then `\\"`), so every remaining `"` delimits a string;
2. everything but `"` `[` `]` `{` `}` `,` is deleted, and empty strings (`""`) are dropped; the few strings
   left are those that contain brackets or commas, and splitting on `"` discards their insides;
3. what is left is the skeleton: commas and brackets outside strings. Elements are counted as
   commas + opening brackets + 1 (an upper bound on the number of values, containers included);
4. depth: objects are mapped to arrays, every innermost `[]` pair is removed in one pass (depth drops by
   exactly one), and the running depth of the rest is accumulated in chunks, stopping at the first excess.

Malformed JSON (an unterminated string, unbalanced brackets) may be counted loosely; the parser then
refuses it.
"""

from __future__ import annotations

from itertools import accumulate

from cds_service.errors import InvalidRequest

_STRUCTURE = b'[]{},"'
_DELETE_NON_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)
_DELETE_NON_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELETE_NON_BRACKETS_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')
_OBJECTS_AS_ARRAYS = bytes.maketrans(b"{}", b"[]")
_SIGNED_STEPS = bytes.maketrans(b"[]", b"\x01\xff")  # +1 / -1 as signed bytes
_CHUNK = 64 * 1024


def _skeleton(raw: bytes, delete: bytes = _DELETE_NON_STRUCTURE) -> bytes:
    """Brackets (and commas, with the default `delete`) that lie outside JSON strings."""
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in raw else raw
    return _outside_strings(unescaped.translate(None, delete))


def _outside_strings(structure: bytes) -> bytes:
    """`structure` (structural bytes and quotes of unescaped JSON) without what lies inside strings."""
    structure = structure.replace(b'""', b"")
    if b'"' not in structure:
        return structure
    return b"".join(structure.split(b'"')[::2])


def _depth_exceeds(skeleton: bytes, max_depth: int) -> bool:
    """True when the brackets of `skeleton` nest deeper than `max_depth`.

    Each pass removes every innermost pair, so the depth drops by exactly one: balanced brackets are gone after
    as many passes as they nest deep (a typical request: about ten passes over a few kilobytes). Brackets that
    a pass cannot shorten are unbalanced; their running depth is read instead."""
    brackets = skeleton.translate(_OBJECTS_AS_ARRAYS, _DELETE_NON_BRACKETS)
    for removed in range(max_depth):
        if not brackets:
            return False
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            return _max_depth(brackets, stop_above=max_depth - removed) > max_depth - removed
        brackets = inner
    return bool(brackets)


def _max_depth(brackets: bytes, *, stop_above: int) -> int:
    """The greatest running depth of `brackets` (only [ and ]), or the first value above `stop_above`."""
    steps = memoryview(brackets.translate(_SIGNED_STEPS)).cast("b")
    running = peak = 0
    for start in range(0, len(steps), _CHUNK):
        depths = list(accumulate(steps[start : start + _CHUNK], initial=running))
        peak = max(peak, max(depths))
        if peak > stop_above:
            return peak
        running = depths[-1]
    return peak


def check_json_limits(raw: bytes, *, max_depth: int, max_elements: int) -> None:
    """InvalidRequest when `raw` JSON nests deeper than `max_depth` or holds over `max_elements` values.

    Counted on the raw bytes first (commas and brackets inside strings included: an upper bound); only a body over
    a bound is read exactly, and the depth is read on the brackets alone (commas in text, common in FHIR display
    strings, would otherwise keep most strings in the skeleton)."""
    structure = raw.translate(None, _DELETE_NON_STRUCTURE)  # one pass over the body; counting is then cheap
    opening_bound = structure.count(b"[") + structure.count(b"{")
    if structure.count(b",") + opening_bound + 1 > max_elements:
        skeleton = _skeleton(raw)
        if skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{") + 1 > max_elements:
            raise InvalidRequest(f"request JSON has more than {max_elements} elements")
    if opening_bound <= max_depth:
        return
    # Without escapes the structure already holds every bracket and quote (the usual case: no second pass).
    if b"\\" in raw:
        brackets = _skeleton(raw, _DELETE_NON_BRACKETS_QUOTES)
    else:
        brackets = _outside_strings(structure.translate(None, b","))
    if _depth_exceeds(brackets, max_depth):
        raise InvalidRequest(f"request JSON nests deeper than {max_depth} levels")
