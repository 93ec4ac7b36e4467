"""Property-based fuzzing of what reads authors' files: the front-matter parser never raises,
whatever the file holds (every problem is a one-line rejection), and the chunker keeps every
line of any body it accepts. Bounded and derandomized, so CI runs the same examples each time."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.kb.chunking import Chunker
from bot.kb.sources import SourceDocument, parse_file

FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KNOWN = "id: pb-fuzz\nkind: playbook\ntitle: Fuzz\nlang: en\nowner: Jane Doe\nverified: 2026-09-01\n"

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20), st.dates()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(
    ["id", "kind", "title", "lang", "owner", "verified", "stage", "metrics", "audience", "tags", "x"]
)
# Markdown-ish lines: headings, checklist items, list items, fences, prose in both languages.
lines = st.one_of(
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), st.text(max_size=15)),
    st.builds(lambda t: f"- [ ] {t}", st.text(min_size=1, max_size=30)),
    st.builds(lambda t: f"- {t}", st.text(max_size=30)),
    st.just("```"),
    st.just(""),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(["食材成本率从 38% 降到 34%。", "Go live in waves.", "> 客户原话", "| a | b |"]),
)


def accepted(path: Path, text: str) -> SourceDocument | None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    parsed = parse_file(path, path.name)
    if isinstance(parsed, list):
        assert parsed and all("\n" not in str(rejection) for rejection in parsed)
        return None
    return parsed


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_after_the_opening_fence_is_a_document_or_one_line_rejections(tmp_path: Path, text: str) -> None:
    accepted(tmp_path / "fuzz.md", "---\n" + text)


@FUZZ
@given(front=st.dictionaries(keys, values, max_size=8), body=st.lists(lines, min_size=1, max_size=12))
def test_any_front_matter_of_known_and_unknown_keys_is_a_document_or_rejections(
    tmp_path: Path, front: dict, body: list[str]
) -> None:
    dumped = yaml.safe_dump(front, allow_unicode=True) if front else ""
    accepted(tmp_path / "fuzz.md", f"---\n{dumped}---\n" + "\n".join(body))


@FUZZ
@given(body=st.lists(lines, min_size=1, max_size=30), size=st.sampled_from([60, 900]))
def test_the_chunker_keeps_every_line_of_a_body_it_accepts(tmp_path: Path, body: list[str], size: int) -> None:
    document = accepted(tmp_path / "fuzz.md", f"---\n{KNOWN}---\n" + "\n".join(body))
    if document is None:
        return
    chunks = Chunker(size).split(document)
    assert len({chunk.id for chunk in chunks}) == len(chunks)
    kept = "\n".join(chunk.text for chunk in chunks)
    for line in body:
        words = line.strip().lstrip("#").strip()
        if words and not line.lstrip().startswith(("#", "```")):
            assert all(word in kept for word in words.split()), line
