"""Who states a figure in prose: "the General Staff of the Armed Forces of Ukraine stated",
"Russia's Defense Ministry said", "the British MoD said", or "the ministry said" pointing back
at the last claimant named."""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

from attrition.contracts.vocabulary import Claimant

_S = "['’]s"
_DEF = "defen[cs]e"

# A named body is a claimant wherever it appears. A loose name ("Russia", "the Ukrainian
# military") also names a side's losses ("Russian army losses"), so it attributes only with
# a verb of saying next to it. Group order settles ties at one position.
_ATTRIBUTION_RE: Final = re.compile(
    rf"\b(?P<ua_named>(?:the )?general staff of (?:the )?(?:armed forces of )?ukraine"
    rf"|(?:ukraine{_S}|ukrainian) (?:general staff|armed forces|{_DEF} ministry"
    rf"|ministry of {_DEF}|mod)|armed forces of ukraine|ministry of {_DEF} of ukraine)\b"
    rf"|\b(?P<ru_named>(?:russia{_S}|russian) (?:{_DEF} ministry|ministry of {_DEF}|mod"
    rf"|general staff)|ministry of {_DEF} of (?:the )?russia(?:n federation)?"
    r"|(?:igor )?konashenkov)\b"
    rf"|\b(?P<uk_named>(?:british|uk|u\.k\.|britain{_S}|uk{_S}|united kingdom{_S}) (?:mod"
    rf"|ministry of {_DEF}|{_DEF} ministry|{_DEF} intelligence|military intelligence"
    rf"|intelligence(?: services?)?)|{_DEF} intelligence|ministry of {_DEF} of the united kingdom)"
    r"\b"
    rf"|\b(?P<us_named>pentagon|(?:u\.s\.|us|american|united states) (?:officials|intelligence"
    rf"(?: officials)?|{_DEF} officials|military officials|{_DEF} department"
    rf"|department of {_DEF})|white house)\b"
    rf"|\b(?P<ua_loose>(?:ukraine{_S}|ukrainian) (?:military|army|air force|forces|officials"
    r"|authorities|government|side|navy)|(?:the )?(?:military )?general staff|the military staff"
    r"|kyiv|kiev|ukraine|zelensk(?:yy|iy|y))\b"
    rf"|\b(?P<ru_loose>(?:russia{_S}|russian) (?:military|army|forces|officials|authorities"
    rf"|government|side|{_DEF} minister(?: sergei shoigu)?)|moscow|the kremlin|kremlin|russia)\b"
    r"|\b(?P<anaphor>the (?:ministry|mod|military|staff|department|agency|briefing|update"
    r"|report)|it|they)\b"
)
# Every attribution starts with one of these words. Finding them first and trying the full
# pattern only there is three times cheaper than letting the full pattern scan every position.
# "the" is the commonest word of all: it heads a candidate only before a word an attribution
# can go on with ("the general staff", "the military staff", "the kremlin", "the ministry").
# Written as one alternative per first letter, each checking the word boundary ("\b") just
# after that letter, rather than as "\b(?:...)": a pattern whose alternatives all open with a
# letter lets the engine skip in C to the next such letter instead of trying every position.
# The same matches: alternatives with different first letters never both match at a place.
_HEAD_RE: Final = re.compile(
    r"t(?<!\wt)he (?=general|military|kremlin|ministry|mod|staff|department|agency|briefing"
    r"|update|report)|u(?<!\wu)(?:krain|k|\.k|nited|s |\.s)|r(?<!\wr)ussia|g(?<!\wg)eneral"
    r"|a(?<!\wa)(?:rmed|merican)|m(?<!\wm)(?:inist|oscow|ilitary)|i(?<!\wi)(?:gor|t )"
    r"|k(?<!\wk)(?:onash|yiv|iev|remlin)|b(?<!\wb)(?:ritish|ritain)|d(?<!\wd)efen"
    r"|p(?<!\wp)entagon|w(?<!\ww)hite|z(?<!\wz)elensk|t(?<!\wt)hey "
)
_GROUP_CLAIMANT: Final[dict[str, Claimant]] = {
    "ua_named": Claimant.ua_general_staff,
    "ru_named": Claimant.ru_mod,
    "uk_named": Claimant.uk_mod,
    "us_named": Claimant.us_officials,
    "ua_loose": Claimant.ua_general_staff,
    "ru_loose": Claimant.ru_mod,
}
_SAYING = (
    r"said|says|stated|states|claimed|claims|reported|reports|announced|announces|recorded"
    r"|records|showed|shows|estimated|estimates|assessed|assesses|believes|added|noted|wrote"
    r"|told|published|updated|counted|listed|confirmed|put|puts|tallied|registered|insisted"
)
# Lower-case patterns on lower-cased text: IGNORECASE triples the cost of a big alternation.
# Up to four short words ("also", "recently", "in its latest") may stand between the body and
# its verb; each is a literal, so the bounded repeat cannot blow up.
_VERB_AFTER_RE: Final = re.compile(
    r"(?:\s*\([^()]{1,12}\))?(?:\s+(?:also|recently|has|have|had|later|earlier|then|previously"
    r"|now|further|last|this|on|in|its|their|a|an|latest|daily|\w{2,12}ly)){0,4}"
    rf"\s+(?:{_SAYING})\b"
)
# Not "by" or "from" alone, nor a verb of saying: "losses suffered by Russia" and "the General
# Staff said Russia lost" name the side that lost, not a second claimant.
_SOURCE_BEFORE_RE: Final = re.compile(
    r"\b(?:according to|citing|cited by|per|(?:figures|data|numbers|estimates|report|statement"
    r"|tally|update)(?: released| published)? (?:from|by|of))\s+(?:the\s+)?(?:updated\s+)?$"
)

