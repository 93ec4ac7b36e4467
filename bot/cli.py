"""Command-line entry points: ingest, ask, checklist, cases, chat, eval, bench, serve, run.

Errors the user can fix (no index yet, unknown stage, empty question) are one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.answers.engine import Engine
    from bot.records import Records

# Terminal control characters (ESC, BEL, CR, the C1 range), as a source or a file name may hold them.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Terminal(Console):
    """A console that shows control characters from sources and file names as �, so that a
    document cannot rewrite the reader's screen."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(CONTROL.sub("\ufffd", o) if isinstance(o, str) else o for o in objects), **kwargs)


err = Terminal(stderr=True, highlight=False, soft_wrap=True)
out = Terminal(highlight=False, soft_wrap=True)
EXIT_USAGE = 2


class CliError(Exception):
    """A one-line, user-facing failure."""


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """What the engine refuses to serve (empty question, unknown stage, module or industry)
    is a one-line error, like any other bad input."""
    from bot.answers.engine import AnswerError

    try:
        yield
    except AnswerError as error:
        raise CliError(str(error)) from error


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="index location (default: from settings)")


def ingest_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingest.py", description="Build or update the knowledge index.", add_help=add_help
    )
    parser.add_argument("sources", nargs="*", type=Path, help="source folders (default: from settings)")
    add_data_dir(parser)
    parser.add_argument("--strict", action="store_true", help="change nothing if any file is rejected")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_ingest(settings: Settings, sources: list[Path], strict: bool, quiet: bool = False) -> int:
    from chromadb.errors import ChromaError
    from sqlalchemy.exc import SQLAlchemyError

    from bot.kb.ingest import IngestError, Ingestor
    from bot.kb.vectors import IndexUnreachable
    from bot.records import RecordsError

    try:
        report = Ingestor.from_settings(settings).run(sources, strict=strict, show_progress=not quiet)
    except (IngestError, IndexUnreachable, RecordsError, ChromaError, SQLAlchemyError) as error:
        err.print(f"ingest failed: {error}", markup=False)
        return 2
    for rejection in report.rejections:
        err.print(f"rejected {rejection}", markup=False)
    for path in report.kept:
        err.print(f"kept the previously indexed version of {path} until it is fixed", markup=False)
    kinds = ", ".join(f"{count} {kind}/{lang}" for (kind, lang), count in sorted(report.by_kind_and_lang.items()))
    out.print(
        f"documents: {len(report.documents)} ({kinds or 'none'}); rejected files: {report.rejected_files}",
        markup=False,
    )
    if report.resumed:
        out.print(f"resumed: {report.resumed} texts' vectors kept from an interrupted run", markup=False)
    if report.glossary_groups:
        out.print(f"glossary: {report.glossary_groups} groups of equivalent terms", markup=False)
    out.print(
        f"chunks: {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.skipped} skipped; {report.seconds:.2f}s",
        markup=False,
    )
    if report.aborted:
        err.print(f"ingest aborted: {report.aborted}", markup=False)
        return 1
    state = "published" if report.changed else "unchanged, still serving"
    where = (
        f"Chroma server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.data_dir
    )
    out.print(f"index: {state} snapshot {report.snapshot} in {where}", markup=False)
    return 1 if report.rejections else 0


def ingest_main(argv: Sequence[str] | None = None) -> int:
    args = ingest_parser().parse_args(argv)
    settings = load_settings(data_dir=args.data_dir)
    return run_ingest(settings, list(args.sources) or list(settings.sources), args.strict, args.quiet)


def open_engine(settings: Settings) -> Engine:
    from bot.answers.baseline import BaselineError
    from bot.answers.engine import Engine
    from bot.answers.generate import LLMConfigError
    from bot.answers.intent_bank import BankError
    from bot.kb.store import IndexMissing
    from bot.kb.vectors import IndexUnreachable
    from bot.records import RecordsError

    try:
        return Engine(settings)
    except (IndexMissing, IndexUnreachable, RecordsError, BankError, BaselineError, LLMConfigError) as error:
        raise CliError(str(error)) from error


def open_records(settings: Settings) -> Records:
    from bot.records import Records, RecordsError

    try:
        return Records.for_settings(settings)
    except RecordsError as error:
        raise CliError(str(error)) from error


def filters_from(args: argparse.Namespace) -> Any:
    from bot.kb.filters import Filters
    from bot.kb.schema import KINDS, STAGES

    kind = getattr(args, "kind", None)
    stage = getattr(args, "stage", None)
    if kind and kind not in KINDS:
        raise CliError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if stage and stage not in STAGES:
        raise CliError(f"unknown stage {stage!r} (expected one of {', '.join(STAGES)})")
    return Filters(kind=kind, stage=stage)


