"""Reading paths, recent changes and example questions, derived from any corpus's front matter."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.answers.catalog import ROLES, example_questions, onboarding_path, recent_changes, stale_documents
from bot.kb.schema import STAGES, IndexedDocument

TODAY = dt.date(2026, 11, 25)


CASE_FIELDS = {
    "size": "12 sites",
    "modules": ["scheduling"],
    "metrics": [{"name": "No-shows", "before": 9, "after": 5}],
}


def record(doc_id: str, kind: str, verified: str, audience: list[str], **meta: Any) -> IndexedDocument:
    if kind == "case":
        meta = {**CASE_FIELDS, **meta}
    return IndexedDocument.model_validate(
        {
            "path": f"src/{doc_id}.md",
            "meta": {
                "id": doc_id,
                "kind": kind,
                "title": f"Title of {doc_id}",
                "lang": meta.pop("lang", "en"),
                "owner": meta.pop("owner", "Owner"),
                "verified": verified,
                "review_days": 180,
                "audience": audience,
                **meta,
            },
        }
    )


CORPUS = {
    "pb-old": record("pb-old", "playbook", "2025-01-01", ["sales"], segments=["Clinics with 5-20 sites"]),
    "pb-new": record("pb-new", "playbook", "2026-10-01", ["sales", "implementation"], segments=["Dental groups"]),
    "pb-mid": record("pb-mid", "playbook", "2026-06-01", ["all"], segments=["诊所连锁"], lang="zh"),
    "pb-impl": record("pb-impl", "playbook", "2026-09-01", ["implementation"], segments=["Hospitals"]),
    "sg-accept": record("sg-accept", "stage_guide", "2026-09-01", ["implementation"], stage="acceptance"),
    "sg-survey": record("sg-survey", "stage_guide", "2026-01-01", ["implementation"], stage="survey"),
    "sg-golive": record("sg-golive", "stage_guide", "2026-09-01", ["all"], stage="go_live"),
    "case-a": record("case-a", "case", "2026-08-01", ["sales"], industry="dental_care", customer="A"),
    "case-b": record("case-b", "case", "2024-01-01", ["all"], industry="clinic", customer="B"),
}


def ids(docs: list) -> list[str]:
    return [doc.doc_id for doc in docs]


def test_sales_path_shows_only_what_sales_may_read_fresh_first() -> None:
    path = onboarding_path(CORPUS, "sales", TODAY, None)
    assert ids(path) == ["pb-new", "pb-mid", "pb-old", "case-a", "case-b"]
    assert [doc.stale for doc in path] == [False, False, True, False, True]


def test_implementation_path_follows_the_stages_in_order() -> None:
    path = onboarding_path(CORPUS, "implementation", TODAY, "https://kb.example.com/blob/main")
    guides = [doc for doc in path if doc.kind == "stage_guide"]
    assert [doc.stage for doc in guides] == [s for s in STAGES if s in {"survey", "go_live", "acceptance"}]
    assert "pb-old" not in ids(path)  # sales only
    assert path[0].url == "https://kb.example.com/blob/main/src/sg-survey.md"


def test_new_hire_path_covers_every_kind() -> None:
    path = onboarding_path(CORPUS, "new_hire", TODAY, None)
    assert {doc.kind for doc in path} == {"playbook", "stage_guide", "case"}
    assert all(role in ROLES for role in ("sales", "implementation", "new_hire"))


def test_recent_changes_are_newest_index_entries_first() -> None:
    changed = {doc_id: "2026-11-01T00:00:00" for doc_id in CORPUS} | {"case-b": "2026-11-20T09:00:00"}
    recent = recent_changes(CORPUS, changed, TODAY, None, limit=3)
    assert recent[0].doc_id == "case-b" and recent[0].changed == "2026-11-20T09:00:00"
    assert len(recent) == 3


def test_example_questions_come_from_the_corpus_in_its_languages() -> None:
    sales = example_questions(CORPUS, "sales")
    assert "What do we pitch to Clinics with 5-20 sites?" in sales or "What do we pitch to Dental groups?" in sales
    assert any("诊所连锁" in q for q in example_questions(CORPUS, "sales", limit=10))
    assert any("dental care" in q for q in example_questions(CORPUS, "sales", limit=10))
    implementation = example_questions(CORPUS, "implementation")
    assert implementation[0] == "/relay checklist survey"


def test_stale_documents_per_owner_most_cited_then_longest_overdue_first() -> None:
    owned = {
        "pb-old": record("pb-old", "playbook", "2025-01-01", ["all"], owner="Ana"),  # due 2025-06-30
        "case-b": record("case-b", "case", "2024-01-01", ["all"], industry="clinic", customer="B", owner="Ana"),
        "sg-survey": record("sg-survey", "stage_guide", "2026-01-01", ["all"], stage="survey", owner="Bo"),
        "pb-new": record("pb-new", "playbook", "2026-10-01", ["all"], owner="Ana"),
    }
    metas = [(document.meta, document.path) for document in owned.values()]

    stale = stale_documents(metas, TODAY, {"pb-old": 3})

    assert [(d.owner, d.doc_id) for d in stale] == [("Ana", "pb-old"), ("Ana", "case-b"), ("Bo", "sg-survey")]
    first = stale[0]
    assert (first.review_due, first.days_overdue, first.cited) == (dt.date(2025, 6, 30), 513, 3)
    assert first.path == "src/pb-old.md"
    # The day after the review date is the first stale day, as everywhere else.
    due = owned["sg-survey"].meta.review_due()
    assert stale_documents(metas[2:3], due, {}) == [] and stale_documents(metas[2:3], due + dt.timedelta(1), {})
