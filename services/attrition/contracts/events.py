"""The public event contracts. A field's meaning is written here once, in its description;
`schemas/*.json` are generated from these models (`attrition schemas export`)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from attrition.contracts.vocabulary import (
    AlertKind,
    Category,
    Claimant,
    DeadLetterReason,
    DeltaFlag,
    DocumentKind,
    Measure,
    Qualifier,
    QualityFlag,
    Severity,
    Subject,
)

# Figures are counts; the bound keeps a thousand-digit number from becoming a 1 KB int.
Count = Annotated[int, Field(ge=0, le=10**12)]
SignedCount = Annotated[int, Field(ge=-(10**12), le=10**12)]


def stable_id(*parts: object) -> str:
    """A deterministic 32-hex-digit id: the same parts give the same id on every machine."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=16).hexdigest()


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class RawDocument(_Event):
    """A report or article exactly as a producer received it."""

    id: str = Field(
        min_length=1,
        max_length=200,
        description="Producer-assigned id, derived from source and content so re-publishing "
        "the same document is recognised downstream.",
    )
    kind: DocumentKind = Field(description="`report` (an official bulletin) or `article` (prose).")
    published: date = Field(description="Date the document was published (ISO 8601).")
    url: str | None = Field(default=None, max_length=2000, description="Where it was published.")
    title: str | None = Field(default=None, max_length=2000)
    lang: str | None = Field(
        default=None, max_length=16, description="BCP 47 language tag as given, e.g. `en`, `uk`."
    )
    text: str = Field(description="The full text, line breaks kept.")


class TextSpan(_Event):
    """Where in `RawDocument.text` a figure was read: character offsets, end exclusive."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(description="The exact text between start and end (the line or sentence).")

    @model_validator(mode="after")
    def _ordered(self) -> TextSpan:
        if self.end < self.start:
            raise ValueError("span end lies before its start")
        return self


class LossEvent(_Event):
    """One figure one claimant states about one category of one side's losses on one date."""

    event_id: str = Field(
        description="Deterministic id from source_id, claimant, subject, category, measure and "
        "span start: replaying a document yields the same ids."
    )
    source_id: str = Field(description="`RawDocument.id` of the document the figure came from.")
    source_kind: DocumentKind = Field(description="Kind of that document.")
    claimant: Claimant = Field(description="Who states the figure.")
    subject: Subject = Field(description="Whose losses the figure counts.")
    category: Category
    label: str | None = Field(
        default=None,
        max_length=500,
        description="The label as written in the text (kept verbatim for `other`).",
    )
    as_of: date = Field(description="The date the figure describes (the end of the period).")
    total: Count | None = Field(
        default=None, description="Cumulative figure since 2022-02-24, or null if not stated."
    )
    delta: SignedCount | None = Field(
        default=None,
        description="The change the text states for the period ending at as_of, or null.",
    )
    period_days: int | None = Field(
        default=None, ge=1, description="Days the stated delta spans, when not one day."
    )
    qualifier: Qualifier = Qualifier.exact
    low: Count | None = Field(default=None, description="Lower end of a stated range.")
    high: Count | None = Field(default=None, description="Upper end of a stated range.")
    measure: Measure | None = Field(
        default=None, description="For personnel: what is counted; null for equipment."
    )
    span: TextSpan
    official: bool = Field(
        default=True,
        description="True when the text is the claimant's own publication in its own wording; "
        "False for a republication (an aggregator, an article). Official figures win when "
        "sources disagree about the same day.",
    )
    confidence: float = Field(
        default=1.0, ge=0.0, le=1.0, description="1.0 for report lines; lower for prose claims."
    )
    quality: list[QualityFlag] = Field(
        default_factory=list, description="Meaning-level doubts; a flagged event is still kept."
    )

    @property
    def totals_key(self) -> str:
        """Key of the running total this event feeds; also its Kafka message key."""
        # The members are str: join reads them as they are (a fourth of the cost of .value,
        # and every stage asks for it per event).
        return "/".join((self.claimant, self.subject, self.category))