def read_batch(path: str) -> list[str]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read questions from {path}: {error}") from error
    return [line.strip() for line in text.splitlines() if line.strip()]


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch is None and not (args.question or "").strip():
        raise CliError('the question is empty: python -m bot ask "QUESTION"')
    from bot.records import Asked, elapsed_ms

    filters = filters_from(args)
    questions = read_batch(args.batch) if args.batch is not None else [args.question]
    engine, records = open_engine(settings), open_records(settings)
    for question in questions:
        started = time.monotonic()
        with refusals_as_errors():
            answer = engine.ask(question, filters, record=True)
        records.record_answer(answer, Asked("cli", latency_ms=elapsed_ms(started)))
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            out.print(answer.text, markup=False)
            if len(questions) > 1:
                out.print("")
    return 0


def cmd_checklist(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    with refusals_as_errors():
        found = engine.checklist(args.stage, args.module)
    if args.json:
        print(json.dumps({"stage": found.stage, "items": found.items}, ensure_ascii=False))
    else:
        out.print(found.answer.text, markup=False)
    return 0 if found.items else 1


def cmd_cases(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    with refusals_as_errors():
        answer = engine.cases(args.query, industry=args.industry)
    if args.json:
        cards = [
            {
                "doc_id": card.doc_id,
                "customer": card.customer,
                "industry": card.industry,
                "size": card.size,
                "modules": list(card.modules),
                "metrics": [
                    {
                        "name": m.name,
                        "before": m.before,
                        "after": m.after,
                        "unit": m.unit,
                        "period": m.period,
                        "change_pct": None if m.change_pct is None else round(m.change_pct, 2),
                    }
                    for m in card.metrics
                ],
                "quote": card.quote,
                "stale": answer.citations[card.citation - 1].stale,
            }
            for card in answer.cards
        ]
        print(json.dumps({"query": args.query, "industry": args.industry, "cases": cards}, ensure_ascii=False))
    else:
        out.print(answer.text, markup=False)
    return 0 if answer.cards else 1


def cmd_quantify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answers.benchmark import Customer
    from bot.answers.chart import draw
    from bot.answers.compose.benchmark import benchmark_json
    from bot.answers.model import Chart
    from bot.kb.search import detect_lang

    if args.format == "png" and not args.out:
        raise CliError("--format png writes a file: add --out FILE.png")
    engine = open_engine(settings)
    lang = args.lang or (detect_lang(args.customer) if args.customer else "en")
    modules = [m.strip() for m in (args.modules or "").split(",") if m.strip()]
    with refusals_as_errors():
        described = engine.customer_in(args.customer) if args.customer else Customer()
        asked = Customer.read(industry=args.industry, size=args.size, modules=modules)
        if args.size and not asked.size:
            raise CliError(
                f'cannot read a size from {args.size!r}: give a store count (40) or e.g. "3 central kitchens"'
            )
        customer = Customer(
            asked.industry or described.industry, asked.size or described.size, asked.modules or described.modules
        )
        result = engine.quantify(customer, lang=lang)
    if args.json:
        write_out(json.dumps(benchmark_json(result.benchmark, lang), ensure_ascii=False), args.out)
    elif args.format == "png" and result.benchmark.cases:
        args.out.write_bytes(draw(next(part for part in result.answer.body if isinstance(part, Chart))))
    else:
        write_out(result.answer.text, args.out)
    return 0 if result.benchmark.cases else 1


def write_out(text: str, path: Path | None) -> None:
    if path is None:
        out.print(text, markup=False)
    else:
        path.write_text(text + "\n", encoding="utf-8")


def cmd_stale(args: argparse.Namespace, settings: Settings) -> int:
    """Documents past their review date, per owner, from the sources themselves (no index needed):
    exit 1 when any is stale, so a CI job in the content repository can fail on it."""
    import datetime as dt
    from collections import Counter

    from bot.answers.catalog import stale_documents
    from bot.kb.sources import load_corpus
    from bot.records import RECORDS_FILE

    corpus = load_corpus(list(args.sources) or list(settings.sources))
    for rejection in corpus.rejections:
        err.print(f"rejected {rejection}", markup=False)
    today = args.today or dt.date.today()
    # Citations and "Outdated" votes when the bot has run here; listing needs no records of its own.
    on_record = settings.database_url is not None or (settings.data_dir / RECORDS_FILE).exists()
    records = open_records(settings) if on_record else None
    cited = records.citation_counts() if records else Counter[str]()
    flagged = records.flagged_outdated() if records else Counter[str]()
    stale = stale_documents(((d.meta, d.rel_path) for d in corpus.documents), today, cited, flagged)
    if args.json:
        rows = [{**vars(d), "verified": d.verified.isoformat(), "review_due": d.review_due.isoformat()} for d in stale]
        print(json.dumps({"today": today.isoformat(), "stale": rows}, ensure_ascii=False))
    else:
        for owner in dict.fromkeys(d.owner for d in stale):
            out.print(f"{owner}:", markup=False)
            for d in (d for d in stale if d.owner == owner):
                overdue = f" ({d.days_overdue} days overdue)" if d.days_overdue > 0 else ""
                flags = f" · flagged outdated in {d.flagged} answers" if d.flagged else ""
                out.print(
                    f"  {d.doc_id} · {d.title} · verified {d.verified}, review due {d.review_due}{overdue}"
                    f" · cited in {d.cited} answers{flags} · {d.path}",
                    markup=False,
                )
        out.print(
            f"{len(stale)} of {len(corpus.documents)} documents past their review date or flagged outdated on {today}",
            markup=False,
        )
    return 1 if stale else 0


def load_owners_report(settings: Settings, days: int) -> Any:
    """The owners' report over the last `days` days, from the records, the index's models and the sources."""
    from bot.kb.index import KnowledgeIndex
    from bot.kb.store import IndexMissing
    from bot.kb.vectors import IndexUnreachable
    from bot.report import owners_report

    records = open_records(settings)
    try:
        return owners_report(settings, records, KnowledgeIndex(settings), days=days)
    except (IndexMissing, IndexUnreachable) as error:
        raise CliError(str(error)) from error


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.report.render import to_html, to_markdown, write_csv

    if args.format == "csv" and not args.out and not args.post:
        raise CliError("--format csv writes one file per table: add --out FOLDER")
    if args.post and not settings.slack_bot_token:
        raise CliError("--post sends the digest to Slack: SLACK_BOT_TOKEN is not set")
    report = load_owners_report(settings, args.since)
    if args.post:
        return post_report(report, settings)
    if args.format == "csv":
        for path in write_csv(report, args.out):
            out.print(str(path), markup=False)
        return 0
    text = to_html(report) if args.format == "html" else to_markdown(report)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def post_report(report: Any, settings: Settings) -> int:
    from urllib.error import URLError

    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.slack.digest import post_digest

    try:
        sent = post_digest(WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url), report, settings)
    except SlackApiError as error:
        raise CliError(f"Slack refused the digest: {error.response.get('error', error)}") from error
    except URLError as error:
        raise CliError(f"cannot reach the Slack API at {settings.slack_api_url}: {error.reason}") from error
    out.print(f"digest: {sent} messages sent", markup=False)
    return 0


def cmd_glossary(args: argparse.Namespace, settings: Settings) -> int:
    """`glossary suggest`: lines for glossary.yaml from recorded gaps; `--apply` writes them."""
    from bot.kb.glossary import parse_glossary
    from bot.report import glossary_path
    from bot.report.glossary import with_suggestions

    suggestions = load_owners_report(settings, args.since).suggestions
    for s in suggestions:
        out.print(
            f"{s.line()}  # {s.questions} gap questions, closest {s.doc_id}, similarity {s.similarity}", markup=False
        )
    if not args.apply or not suggestions:
        return 0
    path = glossary_path(settings.sources)
    text = with_suggestions(path.read_text(encoding="utf-8") if path.exists() else "", suggestions)
    problems = parse_glossary(text.encode("utf-8"))
    if isinstance(problems, list):
        raise CliError(
            f"{path}: the suggestions would break it ({problems[0].line}: {problems[0].reason}); nothing written"
        )
    path.write_text(text, encoding="utf-8")
    out.print(f"{len(suggestions)} suggestions written to {path}; ingest to use them", markup=False)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat import run_chat

    # A console that wraps: the chat shows answers in panels, which must not crop lines.
    return run_chat(open_engine(settings), open_records(settings), Console(highlight=False))


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import format_table, load_questions, run_eval, save_reports

    paths = args.questions or [Path("tests/eval")]
    sets = []
    for path in paths:
        try:
            questions = load_questions(path)
        except (OSError, ValueError) as error:
            raise CliError(f"cannot load eval questions from {path}: {error}") from error
        if not questions:
            raise CliError(f"no eval questions in {path}")
        sets.append((path, questions))
    engine = open_engine(settings)
    tables = []
    for path, questions in sets:
        reports, noisy = run_eval(engine, questions, noisy_runs=args.nudged_runs)
        table = format_table(reports, questions, str(path), noisy)
        tables.append((str(path), table, reports))
        out.print(table + "\n", markup=False)
    target = args.out or (settings.data_dir / "eval" / "latest.md")
    save_reports(tables, target)
    out.print(f"saved to {target}", markup=False)
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench.results import table, write
    from bot.bench.run import BenchError, bench_size

    try:
        sizes = sorted({int(size) for size in args.sizes.split(",")})
    except ValueError as error:
        raise CliError(f"--sizes must be chunk counts separated by commas, got {args.sizes!r}") from error
    if not sizes or min(sizes) <= 0:
        raise CliError(f"--sizes must be positive chunk counts, got {args.sizes!r}")
    results = []
    for size in sizes:
        err.print(
            f"bench: growing a {size:,}-chunk corpus, then ingest, no-op, edit and queries (alone, under load)",
            markup=False,
        )
        try:
            results.append(
                bench_size(
                    list(settings.sources),
                    args.out / f"corpus-{size}",
                    size,
                    seed=args.seed,
                    rounds=args.rounds,
                    resume=args.resume,
                )
            )
        except (BenchError, ValueError) as error:
            raise CliError(f"bench at {size:,} chunks: {error}") from error
        write(results, args.out)  # what is measured so far survives a later size failing
    out.print(table(results), markup=False)
    out.print(f"saved to {args.out / 'bench.md'}", markup=False)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from urllib.error import URLError

    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import SlackConfigError, check_credentials, serve
    from bot.slack.relay import Relay

    # A server's log is its operator's window: requests, redeliveries, failures.
    logging.getLogger("bot").setLevel(min(logging.getLogger("bot").getEffectiveLevel(), logging.INFO))
    try:
        check_credentials(settings, http=args.http)  # before the models' seconds of loading
        records = open_records(settings)
        engine = open_engine(settings)
        engine.warm_up()
        relay = Relay(settings, engine, records)
        serve(settings, relay, http=args.http, host=args.host, port=args.port)
    except (SlackConfigError, BoltError, SlackApiError) as error:
        raise CliError(f"cannot start the Slack app: {str(error).splitlines()[-1]}") from error
    except URLError as error:
        raise CliError(f"cannot reach the Slack API at {settings.slack_api_url}: {error.reason}") from error
    return 0


def slack_configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token and (settings.slack_app_token or settings.slack_signing_secret))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: the Slack bot when its credentials are configured, the terminal chat otherwise."""
    if slack_configured(settings):
        args.http, args.host, args.port = False, "0.0.0.0", None
        return cmd_serve(args, settings)
    err.print(
        "Slack is not configured (set SLACK_BOT_TOKEN and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, see README); "
        "opening the terminal chat.",
        markup=False,
    )
    return cmd_chat(args, settings)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def dt_date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="ValueRelay: answers quoted from the sources.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("ingest", parents=[ingest_parser(add_help=False)], help="build or update the index")

    ask = sub.add_parser("ask", help="answer one question (or a batch)")
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument("--batch", metavar="FILE", help="one question per line; - reads standard input")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--kind", help="only this kind: playbook, stage_guide or case")
    ask.add_argument("--stage", help="only this stage: survey, go_live, training or acceptance")
    add_data_dir(ask)

    checklist = sub.add_parser("checklist", help="a stage's complete checklist, verbatim")
    checklist.add_argument("stage", help="survey, go_live, training or acceptance")
    checklist.add_argument("--module", help="narrow to one product module")
    checklist.add_argument("--json", action="store_true")
    add_data_dir(checklist)

    cases = sub.add_parser("cases", help="benchmark case cards with their metrics")
    cases.add_argument("query", nargs="?", help="what the case should be about")
    cases.add_argument("--industry", help="only this industry")
    cases.add_argument("--json", action="store_true")
    add_data_dir(cases)

    quantify = sub.add_parser("quantify", help="what comparable customers measured, from the cases' figures")
    quantify.add_argument("customer", nargs="?", help='the customer in words, e.g. "40-store hotpot chain"')
    quantify.add_argument("--industry", help="the customer's industry, as the cases name it (e.g. hotpot)")
    quantify.add_argument("--size", help='its size: a store count, or e.g. "3 central kitchens"')
    quantify.add_argument("--modules", help="modules it buys, comma-separated (e.g. food_cost,supply_chain)")
    quantify.add_argument("--lang", choices=("en", "zh"), help="the answer's language (default: the customer text's)")
    quantify.add_argument("--json", action="store_true", help="the figures as JSON")
    quantify.add_argument("--format", choices=("text", "md", "png"), default="text", help="md: Markdown tables")
    quantify.add_argument("--out", type=Path, help="write to this file instead of standard output")
    add_data_dir(quantify)

    stale = sub.add_parser("stale", help="documents past their review date, per owner (exit 1 if any)")
    stale.add_argument("sources", nargs="*", type=Path, help="source folders (default: the sources setting)")
    stale.add_argument("--json", action="store_true")
    stale.add_argument("--today", type=dt_date, help="as on this day (YYYY-MM-DD)")
    add_data_dir(stale)

    report = sub.add_parser("report", help="the content owners' report: gaps, glossary suggestions, votes, stale")
    report.add_argument("--since", type=positive_int, default=7, metavar="DAYS", help="the last DAYS days (default 7)")
    report.add_argument("--format", choices=("md", "html", "csv"), default="md")
    report.add_argument("--out", type=Path, help="a file (md, html) or a folder (csv); default: standard output")
    report.add_argument(
        "--post", action="store_true", help="send it to Slack: a DM per owner, a digest_channel summary"
    )
    add_data_dir(report)

    glossary = sub.add_parser("glossary", help="glossary lines suggested from recorded knowledge gaps")
    glossary.add_argument("action", choices=("suggest",))
    glossary.add_argument("--since", type=positive_int, default=30, metavar="DAYS", help="gaps of the last DAYS days")
    glossary.add_argument("--apply", action="store_true", help="write them into the sources' glossary.yaml")
    add_data_dir(glossary)

    chat = sub.add_parser("chat", help="interactive terminal chat")
    add_data_dir(chat)

    evaluation = sub.add_parser("eval", help="measure the answers on sets of eval questions")
    evaluation.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="a YAML file or a folder of them, one table each (default: tests/eval)",
    )
    evaluation.add_argument(
        "--nudged-runs", type=int, default=2, help="hybrid runs with nudged query vectors, for each figure's spread"
    )
    evaluation.add_argument("--out", type=Path, help="where to save the table (default: DATA_DIR/eval/latest.md)")
    add_data_dir(evaluation)

    bench = sub.add_parser("bench", help="grow the sample to each size; time ingest, edits and answers")
    bench.add_argument("--sizes", default="1000,10000", help="corpus sizes in chunks, comma-separated")
    bench.add_argument("--out", type=Path, default=Path("bench"), help="results and grown corpora (default: bench/)")
    bench.add_argument("--rounds", type=int, default=3, help="timed passes over the question set per size")
    bench.add_argument("--seed", type=int, default=0, help="the corpus generator's seed")
    bench.add_argument(
        "--resume",
        action="store_true",
        help="keep what an interrupted run under --out had encoded (that size's ingest rate is then not measured)",
    )
    bench.set_defaults(data_dir=None)  # each size has an index of its own, under --out

    serve_cmd = sub.add_parser("serve", help="the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP")
    serve_cmd.add_argument(
        "--http", action="store_true", help="HTTP mode (Events API on /slack/events) even with an app token"
    )
    serve_cmd.add_argument("--host", default="0.0.0.0", help="HTTP mode: interface to listen on")
    serve_cmd.add_argument("--port", type=int, help="HTTP mode: port (default: slack_port setting, 3000)")
    add_data_dir(serve_cmd)

    run = sub.add_parser("run", help="the main job: Slack bot when configured, else the terminal chat")
    add_data_dir(run)
    return parser


COMMANDS = {
    "ask": cmd_ask,
    "checklist": cmd_checklist,
    "cases": cmd_cases,
    "quantify": cmd_quantify,
    "stale": cmd_stale,
    "report": cmd_report,
    "glossary": cmd_glossary,
    "chat": cmd_chat,
    "eval": cmd_eval,
    "bench": cmd_bench,
    "run": cmd_run,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings(data_dir=args.data_dir)
    if args.command == "ingest":
        return run_ingest(settings, list(args.sources) or list(settings.sources), args.strict, args.quiet)
    try:
        return COMMANDS[args.command](args, settings)
    except CliError as error:
        err.print(f"error: {error}", markup=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader stopped early (`| head`): what it read is whole; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
