"""A YAML parse error as one line a person can act on: the line it is on and what is wrong."""

from __future__ import annotations

import yaml


def yaml_problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    """(1-based line of the text parsed, or None when unknown; the problem in a few words)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return (mark.line + 1 if mark is not None else None), problem
