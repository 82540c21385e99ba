"""The `crs-cds` command: serve, evaluate a request offline, check the knowledge files, validate scenarios."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cds_service.errors import CrsCdsError, KnowledgeError, outcome_for
from cds_service.settings import Settings


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SystemExit(f"crs-cds: invalid settings: {exc}") from None


def configure_logging(level: str) -> None:
    """Plain structured-ish lines on stderr, with tokens masked by the redaction filter."""
    from cds_service.security.redaction import RedactionFilter

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        "cds_service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_config=None,
        server_header=False,
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from cds_service.tooling.offline import evaluate_file

    settings = _settings()
    configure_logging("WARNING")
    try:
        response = asyncio.run(evaluate_file(Path(args.request), settings, service_id=args.service))
    except CrsCdsError as exc:
        print(json.dumps(outcome_for(exc), indent=2))
        return 2
    print(json.dumps(response, indent=2))
    return 0


def cmd_check_knowledge(args: argparse.Namespace) -> int:
    from cds_service.knowledge.loader import load_knowledge
    from cds_service.knowledge.summary import summarise
    from cds_service.rendering.templates import load_templates

    settings = _settings()
    try:
        knowledge = load_knowledge(settings.knowledge_dir, settings.site_knowledge_file)
        load_templates(settings.knowledge_dir / "templates")
    except KnowledgeError as exc:
        print(f"knowledge invalid: {exc.message}", file=sys.stderr)
        return 1
    print(summarise(knowledge))
    return 0


def cmd_check_request(args: argparse.Namespace) -> int:
    from cds_service.knowledge.loader import load_knowledge
    from cds_service.tooling.conformance import check_request, render

    settings = _settings()
    try:
        knowledge = load_knowledge(settings.knowledge_dir, settings.site_knowledge_file)
        report = check_request(Path(args.request), knowledge)
    except (OSError, ValueError) as exc:
        print(f"crs-cds check-request: cannot read {args.request}: {exc}", file=sys.stderr)
        return 2
    print(render(report))
    return 0 if report.readable else 1


def cmd_validate(args: argparse.Namespace) -> int:
    from cds_service.tooling.scenarios import ScenarioError, default_now
    from cds_service.tooling.validation import render_table, summary_line, validate_fixtures, write_validation_report

    now = default_now()
    try:
        results = validate_fixtures(Path(args.fixtures), now=now)
    except ScenarioError as exc:
        print(f"crs-cds validate: {exc}", file=sys.stderr)
        return 2
    print(render_table(results, markdown=False))
    print(summary_line(results))
    if args.report:
        write_validation_report(Path(args.report), results, now)
    return 0 if results and all(r.passed for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crs-cds", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the CDS Hooks service (settings from CRS_CDS_* variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: the number of cores; see README: several workers)",
    )
    serve.set_defaults(func=cmd_serve)

    evaluate = sub.add_parser("evaluate", help="print the response a hook request would get, offline")
    evaluate.add_argument("request", help="a CDS Hooks request JSON file")
    evaluate.add_argument("--service", help="service id (default: chosen from the request's hook)")
    evaluate.set_defaults(func=cmd_evaluate)

    check = sub.add_parser("check-knowledge", help="validate cards/ and print a summary")
    check.set_defaults(func=cmd_check_knowledge)

    conformance = sub.add_parser(
        "check-request", help="print the FHIR R4 conformance problems of a hook request (for integrators)"
    )
    conformance.add_argument("request", help="a CDS Hooks request JSON file")
    conformance.set_defaults(func=cmd_check_request)

    validate = sub.add_parser("validate", help="run every scenario in fixtures/ and print a table")
    validate.add_argument("--fixtures", default="fixtures")
    validate.add_argument("--report", help="also write the table as Markdown to this file")
    validate.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
