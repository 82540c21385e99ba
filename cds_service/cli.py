"""The `crs-cds` command: serve, evaluate a request offline, check the knowledge files, validate scenarios,
and manage the store database (`crs-cds db upgrade | current | prune | revision`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cds_service import __version__
from cds_service.errors import CrsCdsError, KnowledgeError, StoreError, outcome_for
from cds_service.settings import Settings


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SystemExit(f"crs-cds: invalid settings: {exc}") from None


def configure_logging(level: str, fmt: str = "json") -> None:
    """JSON lines on stderr with tokens masked (see `observability.logs`)."""
    from cds_service.observability.logs import configure_logging as configure

    configure(level, fmt)


def cmd_serve(args: argparse.Namespace) -> int:
    from cds_service.server import serve

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def parse_time(text: str) -> datetime:
    """`now`, or an ISO 8601 time with a zone (`2026-01-15T12:00:00Z`); argparse type for --at."""
    if text == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z or +01:00)")
    return moment


def cmd_evaluate(args: argparse.Namespace) -> int:
    from cds_service.tooling.offline import evaluate_request, load_request

    settings = _settings()
    configure_logging("WARNING", settings.log_format)
    try:
        offline = load_request(Path(args.request), args.at)
        if args.request_only:
            print(json.dumps(offline.data, indent=2))
            return 0
        response = asyncio.run(evaluate_request(offline, settings, service_id=args.service))
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
    print(f"knowledge from {settings.knowledge_dir}")
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


def _progress(done: int, total: int, result: Any) -> None:
    """One progress line on stderr: rewritten in place on a terminal, every 10th scenario otherwise."""
    verdict = "pass" if result.passed else "FAIL"
    line = f"validate: {done}/{total} {result.scenario.id} {verdict}"
    if sys.stderr.isatty():
        print(f"\r{line[:100]:<100}", end="" if done < total else "\n", file=sys.stderr, flush=True)
    elif done == 1 or done % 10 == 0 or done == total or not result.passed:
        print(line, file=sys.stderr, flush=True)


def cmd_validate(args: argparse.Namespace) -> int:
    from cds_service.tooling.scenarios import ScenarioError, default_now
    from cds_service.tooling.validation import render_table, summary_line, validate_fixtures, write_validation_report

    now = default_now()
    try:
        results = validate_fixtures(Path(args.fixtures), now=now, progress=_progress)
    except ScenarioError as exc:
        print(f"crs-cds validate: {exc}", file=sys.stderr)
        return 2
    print(render_table(results, markdown=False))
    print(summary_line(results))
    if args.report:
        write_validation_report(Path(args.report), results, now)
    return 0 if results and all(r.passed for r in results) else 1


def cmd_db(args: argparse.Namespace) -> int:
    from cds_service.runtime import open_store
    from cds_service.store.migrate import head_revision, new_revision

    if args.db_command == "revision":
        print(f"wrote {new_revision(args.message)}: read it, adjust it, run make test")
        return 0
    settings = _settings()
    store = open_store(settings)
    try:
        if args.db_command == "upgrade":
            before, after = store.upgrade_schema()
            print(f"store ({store.dialect}) at revision {after}" + ("" if before == after else f" (was {before})"))
        elif args.db_command == "current":
            current = store.schema_revision()
            print(f"database {current or '(none)'}, code {head_revision()}")
            return 0 if current == head_revision() else 1
        elif args.db_command == "prune":
            store.require_current_schema()
            cutoff = datetime.now(UTC) - timedelta(days=args.older_than)
            deleted = store.prune_audit(cutoff)
            print(f"deleted {deleted} card audit rows issued before {cutoff.isoformat(timespec='seconds')}")
    except StoreError as exc:
        print(f"crs-cds db {args.db_command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """`crs-cds report feedback`: the governance report of the last WEEKS weeks (text, or --json)."""
    from cds_service.runtime import open_store
    from cds_service.store.report import build_report, report_text

    store = open_store(_settings())
    try:
        store.require_current_schema()
        since = datetime.now(UTC) - timedelta(weeks=args.weeks)
        cards, feedback = store.report_rows(since)
    except StoreError as exc:
        print(f"crs-cds report feedback: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    lines = build_report(cards, feedback)
    if args.json:
        print(json.dumps({"since": since.isoformat(timespec="seconds"), "lines": [x.as_json() for x in lines]},
                         indent=2))
    else:
        print(f"Cards issued since {since.date().isoformat()} (ISO weeks), per rule id:\n")
        print(report_text(lines))
    return 0


def _report_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="governance reports from the card audit and feedback (no patient data)")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    feedback = report_sub.add_parser(
        "feedback", help="per week and rule: cards issued, interruptive share, override rate and reasons, acceptance"
    )
    feedback.add_argument("--weeks", type=int, default=12, help="how many weeks back (default 12)")
    feedback.add_argument("--json", action="store_true", help="print JSON instead of a table")
    report.set_defaults(func=cmd_report)


def _db_parser(sub: Any) -> None:
    db = sub.add_parser("db", help="the store database: migrations and retention (CRS_CDS_DATABASE_URL)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to this version's schema (safe to run every start)")
    db_sub.add_parser("current", help="print the database's schema revision and the code's (exit 1 if behind)")
    prune = db_sub.add_parser("prune", help="delete card audit rows older than DAYS (feedback rows stay)")
    prune.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    revision = db_sub.add_parser("revision", help="(developers) write the next migration from store/tables.py")
    revision.add_argument("-m", "--message", required=True)
    db.set_defaults(func=cmd_db)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crs-cds", description=__doc__)
    parser.add_argument("--version", action="version", version=f"crs-cds {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the CDS Hooks service (settings from CRS_CDS_* variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: one per core when CRS_CDS_REDIS_URL is set or in development, else 1;"
        " several need CRS_CDS_REDIS_URL in production)",
    )
    serve.set_defaults(func=cmd_serve)

    evaluate = sub.add_parser("evaluate", help="print the response a hook request would get, offline")
    evaluate.add_argument("request", help="a CDS Hooks request JSON file, or a scenario folder (fixtures/scenarios/..)")
    evaluate.add_argument("--service", help="service id (default: chosen from the request's hook)")
    evaluate.add_argument(
        "--at",
        type=parse_time,
        metavar="TIME",
        help="the service's 'now' (ISO 8601 with zone, or 'now'); a scenario folder is shifted to it "
        "(default: a request file at the current time, a scenario at its anchor)",
    )
    evaluate.add_argument(
        "--request-only", action="store_true", help="print the request (a scenario's, shifted) instead of answering it"
    )
    evaluate.set_defaults(func=cmd_evaluate)

    check = sub.add_parser("check-knowledge", help="validate cards/ and print a summary")
    check.set_defaults(func=cmd_check_knowledge)

    conformance = sub.add_parser(
        "check-request", help="print the FHIR R4 conformance problems of a hook request (for integrators)"
    )
    conformance.add_argument("request", help="a CDS Hooks request JSON file")
    conformance.set_defaults(func=cmd_check_request)

    _report_parser(sub)
    validate = sub.add_parser("validate", help="run every scenario in fixtures/ and print a table")
    validate.add_argument("--fixtures", default="fixtures")
    validate.add_argument("--report", help="also write the table as Markdown to this file")
    validate.set_defaults(func=cmd_validate)
    _db_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
