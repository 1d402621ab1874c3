"""Settings of the producers: the HTTP ingest endpoint and the web poller.

Nested into the one Settings object as `ingest`, so every knob is an environment variable:
`ATTRITION_INGEST__TOKEN`, `ATTRITION_INGEST__FEEDS='["https://…/rss"]'`, …"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from attrition.contracts.vocabulary import DocumentKind


class WebSource(BaseModel):
    """A URL to poll; `kind` unset means: judge each page by its text."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    kind: DocumentKind | None = None


def _sources(value: Any) -> Any:
    # A bare URL string is the common case in an environment variable; accept it as a source.
    if isinstance(value, list):
        return [{"url": item} if isinstance(item, str) else item for item in value]
    return value


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: SecretStr | None = Field(
        default=None,
        description="Bearer token that POST /documents requires. Unset: the endpoint refuses "
        "every write.",
    )
    max_batch_documents: int = Field(
        default=500, ge=1, description="Most documents one POST /documents may carry."
    )
    max_batch_bytes: int = Field(
        default=16_000_000, ge=1024, description="Largest POST /documents body."
    )
    feeds: list[WebSource] = Field(
        default_factory=list, description="RSS 2.0 or Atom feeds whose items' links are fetched."
    )
    urls: list[WebSource] = Field(default_factory=list, description="Pages fetched as they are.")
    poll_interval_s: float = Field(default=900.0, gt=0, description="Seconds between polls.")
    host_interval_s: float = Field(
        default=1.0, ge=0, description="Least time between two requests to the same host."
    )
    retries: int = Field(default=3, ge=0, description="Retries of a failed fetch.")
    backoff_s: float = Field(
        default=1.0, ge=0, description="First retry delay; it doubles with each retry."
    )
    timeout_s: float = Field(default=20.0, gt=0)
    max_page_bytes: int = Field(default=5_000_000, ge=1024, description="Larger pages are skipped.")
    max_feed_items: int = Field(default=50, ge=1, description="Newest items read per feed.")
    user_agent: str = "attrition-poller/0.1"
    state_file: str = Field(
        default="poller-state.json",
        description="Validators and published ids, relative to data_dir, so a restart does not "
        "refetch or republish.",
    )

    @field_validator("feeds", "urls", mode="before")
    @classmethod
    def _bare_urls(cls, value: Any) -> Any:
        return _sources(value)
