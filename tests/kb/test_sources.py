"""Format validation (docs/document-format.md): every problem is a Rejection that
names the file, the line where known, the field and the reason."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from bot.kb.schema import CaseMeta, PlaybookMeta, StageGuideMeta
from bot.kb.sources import Rejection, SourceDocument, load_corpus
from bot.settings import PROJECT_ROOT

SAMPLE_SOURCES = [PROJECT_ROOT / "playbooks", PROJECT_ROOT / "knowledge"]

# Line numbers in the file: the opening fence is line 1, the first key line 2.
PLAYBOOK = [
    "id: pb-test",  # 2
    "kind: playbook",  # 3
    "title: Test playbook",  # 4
    "lang: en",  # 5
    "owner: Jane Doe (Product Ops)",  # 6
    "verified: 2026-09-01",  # 7
]
CASE = [
    "id: case-test",  # 2
    "kind: case",  # 3
    "title: Test case",  # 4
    "lang: en",  # 5
    "owner: Jane Doe",  # 6
    "verified: 2026-09-01",  # 7
    "customer: Example Hotpot",  # 8
    "industry: hotpot",  # 9
    "size: 40 stores",  # 10
    "modules: [supply_chain, food_cost]",  # 11
]
STAGE_GUIDE = [
    "id: sg-test",  # 2
    "kind: stage_guide",  # 3
    "title: Test stage guide",  # 4
    "lang: en",  # 5
    "owner: Jane Doe",  # 6
    "verified: 2026-09-01",  # 7
    "stage: go_live",  # 8
]
BODY = "## Background\nSome text.\n"


def markdown(front: list[str], body: str = BODY) -> str:
    return "---\n" + "\n".join(front) + "\n---\n" + body


def replace(front: list[str], key: str, line: str | None) -> list[str]:
    """The front matter with the `key:` line replaced (or dropped when line is None)."""
    out = []
    for existing in front:
        if existing.startswith(f"{key}:"):
            if line is not None:
                out.append(line)
        else:
            out.append(existing)
    return out


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    root.mkdir()
    return root


def only_rejection(src: Path, name: str, content: str | bytes) -> Rejection:
    write(src, name, content)
    corpus = load_corpus([src])
    assert corpus.documents == []
    assert len(corpus.rejections) == 1, [str(r) for r in corpus.rejections]
    return corpus.rejections[0]


def only_document(src: Path, name: str, content: str) -> SourceDocument:
    write(src, name, content)
    corpus = load_corpus([src])
    assert corpus.rejections == [], [str(r) for r in corpus.rejections]
    assert len(corpus.documents) == 1
    return corpus.documents[0]


# --- one test per error class -------------------------------------------------


def test_malformed_yaml_names_the_bad_line(src: Path) -> None:
    front = replace(PLAYBOOK, "title", "title: Food cost: the hotpot story")  # line 4
    rejection = only_rejection(src, "bad-yaml.md", markdown(front))
    assert rejection.path == Path("src/bad-yaml.md")
    assert rejection.line == 4
    assert rejection.field is None
    assert rejection.reason.startswith("malformed YAML front matter")
    assert "mapping values are not allowed" in rejection.reason


def test_missing_required_field_owner(src: Path) -> None:
    rejection = only_rejection(src, "no-owner.md", markdown(replace(PLAYBOOK, "owner", None)))
    assert rejection.path == Path("src/no-owner.md")
    assert rejection.field == "owner"
    assert rejection.reason == "missing required field"
    assert rejection.line == 1  # the key is absent: the front matter as a whole
    assert str(rejection) == "src/no-owner.md:1: owner: missing required field"


def test_missing_kind_is_reported_as_missing(src: Path) -> None:
    rejection = only_rejection(src, "no-kind.md", markdown(replace(PLAYBOOK, "kind", None)))
    assert (rejection.field, rejection.line, rejection.reason) == ("kind", 1, "missing required field")


def test_impossible_date_is_rejected(src: Path) -> None:
    rejection = only_rejection(src, "month13.md", markdown(replace(PLAYBOOK, "verified", "verified: 2026-13-01")))
    assert rejection.path == Path("src/month13.md")
    assert rejection.field == "verified"
    assert rejection.line == 7
    assert "month value is outside expected range" in rejection.reason


def test_compact_date_is_rejected(src: Path) -> None:
    rejection = only_rejection(src, "compact.md", markdown(replace(PLAYBOOK, "verified", "verified: 20260101")))
    assert rejection.path == Path("src/compact.md")
    assert rejection.field == "verified"
    assert rejection.line == 7


def test_compact_date_reason_names_the_expected_format(src: Path) -> None:
    rejection = only_rejection(src, "compact.md", markdown(replace(PLAYBOOK, "verified", "verified: 20260101")))
    assert "YYYY-MM-DD" in rejection.reason


@pytest.mark.parametrize("value", ["0", "1767225600"])
def test_unix_timestamp_is_not_a_date(src: Path, value: str) -> None:
    write(src, "epoch.md", markdown(replace(PLAYBOOK, "verified", f"verified: {value}")))
    corpus = load_corpus([src])
    assert [d.meta.verified for d in corpus.documents] == []
    assert [(r.field, r.line) for r in corpus.rejections] == [("verified", 7)]


def test_unknown_stage(src: Path) -> None:
    front = replace(STAGE_GUIDE, "stage", "stage: launch")  # line 8
    rejection = only_rejection(src, "stage.md", markdown(front, "## Day one\n- [ ] Open the store\n"))
    assert rejection.path == Path("src/stage.md")
    assert rejection.field == "stage"
    assert rejection.line == 8
    assert "got 'launch'" in rejection.reason
    assert "'survey'" in rejection.reason and "'acceptance'" in rejection.reason


def test_a_kind_that_is_not_a_name_is_rejected_not_a_crash(src: Path) -> None:
    rejection = only_rejection(src, "kind-list.md", markdown(replace(PLAYBOOK, "kind", "kind: []")))
    assert (rejection.field, rejection.line) == ("kind", 3)
    assert rejection.reason.startswith("unknown kind []")


def test_unknown_kind(src: Path) -> None:
    rejection = only_rejection(src, "kind.md", markdown(replace(PLAYBOOK, "kind", "kind: memo")))
    assert rejection.path == Path("src/kind.md")
    assert rejection.field == "kind"
    assert rejection.line == 3
    assert rejection.reason.startswith("unknown kind 'memo'")
    assert "playbook, stage_guide, case" in rejection.reason


@pytest.mark.parametrize("bad_id", ["PB-Test", "pb_test", "pb--test", "-pb", "pb-", "火锅"])
def test_bad_id_pattern(src: Path, bad_id: str) -> None:
    rejection = only_rejection(src, "id.md", markdown(replace(PLAYBOOK, "id", f"id: {bad_id}")))
    assert rejection.path == Path("src/id.md")
    assert rejection.field == "id"
    assert rejection.line == 2
    assert "should match pattern" in rejection.reason


def test_audience_value_not_allowed(src: Path) -> None:
    front = [*PLAYBOOK, "audience: [sales, marketing]"]  # line 8
    rejection = only_rejection(src, "audience.md", markdown(front))
    assert rejection.path == Path("src/audience.md")
    assert rejection.field == "audience.1"
    assert rejection.line == 8
    assert "got 'marketing'" in rejection.reason


def test_case_metric_before_must_be_numeric(src: Path) -> None:
    front = [
        *CASE,
        "metrics:",
        '  - {name: Food cost ratio, before: "38%", after: 34.2, unit: "%"}',
    ]  # metrics: line 12
    rejection = only_rejection(src, "metric.md", markdown(front))
    assert rejection.path == Path("src/metric.md")
    assert rejection.field == "metrics.0"
    assert rejection.line == 12
    assert "before must be a number, got '38%'" in rejection.reason


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_case_metric_must_be_a_finite_number(src: Path, value: str) -> None:
    front = [*CASE, "metrics:", f"  - {{name: Food cost ratio, before: {value}, after: 34.2, unit: '%'}}"]
    rejection = only_rejection(src, "metric.md", markdown(front))
    assert (rejection.field, rejection.line) == ("metrics.0", 12)
    assert "finite number" in rejection.reason


def test_case_with_empty_metrics(src: Path) -> None:
    rejection = only_rejection(src, "no-metrics.md", markdown([*CASE, "metrics: []"]))
    assert rejection.path == Path("src/no-metrics.md")
    assert rejection.field == "metrics"
    assert rejection.line == 12
    assert "at least 1 item" in rejection.reason


def test_case_without_metrics_key(src: Path) -> None:
    rejection = only_rejection(src, "no-metrics-key.md", markdown(CASE))
    assert (rejection.field, rejection.line, rejection.reason) == ("metrics", 1, "missing required field")


def test_duplicate_id_keeps_the_first_file_and_names_both(src: Path) -> None:
    write(src, "a-first.md", markdown(PLAYBOOK, "## First\nkept\n"))
    write(src, "b-second.md", markdown(PLAYBOOK, "## Second\nrejected\n"))
    corpus = load_corpus([src])
    assert [d.rel_path for d in corpus.documents] == ["src/a-first.md"]
    assert "kept" in corpus.documents[0].body
    assert len(corpus.rejections) == 1
    rejection = corpus.rejections[0]
    assert rejection.path == Path("src/b-second.md")
    assert rejection.field == "id"
    assert rejection.line == 2
    assert "duplicate id 'pb-test'" in rejection.reason
    assert "src/a-first.md" in rejection.reason


def alias_bomb(levels: int = 9) -> list[str]:
    """An unknown key whose aliases nest `levels` deep: nine values each, 9**levels once expanded."""
    names = [chr(ord("a") + i) for i in range(levels + 1)]
    lines = ["extra:", f"  {names[0]}: &{names[0]} [{', '.join(['x'] * 9)}]"]
    for inner, outer in zip(names, names[1:]):
        lines.append(f"  {outer}: &{outer} [{', '.join([f'*{inner}'] * 9)}]")
    return lines


def test_an_alias_bomb_is_refused_on_its_line_and_the_rest_is_loaded(src: Path) -> None:
    write(src, "bomb.md", markdown([*PLAYBOOK, *alias_bomb()]))
    write(src, "good.md", markdown(replace(PLAYBOOK, "id", "id: pb-good")))
    corpus = load_corpus([src])
    assert [d.id for d in corpus.documents] == ["pb-good"]
    [rejection] = corpus.rejections
    assert rejection.path == Path("src/bomb.md")
    assert "aliases are expanded" in rejection.reason
    # A few aliases, as authors use them, are fine.
    write(src, "bomb.md", markdown([*PLAYBOOK, *alias_bomb(levels=2)]))
    assert not load_corpus([src]).rejections


def test_a_value_nested_thousands_deep_is_one_rejection_and_the_rest_is_loaded(src: Path) -> None:
    write(src, "deep.md", markdown([*PLAYBOOK, "extra: " + "[" * 20_000 + "]" * 20_000]))
    write(src, "good.md", markdown(replace(PLAYBOOK, "id", "id: pb-good")))
    corpus = load_corpus([src])
    assert [d.id for d in corpus.documents] == ["pb-good"]
    assert [str(r) for r in corpus.rejections] == [
        "src/deep.md:8: malformed YAML front matter: nested deeper than 100 levels"
    ]


def test_non_utf8_bytes_report_the_line_of_the_bad_byte(src: Path) -> None:
    content = markdown(PLAYBOOK, "## Background\nline ten\nline eleven \xff here\n").encode("utf-8")
    content = content.replace("\xff".encode(), b"\xff")  # a lone 0xFF byte on line 11
    rejection = only_rejection(src, "latin1.md", content)
    assert rejection.path == Path("src/latin1.md")
    assert rejection.line == 11
    assert rejection.field is None
    assert "not UTF-8" in rejection.reason


def test_gbk_encoded_chinese_is_rejected_on_its_line(src: Path) -> None:
    text = markdown(replace(PLAYBOOK, "lang", "lang: zh"), "## 背景\n火锅食材成本\n")
    rejection = only_rejection(src, "gbk.md", text.encode("gbk"))
    assert rejection.line == 9  # the first Chinese text is the heading on line 9
    assert "not UTF-8" in rejection.reason


def test_utf8_bom_is_accepted(src: Path) -> None:
    document = only_document(src, "bom.md", "\ufeff" + markdown(PLAYBOOK))
    assert document.id == "pb-test"


def test_non_markdown_file_in_a_source_folder(src: Path) -> None:
    write(src, "notes.txt", markdown(PLAYBOOK))
    write(src, "deep/table.csv", "a,b\n")
    write(src, "README.md", "# not a document\n")
    write(src, "_draft.md", "no front matter at all\n")
    write(src, ".hidden/secret.md", "no front matter at all\n")
    corpus = load_corpus([src])
    assert corpus.documents == []
    by_path = {r.path.as_posix(): r for r in corpus.rejections}
    assert sorted(by_path) == ["src/deep/table.csv", "src/notes.txt"]
    for rejection in by_path.values():
        assert rejection.line is None
        assert rejection.field is None
        assert "not Markdown" in rejection.reason


def test_no_front_matter(src: Path) -> None:
    rejection = only_rejection(src, "plain.md", "## Background\nNo front matter here.\n")
    assert rejection.path == Path("src/plain.md")
    assert rejection.line == 1
    assert rejection.field is None
    assert "no YAML front matter" in rejection.reason


def test_front_matter_not_at_the_very_top(src: Path) -> None:
    rejection = only_rejection(src, "late.md", "\n" + markdown(PLAYBOOK))
    assert (rejection.line, rejection.field) == (1, None)
    assert "no YAML front matter" in rejection.reason


def test_unclosed_front_matter(src: Path) -> None:
    rejection = only_rejection(src, "unclosed.md", "---\n" + "\n".join(PLAYBOOK) + "\n## Background\ntext\n")
    assert rejection.path == Path("src/unclosed.md")
    assert rejection.line == 1
    assert rejection.field is None
    assert "not closed" in rejection.reason


def test_front_matter_that_is_not_a_mapping(src: Path) -> None:
    rejection = only_rejection(src, "list.md", "---\n- id\n- kind\n---\nbody\n")
    assert (rejection.line, rejection.field) == (2, None)
    assert "mapping" in rejection.reason


def test_empty_body(src: Path) -> None:
    rejection = only_rejection(src, "empty.md", markdown(PLAYBOOK, "\n   \n\n"))
    assert rejection.path == Path("src/empty.md")
    assert rejection.line == 9  # the first line after the closing fence (line 8)
    assert rejection.field is None
    assert "no body" in rejection.reason


def test_section_modules_naming_a_missing_heading(src: Path) -> None:
    front = [*STAGE_GUIDE, "section_modules:", '  "KDS routing": [kds]', '  "Cut-over day": [pos]']  # line 9
    body = "## Cut-over day\n- [ ] Print a test receipt\n\n### KDS routing\n- [ ] Route dishes\n"
    rejection = only_rejection(src, "sections.md", markdown(front, body))
    assert rejection.path == Path("src/sections.md")
    assert rejection.field == "section_modules"
    assert rejection.line == 9
    # "KDS routing" exists only as a ### heading: section_modules names ## sections.
    assert rejection.reason == "no '## KDS routing' section in the body"


def test_one_bad_file_does_not_hide_the_good_ones(src: Path) -> None:
    write(src, "good.md", markdown(PLAYBOOK))
    write(src, "bad.md", markdown(replace(PLAYBOOK, "id", "id: Bad_Id")))
    corpus = load_corpus([src])
    assert [d.id for d in corpus.documents] == ["pb-test"]
    assert [(r.path.as_posix(), r.field) for r in corpus.rejections] == [("src/bad.md", "id")]


def test_a_link_to_a_file_outside_the_source_folder_is_refused_by_name(src: Path, tmp_path: Path) -> None:
    secret = write(tmp_path, "secrets.md", markdown(replace(PLAYBOOK, "id", "id: pb-secret")))
    (src / "notes.md").symlink_to(secret)
    write(src, "real.md", markdown(PLAYBOOK))
    (src / "alias.md").symlink_to(src / "real.md")  # a link inside the folder is only a second path
    corpus = load_corpus([src])
    assert [str(r) for r in corpus.rejections if "outside" in r.reason] == [
        "src/notes.md: a link to a file outside the source folder"
    ]
    assert "pb-secret" not in {d.id for d in corpus.documents}


def test_missing_source_folder(tmp_path: Path) -> None:
    corpus = load_corpus([tmp_path / "nowhere"])
    assert corpus.documents == []
    assert [(r.path, r.reason) for r in corpus.rejections] == [(tmp_path / "nowhere", "source folder not found")]


# --- what a valid document carries --------------------------------------------


def test_extra_front_matter_keys_are_kept(src: Path) -> None:
    front = [*PLAYBOOK, "region: south-china", "reviewers: [li, chen]", "source_ticket: 1234"]
    document = only_document(src, "extra.md", markdown(front))
    assert document.meta.model_extra == {
        "region": "south-china",
        "reviewers": ["li", "chen"],
        "source_ticket": 1234,
    }
    assert document.meta.extra_metadata == document.meta.model_extra


def test_defaults_review_days_audience_tags(src: Path) -> None:
    document = only_document(src, "defaults.md", markdown(PLAYBOOK))
    meta = document.meta
    assert isinstance(meta, PlaybookMeta)
    assert meta.review_days == 180
    assert meta.audience == ["all"]
    assert meta.tags == []
    assert meta.verified == dt.date(2026, 9, 1)
    assert meta.review_due() == dt.date(2027, 2, 28)
    assert document.body_start_line == 9
    assert document.key_lines["verified"] == 7


def test_review_days_must_be_positive(src: Path) -> None:
    rejection = only_rejection(src, "review.md", markdown([*PLAYBOOK, "review_days: 0"]))
    assert (rejection.field, rejection.line) == ("review_days", 8)
    assert "greater than 0" in rejection.reason


CHECKLIST_BODY = """\
Intro prose with - [ ] not an item because it is not at the start.

