"""Find source files, parse their front matter and validate it against the schema.

Every problem becomes a Rejection naming the file, the line where known, the
field and the reason; valid documents are returned alongside.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.kb import glossary as glossary_module
from bot.kb import schema
from bot.kb.glossary import GLOSSARY_FILE, Glossary, parse_glossary
from bot.kb.schema import KINDS, META_BY_KIND, AnyMeta, ChecklistItem, StageGuideMeta
from bot.kb.yamlfile import load_bounded, yaml_problem

FRONT_MATTER_FENCE = "---"
IGNORED_NAMES = {"readme.md"}
CHECKLIST_ITEM = re.compile(r"^\s*[-*+]\s+\[[ xX]\]\s+(?P<text>.*\S)\s*$")
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Rejection:
    path: Path
    reason: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass(frozen=True)
class SourceLimits:
    """How big one source may be, each past what any real document needs and short of what makes an
    ingest run for hours: a file's bytes, its chunks (checked once it is chunked) and checklist items."""

    max_file_bytes: int = 1_048_576
    max_chunks: int = 300
    max_checklist_items: int = 200

    def too_many(self, what: str, count: int, limit: int, setting: str) -> str:
        return f"{count:,} {what}, more than the {limit:,} allowed ({setting})"


DEFAULT_LIMITS = SourceLimits()


@dataclass(frozen=True)
class SourceDocument:
    meta: AnyMeta
    body: str
    path: Path
    rel_path: str
    content_hash: str
    body_start_line: int
    checklist: tuple[ChecklistItem, ...] = ()
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        return self.meta.id


@dataclass
class Corpus:
    documents: list[SourceDocument] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    glossary: Glossary = field(default_factory=Glossary)
    glossary_files: list[str] = field(default_factory=list)  # display paths, rejected ones too


@dataclass(frozen=True)
class Validated:
    """What this parser already accepted, by the hash of the files' bytes: a file with the same bytes
    is not parsed again (YAML, validation and the glossary's word segmentation are most of a no-op
    ingest). `glossary` is the glossary the index serves, read from the files whose hashes make its fingerprint."""

    metas: Mapping[str, AnyMeta] = field(default_factory=dict)
    glossary: Glossary | None = None


