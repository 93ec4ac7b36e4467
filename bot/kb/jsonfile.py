"""A snapshot's JSON files (manifest, documents, chunks, the lexical index's tokens and counts, the
bridge), written and read with orjson: with the standard library's json, these files cost about a
second of every edit at 10,000 chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson


def write_json(path: Path, data: Any, *, indent: bool = False) -> None:
    # Dates as str() writes them, as the standard library's `default=str` did; numpy numbers as numbers.
    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    path.write_bytes(orjson.dumps(data, default=str, option=options))


def read_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def write_json_lines(path: Path, records: Iterable[Any]) -> None:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))


def read_json_lines(path: Path) -> Iterator[Any]:
    return (orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip())