# What text matching _SOURCE_BEFORE_RE ends with, before its final run of spaces: checking
# that first spares nearly every candidate the search, which tries each position.
_SOURCE_BEFORE_ENDINGS: Final = ("to", "citing", "by", "per", "from", "of", "the", "updated")


def _source_before(before: str) -> bool:
    if not before[-1:].isspace() or not before.rstrip().endswith(_SOURCE_BEFORE_ENDINGS):
        return False
    return _SOURCE_BEFORE_RE.search(before) is not None


How = Literal["named", "stated", "anaphor"]


class Attribution(NamedTuple):  # a tuple: 4x cheaper to build than a dataclass
    """A claimant named in a sentence; offsets are into the document text."""

    claimant: Claimant
    start: int
    end: int
    how: How


def find_attributions(
    low: str, start: int, end: int, previous: Claimant | None
) -> list[Attribution]:
    """Attributions in low[start:end] (the lower-cased text), in order. `previous` is the
    claimant last named before this sentence, which "the ministry said" refers back to."""
    found: list[Attribution] = []
    covered = start
    for head in _HEAD_RE.finditer(low, start, end):
        at = head.start()
        if at < covered:
            continue
        m = _ATTRIBUTION_RE.match(low, at, end)
        if m is None:
            continue
        covered = m.end()
        group = m.lastgroup or ""
        if group.endswith("_named"):
            found.append(Attribution(_GROUP_CLAIMANT[group], m.start(), m.end(), "named"))
            continue
        said = _VERB_AFTER_RE.match(low, m.end(), end) is not None or _source_before(
            low[max(start, m.start() - 24) : m.start()]
        )
        if not said:
            continue
        if group == "anaphor":
            if previous is not None and previous is not Claimant.unknown:
                found.append(Attribution(previous, m.start(), m.end(), "anaphor"))
            continue
        found.append(Attribution(_GROUP_CLAIMANT[group], m.start(), m.end(), "stated"))
    return found


def attribution_for(number_start: int, attributions: list[Attribution]) -> Attribution | None:
    """The attribution that governs a number: the nearest one before it in the sentence, else
    the first after it ("..., the General Staff said")."""
    chosen: Attribution | None = None
    for attribution in attributions:
        if attribution.start < number_start:
            chosen = attribution
        elif chosen is None:
            return attribution
    return chosen
