"""The redaction filter masks tokens wherever they appear in a log record, and leaves other text alone."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from security_helpers import mint

from cds_service.security.redaction import RedactionFilter, redact

OPAQUE = "opaque-access-token-1234567890"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose handler carries the filter, writing to a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger("tests.security.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_jwt_in_the_message_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    token = mint()
    logger.info(f"got {token} from the EHR")
    assert token not in stream.getvalue()
    assert token.split(".")[1] not in stream.getvalue()
    assert "got [REDACTED-JWT] from the EHR" in stream.getvalue()


def test_a_jwt_in_the_arguments_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    token = mint()
    logger.warning("header=%s count=%d", f"Bearer {token}", 3)
    assert token.split(".")[2] not in stream.getvalue()
    assert "header=Bearer [REDACTED] count=3" in stream.getvalue()


def test_an_opaque_bearer_token_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("Authorization: %s", f"Bearer {OPAQUE}")
    assert OPAQUE not in stream.getvalue()


def test_an_access_token_in_json_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info('fhirAuthorization={"access_token": "%s", "token_type": "Bearer"}', OPAQUE)
    assert OPAQUE not in stream.getvalue()
    assert '"token_type": "Bearer"' in stream.getvalue()


def test_a_token_in_an_exception_traceback_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    token = mint()
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        logger.exception("failed")
    assert token not in stream.getvalue()
    assert "ValueError: bad token [REDACTED-JWT]" in stream.getvalue()


def test_ordinary_messages_pass_unchanged(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("module cds_service.security.authenticator: %d%% of %s", 50, "the bearer token check")
    assert stream.getvalue().strip() == "module cds_service.security.authenticator: 50% of the bearer token check"


def test_the_filter_never_drops_a_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s %s", ("only-one",), None)
    assert RedactionFilter().filter(record) is True


def test_redact_masks_three_long_base64url_segments_without_the_usual_header() -> None:
    odd = "QUFBQUFBQUFBQUFBQUFBQQ.QkJCQkJCQkJCQkJCQkJCQg.Q0NDQ0NDQ0NDQ0NDQ0NDQw"
    assert redact(f"x {odd} y") == "x [REDACTED-JWT] y"


def test_very_long_log_text_is_cut_before_it_is_scanned():
    from cds_service.security.redaction import MAX_LOGGED_CHARS, redact

    masked = redact("GET /" + "A" * 1_000_000 + " eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2ln")
    assert len(masked) <= MAX_LOGGED_CHARS + len(" [truncated]")
    assert masked.endswith("[truncated]")
