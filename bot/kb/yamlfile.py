"""Reading a YAML data file into a pydantic model, and a YAML parse error as one line a person
can act on: the file, the line it is on and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def yaml_problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    """(1-based line of the text parsed, or None when unknown; the problem in a few words)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return (mark.line + 1 if mark is not None else None), problem


def read_model(path: Path, model: type[Model], refused: type[Exception], what: str) -> Model:
    """The file validated as `model`; any problem raised as `refused` in one line naming the file,
    the line or field where known, and the reason."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise refused(f"{path}: cannot read {what}: {error.strerror}") from error
    except yaml.YAMLError as error:
        line, problem = yaml_problem(error)
        raise refused(f"{path}:{line or 1}: malformed YAML: {problem}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise refused(f"{path}: {where}: {first['msg']}") from error