def totals_key(claimant: Claimant | str, subject: Subject | str, category: Category | str) -> str:
    return f"{Claimant(claimant).value}/{Subject(subject).value}/{Category(category).value}"


def loss_event_id(
    source_id: str,
    claimant: Claimant,
    subject: Subject,
    category: Category,
    measure: Measure | None,
    span_start: int,
) -> str:
    return stable_id("loss", source_id, claimant, subject, category, measure, span_start)


class DeltaEvent(_Event):
    """A change of a running total, emitted by the totals stage."""

    delta_id: str = Field(
        description="Deterministic id from (claimant, subject, category, as_of) and the content "
        "of this version (previous date and total, total): a replay yields the same id."
    )
    claimant: Claimant
    subject: Subject
    category: Category
    source_kind: DocumentKind = Field(description="Kind of the documents the totals come from.")
    as_of: date
    total: Count = Field(description="The cumulative figure on as_of.")
    previous_as_of: date | None = Field(
        default=None, description="Date of the previous known total; null for the first."
    )
    previous_total: Count | None = None
    change: SignedCount | None = Field(
        default=None, description="total − previous_total, computed; null for the first total."
    )
    reported_delta: SignedCount | None = Field(
        default=None, description="The day's change as the source stated it."
    )
    days: int | None = Field(
        default=None, ge=1, description="Days between previous_as_of and as_of."
    )
    flags: list[DeltaFlag] = Field(default_factory=list)
    replaces: str | None = Field(
        default=None, description="delta_id of the earlier delta for the same day this corrects."
    )
    source_id: str = Field(description="Document whose figure set this total.")
    event_id: str = Field(description="LossEvent that set this total.")

    @property
    def totals_key(self) -> str:
        """Key of the running total that changed; also its Kafka message key."""
        return "/".join((self.claimant, self.subject, self.category))


class CurrentTotal(_Event):
    """The latest total of one key and source kind: the value of the compacted current-totals
    topic, keyed `claimant/subject/category/source_kind`."""

    claimant: Claimant
    subject: Subject
    category: Category
    source_kind: DocumentKind
    total: Count
    as_of: date
    delta_id: str = Field(description="The DeltaEvent that set this total.")

    @classmethod
    def of(cls, delta: DeltaEvent) -> CurrentTotal:
        return cls(
            claimant=delta.claimant,
            subject=delta.subject,
            category=delta.category,
            source_kind=delta.source_kind,
            total=delta.total,
            as_of=delta.as_of,
            delta_id=delta.delta_id,
        )


class AlertEvent(_Event):
    """An unusual day, or a suspicious figure, explained in one line."""

    alert_id: str = Field(
        description="Deterministic from (claimant, subject, category, as_of, kind)."
    )
    kind: AlertKind
    claimant: Claimant
    subject: Subject
    category: Category
    as_of: date
    value: float = Field(description="The daily change (normalised by the days it spans).")
    baseline: float | None = Field(
        default=None, description="The robust baseline it is compared to."
    )
    score: float | None = Field(default=None, description="How far above the baseline, robustly.")
    threshold: float | None = None
    severity: Severity
    explanation: str = Field(description="One human-readable line.")
    delta_id: str | None = Field(default=None, description="The delta that raised it.")


class DeadLetter(_Event):
    """A raw message that produced no loss events, with the reason."""

    dead_letter_id: str = Field(description="Deterministic from the origin topic, key and payload.")
    reason: DeadLetterReason
    detail: str = Field(max_length=4000, description="What exactly was wrong, for a person.")
    source_topic: str
    source_key: str | None = None
    source_id: str | None = Field(default=None, description="RawDocument.id when it was readable.")
    payload_excerpt: str = Field(
        max_length=2000, description="The start of the payload, decoded with replacement."
    )
    payload_size: int = Field(ge=0)
    failed_at: datetime
