"""JSON limits: deep nesting and huge element counts are refused before parsing; strings are not counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.errors import InvalidRequest
from cds_service.security.json_limits import check_json_limits

DEPTH, ELEMENTS = 16, 1000


def check(raw: bytes, max_depth: int = DEPTH, max_elements: int = ELEMENTS) -> None:
    check_json_limits(raw, max_depth=max_depth, max_elements=max_elements)


def nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


def test_nesting_at_the_limit_is_accepted() -> None:
    check(nested(DEPTH))
    check(b'{"a":' * (DEPTH - 1) + b"{}" + b"}" * (DEPTH - 1))


@pytest.mark.parametrize("raw", [nested(DEPTH + 1), b'{"a":' * DEPTH + b"[]" + b"}" * DEPTH, b"[" * 1_000_000])
def test_nesting_beyond_the_limit_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidRequest, match="nests deeper than 16"):
        check(raw, max_elements=10**7)


def test_deep_nesting_after_many_shallow_siblings_is_found() -> None:
    raw = b"[" + b"[1,2],[3]," * 20000 + nested(DEPTH) + b"]"
    with pytest.raises(InvalidRequest, match="nests deeper"):
        check(raw, max_elements=10**6)


def test_a_huge_array_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="more than 1000 elements"):
        check(json.dumps(list(range(1000))).encode())


def test_an_array_at_the_element_limit_is_accepted() -> None:
    check(json.dumps(list(range(999))).encode())  # 999 numbers + the array itself


def test_brackets_and_commas_inside_strings_are_not_counted() -> None:
    raw = json.dumps({"note": "[" * 5000 + "," * 5000 + "{" * 5000, "code": "]]]}}}"}).encode()
    check(raw)


def test_escaped_quotes_do_not_end_a_string_early() -> None:
    raw = json.dumps(['he said \\"[[[[', '"' + "[" * 100 + '"', "\\", "\\\\" + "[" * 50]).encode()
    check(raw)


def test_an_escaped_backslash_before_a_closing_quote_ends_the_string() -> None:
    # "a\\" is a complete string; the brackets after it are real structure.
    raw = b'["a\\\\", ' + nested(DEPTH) + b"]"
    with pytest.raises(InvalidRequest, match="nests deeper"):
        check(raw)


def test_unicode_escapes_and_non_ascii_text_are_harmless() -> None:
    check(json.dumps({"name": "Zoë \u005b[", "x": ["\u2603"] * 10}, ensure_ascii=False).encode())


def test_empty_and_scalar_documents_pass() -> None:
    for raw in (b"", b"1", b'"[[["', b"null", b"{}"):
        check(raw)


def _shape(value: Any) -> tuple[int, int]:
    """(depth, values + empty containers) of a parsed JSON value, computed iteratively."""
    depth = count = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        count += 1
        if isinstance(item, list | dict):
            depth = max(depth, level)
            children = list(item.values()) if isinstance(item, dict) else item
            count += not children
            stack.extend((child, level + 1) for child in children)
    return depth, count


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{},"\\ab:', max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_limits_agree_with_the_parsed_shape_of_any_document(value: Any) -> None:
    raw = json.dumps(value).encode()
    depth, count = _shape(value)
    check(raw, max_depth=max(depth, 1), max_elements=count)
    if depth > 1:
        with pytest.raises(InvalidRequest, match="nests deeper"):
            check(raw, max_depth=depth - 1, max_elements=count)
    with pytest.raises(InvalidRequest, match="elements"):
        check(raw, max_depth=max(depth, 1), max_elements=count - 1)
