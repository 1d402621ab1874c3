"""Document ids derived from where a document came from and what it says.

`{source}:{blake2b(locator, normalised text)}`: publishing the same page or file twice gives
the same id, hence the same Kafka key and the same loss-event ids, so every stage downstream
recognises the repeat. Normalising the text first keeps a re-saved file (CRLF line ends, a
trailing blank line, NBSPs) from counting as a new document."""

from __future__ import annotations

import re
import unicodedata

from attrition.contracts.events import stable_id

_SOURCE = re.compile(r"[^a-z0-9._-]+")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_MAX_SOURCE_CHARS = 40


def normalise_text(text: str) -> str:
    """NFC, one space for any run of spaces within a line, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def source_label(source: str) -> str:
    """A short, key-safe source name: `web`, `file`, `stdin`, `http`."""
    cleaned = _SOURCE.sub("-", source.lower()).strip("-")
    return cleaned[:_MAX_SOURCE_CHARS] or "unknown"


def document_id(source: str, locator: str | None, text: str) -> str:
    """The id of a document read from `locator` (a URL or a file name) of `source`."""
    return f"{source_label(source)}:{stable_id(locator or '', normalise_text(text))}"