## T-7: readiness
- [ ] Freeze menu changes 24 hours before go-live
- [ ] Run `pos sync --full` and check the `menu_items` count
* [ ] Bind each delivery platform store ID (Meituan, Ele.me)

### Printers
- [x] Print a test receipt on every POS terminal

```markdown
- [ ] This item is an example inside a code block
## Not a heading either
```

## Cut-over day
Prose between items: risks, tips.
  - [ ] Put one implementer on site per store **from opening to close**
- [ ] 核对储值余额，差额必须为 0.00
"""


def test_checklist_items_in_order_with_section_and_exact_text(src: Path) -> None:
    document = only_document(src, "sg.md", markdown(STAGE_GUIDE, CHECKLIST_BODY))
    assert isinstance(document.meta, StageGuideMeta)
    body_start = document.body_start_line
    assert body_start == 10  # 7 front-matter lines between the fences on lines 1 and 9
    assert [(item.text, item.section, item.line - body_start) for item in document.checklist] == [
        ("Freeze menu changes 24 hours before go-live", "T-7: readiness", 3),
        ("Run `pos sync --full` and check the `menu_items` count", "T-7: readiness", 4),
        ("Bind each delivery platform store ID (Meituan, Ele.me)", "T-7: readiness", 5),
        ("Print a test receipt on every POS terminal", "T-7: readiness > Printers", 8),
        ("Put one implementer on site per store **from opening to close**", "Cut-over day", 17),
        ("核对储值余额，差额必须为 0.00", "Cut-over day", 18),
    ]
    # The line number is the item's own line in the file.
    lines = (src / "sg.md").read_text(encoding="utf-8").splitlines()
    for item in document.checklist:
        assert lines[item.line - 1].endswith(item.text)


def test_items_inside_fenced_code_are_ignored(src: Path) -> None:
    body = "## Setup\n~~~\n- [ ] fenced with tildes\n~~~\n- [ ] real item\n```\n- [ ] fenced with backticks\n```\n"
    document = only_document(src, "fence.md", markdown(STAGE_GUIDE, body))
    assert [(item.text, item.section) for item in document.checklist] == [("real item", "Setup")]


def test_only_stage_guides_get_a_checklist(src: Path) -> None:
    document = only_document(src, "pb.md", markdown(PLAYBOOK, "## Questions\n- [ ] Ask about food cost\n"))
    assert document.checklist == ()


def test_valid_case_metrics_are_numbers(src: Path) -> None:
    front = [
        *CASE,
        "metrics:",
        '  - {name: Food cost ratio, before: 38.5, after: 34.2, unit: "%", period: 6 months}',
        "  - {name: Stores, before: 12, after: 40}",
    ]
    document = only_document(src, "case.md", markdown(front))
    assert isinstance(document.meta, CaseMeta)
    metrics = [(m.name, m.before, m.after, m.unit, m.period) for m in document.meta.metrics]
    assert metrics == [("Food cost ratio", 38.5, 34.2, "%", "6 months"), ("Stores", 12, 40, "", None)]


# --- the real sample corpus ---------------------------------------------------


def test_sample_corpus_loads_cleanly() -> None:
    corpus = load_corpus(SAMPLE_SOURCES)
    assert [str(r) for r in corpus.rejections] == []
    documents = corpus.documents
    assert len(documents) >= 23
    assert len({d.id for d in documents}) == len(documents)

    kinds = Counter(d.meta.kind for d in documents)
    assert kinds["playbook"] >= 8
    assert kinds["case"] >= 10

    guides = [d for d in documents if d.meta.kind == "stage_guide"]
    assert sorted(d.meta.stage for d in guides) == ["acceptance", "go_live", "survey", "training"]
    for guide in guides:
        assert len(guide.checklist) >= 12, guide.id
        assert all(item.section for item in guide.checklist), guide.id

    for case in (d for d in documents if d.meta.kind == "case"):
        assert 2 <= len(case.meta.metrics) <= 4, case.id

    langs = Counter(d.meta.lang for d in documents)
    assert set(langs) == {"zh", "en"}
    assert langs["zh"] * 3 >= len(documents)
    assert langs["en"] * 3 >= len(documents)
