"""`crs-cds` run in the test process (so coverage counts the CLI), with its output and exit status captured.

The CLI applies its logging configuration to the root logger; `run_cli` puts the logging state back afterwards,
so later tests see the logging pytest set up.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from cds_service.cli import main

_TOUCHED_LOGGERS = ("uvicorn", "uvicorn.error")


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    root = logging.getLogger()
    saved = [(root, root.level, root.handlers[:], root.propagate)]
    saved += [(lg, lg.level, lg.handlers[:], lg.propagate) for lg in map(logging.getLogger, _TOUCHED_LOGGERS)]
    try:
        yield
    finally:
        for logger, level, handlers, propagate in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    if env is None:
        yield
        return
    before = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> CliResult:
    """`crs-cds ARGS` with extra environment variables `env`: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with _logging_kept(), _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as exc:  # argparse: --version, usage errors
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return CliResult(status, out.getvalue(), err.getvalue())