class _DatesAsText(yaml.CSafeLoader):
    """libyaml's safe loader, leaving dates as text so the schema reports bad dates itself."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def discover(
    source_dirs: list[Path],
) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]], list[Rejection]]:
    """All candidate documents and glossary files under the source folders, with a display path for each."""
    found: list[tuple[Path, str]] = []
    glossaries: list[tuple[Path, str]] = []
    rejected: list[Rejection] = []
    for root in source_dirs:
        if not root.is_dir():
            rejected.append(Rejection(root, "source folder not found"))
            continue
        inside = root.resolve()
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or any(part.startswith((".", "_")) for part in relative.parts):
                continue
            if path.name.lower() in IGNORED_NAMES:
                continue
            display = (root.name + "/" + relative.as_posix()) if root.name else relative.as_posix()
            if not path.resolve().is_relative_to(inside):
                # A link can publish any file the bot's user can read (its .env, its keys).
                rejected.append(Rejection(Path(display), "a link to a file outside the source folder"))
                continue
            if path.name.lower() == GLOSSARY_FILE:
                glossaries.append((path, display))
                continue
            if path.suffix.lower() not in (".md", ".markdown"):
                rejected.append(Rejection(Path(display), f"not Markdown (expected a .md file, or a {GLOSSARY_FILE})"))
                continue
            found.append((path, display))
    return found, glossaries, rejected


def _split_front_matter(text: str, display: Path) -> tuple[str, str, int] | Rejection:
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        return Rejection(display, "no YAML front matter (the file must start with a '---' line)", line=1)
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    return Rejection(display, "front matter is not closed by a '---' line", line=1)


def _key_lines(front_matter: str) -> dict[str, int]:
    """Line (1-based, in the file) of each top-level key of the front matter."""
    lines: dict[str, int] = {}
    for offset, line in enumerate(front_matter.splitlines()):
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if match:
            lines.setdefault(match.group(1), offset + 2)
    return lines


def _validation_rejections(error: ValidationError, display: Path, key_lines: dict[str, int]) -> list[Rejection]:
    out = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        # Tagged unions put the tag first in the location; drop it.
        if location and location[0] in KINDS:
            location = location[1:]
        name = ".".join(location) if location else "front matter"
        reason = problem["msg"]
        if problem["type"] == "missing":
            reason = "missing required field"
        elif problem["type"] == "literal_error":
            reason = f"{reason}, got {problem.get('input')!r}"
        line = key_lines.get(location[0]) if location else None
        out.append(Rejection(display, reason, field=name, line=line or 1))
    return out


def parse_checklist(body: str, first_line: int) -> tuple[ChecklistItem, ...]:
    """Task items in document order, each with the heading path it sits under."""
    items: list[ChecklistItem] = []
    headings: list[tuple[int, str]] = []
    in_fence = False
    for offset, line in enumerate(body.splitlines()):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group("hashes"))
            headings = [(lvl, title) for lvl, title in headings if lvl < level]
            headings.append((level, heading.group("title").strip()))
            continue
        item = CHECKLIST_ITEM.match(line)
        if item:
            section = " > ".join(title for level, title in headings if level >= 2)
            items.append(ChecklistItem(text=item.group("text"), section=section, line=first_line + offset))
    return tuple(items)


def section_titles(body: str, level: int = 2) -> set[str]:
    titles = set()
    in_fence = False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = HEADING.match(line)
        if heading and not in_fence and len(heading.group("hashes")) == level:
            titles.add(heading.group("title").strip())
    return titles


@functools.cache
def parser_key() -> str:
    """The code that parses and validates front matter: a document it accepted before is accepted
    as it was only while this code is the same."""
    digest = hashlib.sha256()
    for module in (Path(__file__), Path(schema.__file__ or ""), Path(glossary_module.__file__ or "")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def parse_file(
    path: Path, display: str, limits: SourceLimits = DEFAULT_LIMITS, validated: Mapping[str, AnyMeta] | None = None
) -> SourceDocument | list[Rejection]:
    """`validated`: front matter this parser already validated (see `Validated`)."""
    shown = Path(display)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        return [Rejection(shown, limits.too_many("bytes", size, limits.max_file_bytes, "max_file_bytes"))]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return [Rejection(shown, f"not UTF-8 (byte {error.start} cannot be decoded)", line=line)]
    split = _split_front_matter(text, shown)
    if isinstance(split, Rejection):
        return [split]
    front_matter, body, body_start = split
    content_hash = hashlib.sha256(raw).hexdigest()
    key_lines = _key_lines(front_matter)
    meta = (validated or {}).get(content_hash)
    if meta is None:
        meta = _front_matter(front_matter, shown, key_lines)
    if isinstance(meta, list):
        return meta
    if not body.strip():
        return [Rejection(shown, "the document has no body", line=body_start)]
    checklist: tuple[ChecklistItem, ...] = ()
    if isinstance(meta, StageGuideMeta):
        checklist = parse_checklist(body, body_start)
        if len(checklist) > limits.max_checklist_items:
            reason = limits.too_many(
                "checklist items", len(checklist), limits.max_checklist_items, "max_checklist_items"
            )
            return [Rejection(shown, reason, line=checklist[limits.max_checklist_items].line)]
        known = section_titles(body)
        unknown = [title for title in meta.section_modules if title not in known]
        if unknown:
            return [
                Rejection(
                    shown,
                    f"no '## {title}' section in the body",
                    field="section_modules",
                    line=key_lines.get("section_modules", 1),
                )
                for title in unknown
            ]
    return SourceDocument(
        meta=meta,
        body=body,
        path=path,
        rel_path=display,
        content_hash=content_hash,
        body_start_line=body_start,
        checklist=checklist,
        key_lines=key_lines,
    )


def _front_matter(front_matter: str, shown: Path, key_lines: dict[str, int]) -> AnyMeta | list[Rejection]:
    try:
        data = load_bounded(front_matter, _DatesAsText)
    except yaml.YAMLError as error:
        line, problem = yaml_problem(error)
        # The front matter starts on the file's second line, after the opening fence.
        return [Rejection(shown, f"malformed YAML front matter: {problem}", line=line + 1 if line else 1)]
    if not isinstance(data, dict):
        return [Rejection(shown, "front matter must be a mapping of key: value", line=2)]
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in META_BY_KIND:
        reason = (
            "missing required field" if kind is None else f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})"
        )
        return [Rejection(shown, reason, field="kind", line=key_lines.get("kind", 1))]
    try:
        return META_BY_KIND[kind].model_validate(data)
    except ValidationError as error:
        return _validation_rejections(error, shown, key_lines)


def _read_glossaries(corpus: Corpus, files: list[tuple[Path, str]], served: Glossary | None) -> None:
    raws = [(path.read_bytes(), display) for path, display in files]
    unchanged = sum((Glossary(fingerprint=hashlib.sha256(raw).hexdigest()) for raw, _ in raws), Glossary())
    if served is not None and raws and unchanged.fingerprint == served.fingerprint:
        corpus.glossary = served
        return
    for raw, display in raws:
        glossary = parse_glossary(raw)
        if isinstance(glossary, list):
            corpus.rejections.extend(
                Rejection(Path(display), problem.reason, line=problem.line) for problem in glossary
            )
        else:
            corpus.glossary += glossary


def load_corpus(
    source_dirs: list[Path],
    *,
    indexed: Mapping[str, str] | None = None,
    validated: Validated | None = None,
    limits: SourceLimits = DEFAULT_LIMITS,
) -> Corpus:
    """Parse and validate every source file. `indexed` maps each id the index serves to its file:
    a second file with that id is refused, and the file already serving keeps it (even while it is
    itself rejected, when its last valid version serves); a new id goes to the first file by path.
    `validated`: see `parse_file`."""
    files, glossaries, rejections = discover(source_dirs)
    validated = validated or Validated()
    corpus = Corpus(rejections=list(rejections), glossary_files=[display for _, display in glossaries])
    _read_glossaries(corpus, glossaries, validated.glossary)
    parsed: list[SourceDocument] = []
    for path, display in files:
        document = parse_file(path, display, limits, validated.metas)
        if isinstance(document, list):
            corpus.rejections.extend(document)
        else:
            parsed.append(document)
    present = {display for _, display in files}
    owners: dict[str, str] = {}
    for document in parsed:
        serving = (indexed or {}).get(document.id)
        owners.setdefault(document.id, serving if serving in present else document.rel_path)
    for document in parsed:
        owner = owners[document.id]
        if owner == document.rel_path:
            corpus.documents.append(document)
            continue
        corpus.rejections.append(
            Rejection(
                Path(document.rel_path),
                f"duplicate id {document.id!r}, already used by {owner}",
                field="id",
                line=document.key_lines.get("id", 2),
            )
        )
    return corpus
