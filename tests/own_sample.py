"""A test's own copy of the sample index, with a copy of its corpus to publish the next snapshot from:
for tests that watch a running engine move to a new snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.kb.ingest import Ingestor, IngestReport
from bot.settings import Settings


@dataclass
class OwnSample:
    settings: Settings
    corpus: Path
    ingestor: Ingestor

    def publish_without_a_case(self) -> IngestReport:
        """A next snapshot, one case study fewer (nothing to embed)."""
        next(self.corpus.rglob("case-*.md")).unlink()
        report = self.ingestor.run(sorted(self.corpus.iterdir()))
        assert report.changed, report.aborted
        return report
