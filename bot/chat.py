"""Interactive terminal chat on the same engine as Slack and the CLI."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from bot.answers.engine import AnswerError, Engine
from bot.records import Asked, Records, elapsed_ms

PROMPT = "[bold cyan]ask ›[/] "
HELP = (
    "Ask anything about our playbooks, stage guides and cases, in Chinese or English.\n"
    "Examples: 'Give me the go-live checklist' · '有没有火锅客户的成本案例？' · "
    "'What do we pitch to a tea-drink chain about food cost?'\n"
    "Type /quit to leave."
)


def run_chat(engine: Engine, records: Records, console: Console) -> int:
    console.print(Panel(HELP, title="ValueRelay", border_style="cyan"))
    with console.status("loading the models…"):
        engine.warm_up()
    history: list[str] = []
    while True:
        try:
            question = console.input(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return 0
        if not question:
            continue
        if question in ("/quit", "/exit", "quit", "exit"):
            return 0
        engine.refresh()
        started = time.monotonic()
        try:
            answer = engine.ask(question, record=True, history=history[-1:])
        except AnswerError as error:
            console.print(f"[red]{error}[/]")
            continue
        records.record_answer(answer, Asked("chat", latency_ms=elapsed_ms(started)))
        style = "yellow" if answer.abstained else "green"
        subtitle = f"{answer.intent} · confidence {answer.confidence:.2f}"
        # Section headings follow list items directly; Markdown needs a blank line to end the list.
        text = answer.text.replace("\n*", "\n\n*")
        console.print(Panel(Markdown(text), border_style=style, subtitle=subtitle))
        history.append(question)
