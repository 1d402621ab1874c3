"""What the poller remembers between polls and restarts: each URL's validators (ETag,
Last-Modified) and the ids it has published.

Written only after the broker acknowledged a poll's documents, and atomically (a temporary file
renamed over the old one): a crash in between costs a refetch, never a lost document."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from attrition.ingest.http_fetch import Validators

# Enough for years of daily reports and articles from a few dozen sources; the oldest go first.
_MAX_IDS = 50_000


@dataclass
class PollerState:
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    published: dict[str, str] = field(default_factory=dict)  # document id → URL

    def validators_for(self, url: str) -> Validators:
        return Validators.from_dict(self.validators.get(url))

    def remember(self, validators: dict[str, Validators], published: dict[str, str]) -> None:
        for url, found in validators.items():
            self.validators[url] = found.as_dict()
        self.published.update(published)
        excess = len(self.published) - _MAX_IDS
        for doc_id in list(self.published)[: max(excess, 0)]:
            del self.published[doc_id]

    @classmethod
    def load(cls, path: Path) -> PollerState:
        try:
            data = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return cls()
        except orjson.JSONDecodeError:
            # A damaged state only costs one full refetch; the ids keep downstream idempotent.
            return cls()
        return cls(
            validators=dict(data.get("validators", {})), published=dict(data.get("published", {}))
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(
            orjson.dumps(
                {"validators": self.validators, "published": self.published},
                option=orjson.OPT_INDENT_2,
            )
        )
        os.replace(temporary, path)
