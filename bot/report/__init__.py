"""The content owners' report: what was asked and not answered, what users voted down, which
documents are stale, and how the bot is used, from the records and the sources."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.kb.glossary import GLOSSARY_FILE
from bot.kb.index import KnowledgeIndex
from bot.kb.sources import load_corpus
from bot.records import Records
from bot.report.build import OwnedDocuments, build_report
from bot.report.model import Report
from bot.settings import Settings


def owned_documents(sources: Sequence[Path]) -> OwnedDocuments:
    """Every document's front matter, path and text, read from the sources."""
    corpus = load_corpus(list(sources))
    return OwnedDocuments(
        metas={d.meta.id: (d.meta, d.rel_path) for d in corpus.documents},
        bodies={d.meta.id: d.body for d in corpus.documents},
    )


def owners_report(settings: Settings, records: Records, index: KnowledgeIndex, *, days: int) -> Report:
    """The report over the last `days` days; the index lends its models to group the gaps."""
    documents = owned_documents(settings.sources)
    return build_report(records, documents, days=days, models=index.models, embed=index.embed_queries)


def glossary_path(sources: Sequence[Path]) -> Path:
    """The sources' glossary file: the first one found, or a new one in the first source folder."""
    found = [path for source in sources for path in sorted(Path(source).rglob(GLOSSARY_FILE))]
    return found[0] if found else Path(sources[0]) / GLOSSARY_FILE
