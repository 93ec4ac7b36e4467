"""The document format contract (docs/document-format.md) as pydantic models."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

DocId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Kind = Literal["playbook", "stage_guide", "case"]
Stage = Literal["survey", "go_live", "training", "acceptance"]
Audience = Literal["sales", "implementation", "all"]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

KINDS: tuple[str, ...] = ("playbook", "stage_guide", "case")
STAGES: tuple[str, ...] = ("survey", "go_live", "training", "acceptance")
DEFAULT_REVIEW_DAYS = 180


def review_due(verified: dt.date, review_days: int = DEFAULT_REVIEW_DAYS) -> dt.date:
    """The day after which a source is stale until someone verifies it again."""
    return verified + dt.timedelta(days=review_days)


class DocumentMeta(BaseModel):
    """Front matter shared by every kind. Unknown keys are kept as metadata."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    id: DocId
    kind: Kind
    title: NonEmpty
    lang: Literal["zh", "en"]
    owner: NonEmpty
    # The owner's Slack user id, so the weekly digest can reach them (and mention them).
    owner_slack: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,}$")
    verified: dt.date
    review_days: int = Field(default=DEFAULT_REVIEW_DAYS, gt=0)
    tags: list[str] = Field(default_factory=list)
    audience: list[Audience] = Field(default_factory=lambda: ["all"])

    @field_validator("verified", mode="before")
    @classmethod
    def _iso_date_only(cls, value: object) -> object:
        # Without this, 20260101 would be read as a Unix timestamp.
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
        return value.strip()

    @property
    def extra_metadata(self) -> dict[str, object]:
        return dict(self.model_extra or {})

    def review_due(self) -> dt.date:
        return review_due(self.verified, self.review_days)

    def is_stale(self, today: dt.date) -> bool:
        """Past its review date: the one staleness rule, for citations, notes and catalogs alike."""
        return today > self.review_due()


class PlaybookMeta(DocumentMeta):
    kind: Literal["playbook"]
    segments: list[str] = Field(default_factory=list)
    modules: list[str] = Field(default_factory=list)


class StageGuideMeta(DocumentMeta):
    kind: Literal["stage_guide"]
    stage: Stage
    modules: list[str] = Field(default_factory=list)
    section_modules: dict[str, list[str]] = Field(default_factory=dict)


class Metric(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: NonEmpty
    before: int | float
    after: int | float
    unit: str = ""
    period: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _numbers_not_strings(cls, data: object) -> object:
        # "38.5%" or "about 40" would silently become something else: demand numbers.
        if isinstance(data, dict):
            for key in ("before", "after"):
                value = data.get(key)
                if isinstance(value, bool) or (value is not None and not isinstance(value, (int, float))):
                    raise ValueError(f"{key} must be a number, got {value!r}")
                # .nan and .inf compare and print as nothing a reader can use (and are not JSON).
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{key} must be a finite number, got {value!r}")
        return data


class CaseMeta(DocumentMeta):
    kind: Literal["case"]
    customer: NonEmpty
    industry: NonEmpty
    size: NonEmpty
    modules: list[str] = Field(min_length=1)
    metrics: list[Metric] = Field(min_length=1)

    @field_validator("customer", "industry", "size", mode="before")
    @classmethod
    def _free_text(cls, value: object) -> object:
        # `size: 40` is free text that YAML happened to read as a number.
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


AnyMeta = Annotated[PlaybookMeta | StageGuideMeta | CaseMeta, Field(discriminator="kind")]
META_BY_KIND: dict[str, type[DocumentMeta]] = {
    "playbook": PlaybookMeta,
    "stage_guide": StageGuideMeta,
    "case": CaseMeta,
}


class ChecklistItem(BaseModel):
    """A `- [ ] ` line of a stage guide: its text as written, its section path and its line in the file."""

    model_config = ConfigDict(frozen=True)

    text: str
    section: str
    line: int


class IndexedDocument(BaseModel):
    """A document as the index holds it: its front matter, where it came from, and what
    answers show whole (a case's customer quote, a guide's checklist)."""

    path: str
    meta: AnyMeta
    quote: str | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def kind(self) -> str:
        return self.meta.kind

    @property
    def modules(self) -> set[str]:
        """Every product module the document names, in its front matter or for one of its sections."""
        named = set(getattr(self.meta, "modules", []))
        for section_modules in getattr(self.meta, "section_modules", {}).values():
            named.update(section_modules)
        return named


def format_number(value: int | float) -> str:
    """A number as an author would write it: 34.2, 1200, never 1200.0 or 1.2e3."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)
