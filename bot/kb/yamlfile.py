"""Reading a YAML data file into a pydantic model, and a YAML parse error as one line a person
can act on: the file, the line it is on and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
# Far past any real front matter, glossary or config file, far short of what exhausts memory:
# nine nested aliases expand to a billion nodes, and 20,000 nested brackets overflow the stack.
MAX_NODES = 100_000
MAX_DEPTH = 100


def check_bounds(text: str) -> None:
    """Refuse a document of more than MAX_NODES nodes, each alias counted as the nodes it expands
    to, or nested deeper than MAX_DEPTH, as a YAML error on the offending line. Checked on libyaml's
    events before anything is built; the document is then built by libyaml too."""
    nodes = depth = 0
    expanded: dict[str, int] = {}  # anchor -> how many nodes it expands to
    opened: list[tuple[str | None, int]] = []
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            nodes += expanded.get(event.anchor, 1)
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            if depth + 1 > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            nodes += 1
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                opened.append((event.anchor, nodes - 1))
            elif event.anchor:
                expanded[event.anchor] = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, before = opened.pop()
            if anchor:
                expanded[anchor] = nodes - before
        if nodes > MAX_NODES:
            problem = f"more than {MAX_NODES:,} values once aliases are expanded"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)


def load_bounded(text: str, loader: type[yaml.CSafeLoader] = yaml.CSafeLoader) -> Any:
    """The YAML document in `text`, within the bounds above."""
    check_bounds(text)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a CSafeLoader subclass


def yaml_problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    """(1-based line of the text parsed, or None when unknown; the problem in a few words)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return (mark.line + 1 if mark is not None else None), problem


def read_model(path: Path, model: type[Model], refused: type[Exception], what: str) -> Model:
    """The file validated as `model`; any problem raised as `refused` in one line naming the file,
    the line or field where known, and the reason."""
    try:
        return model.model_validate(load_bounded(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise refused(f"{path}: cannot read {what}: {error.strerror}") from error
    except yaml.YAMLError as error:
        line, problem = yaml_problem(error)
        raise refused(f"{path}:{line or 1}: malformed YAML: {problem}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise refused(f"{path}: {where}: {first['msg']}") from error
