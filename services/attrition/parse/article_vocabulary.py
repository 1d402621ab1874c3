"""The English prose vocabulary of loss claims in news articles: how equipment, sides,
qualifiers, periods and non-claim numbers are written. Kept apart from the report parser's
label table on purpose: journalists name things differently from the General Staff.

Every pattern is a flat alternation of literals or bounded classes, so none can backtrack
catastrophically; they run on one sentence or a short window at a time."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final, TypeVar

from attrition.contracts.vocabulary import Category, Measure, Qualifier

_APOS = "['’]"

NOT_A_CATEGORY: Final = "not_a_category"

# Category terms as lower-case word sequences, singular. A figure's noun is looked up word by
# word (a dictionary per first word, longest term first): a regex alternation of hundreds of
# terms costs a microsecond per character, far over the budget of a 3,000-character article.
_CATEGORY_TERMS: Final[dict[str, tuple[str, ...]]] = {
    NOT_A_CATEGORY: (
        "think tank", "civilian", "resident", "child", "children", "people", "equipment",
        "piece of equipment", "piece of military equipment", "unit of equipment",
        "military equipment", "round", "shell", "km", "kilometer", "kilometre", "mile",
    ),
    Category.mlrs.value: (
        "himars", "m142", "m270", "mlrs", "high mobility artillery rocket system",
        "high-mobility artillery rocket system", "multiple launch rocket system",
        "multiple-launch rocket system", "multiple rocket launcher",
        "multiple rocket launch system",
        "rocket launcher", "rocket artillery", "artillery rocket system", "rocket system",
        "grad", "uragan", "smerch",
    ),
    Category.anti_aircraft_systems.value: (
        "anti-aircraft", "anti-aircraft system", "anti-aircraft warfare system",
        "anti-aircraft missile system", "anti-aircraft gun", "air defense system",
        "air defence system", "air-defense system", "air-defence system", "air defense battery",
        "air defence battery", "air defense", "air defence", "surface-to-air missile system",
        "sam system", "patriot system", "patriot battery", "s-300", "s-400", "buk", "pantsir",
    ),
    Category.cruise_missiles.value: ("cruise missile", "kalibr", "kh-101", "kh-555"),
    Category.ground_robotic_systems.value: (
        "ground robotic system", "ground robotic complex", "unmanned ground vehicle",
        "ground robot", "ugv",
    ),
    Category.uav.value: (
        "drone", "uav", "unmanned aerial vehicle", "unmanned aircraft", "shahed",
        "operational-tactical uav", "operational tactical uav", "loitering munition",
    ),
    Category.artillery_systems.value: (
        "howitzer", "artillery system", "artillery piece", "artillery gun", "artillery",
        "field gun", "self-propelled gun", "cannon", "mortar", "m777", "caesar", "krab",
    ),
    Category.armoured_combat_vehicles.value: (
        "armored combat vehicle", "armoured combat vehicle", "armored fighting vehicle",
        "armoured fighting vehicle", "armored personnel carrier", "armoured personnel carrier",
        "armored vehicle", "armoured vehicle", "armored car", "armoured car", "apc", "ifv",
        "infantry fighting vehicle", "fighting vehicle", "combat vehicle", "bradley", "stryker",
        "marder", "bmp", "btr", "mrap",
    ),
    Category.vehicles_fuel_tanks.value: (
        "vehicles and fuel tank", "fuel tank", "fuel tanker", "truck", "vehicle",
        "military vehicle", "motor vehicle", "army vehicle", "automotive equipment",
    ),
    Category.tanks.value: (
        "tank", "main battle tank", "leopard", "abrams", "challenger", "t-64", "t-72", "t-80",
        "t-90",
    ),
    Category.helicopters.value: ("helicopter", "chopper", "gunship", "ka-52"),
    Category.aircraft.value: (
        "aircraft", "plane", "jet", "warplane", "fighter jet", "fighter aircraft",
        "military aircraft", "combat aircraft", "bomber", "su-24", "su-25", "su-27", "su-30",
        "su-34", "su-35", "mig-29", "mig-31", "f-16",
    ),
    Category.warships_boats.value: (
        "warship", "ship", "naval ship", "boat", "vessel", "cutter", "corvette", "frigate",
    ),
    Category.submarines.value: ("submarine",),
    Category.special_equipment.value: ("special equipment", "special military equipment"),
    Category.mobile_srbm_systems.value: (
        "mobile srbm system", "srbm launcher", "iskander launcher",
    ),
    Category.personnel.value: (
        "personnel", "military personnel", "army personnel", "casualty", "loss",
        "combat loss", "army loss", "military loss", "personnel loss", "troop", "soldier",
        "serviceman", "servicemen", "service member", "servicemember", "fighter", "mercenary",
        "conscript", "men", "occupier", "invader", "killed", "dead", "death", "fatality",
        "wounded", "injured", "captured", "prisoner", "prisoner of war", "pow",
    ),
}  # fmt: skip


_V = TypeVar("_V")
_MEMO_SIZE: Final = 65_536


class Memo(dict[str, _V]):
    """A word function's answers, read as `map(memo.__getitem__, words)`: a dict lookup in C
    per word, cheaper than calling even an `lru_cache`d function. Bounded: emptied when full."""

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[str], _V]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, word: str) -> _V:
        if len(self) >= _MEMO_SIZE:
            self.clear()
        value = self[word] = self._compute(word)
        return value


_KEEP_S: Final = frozenset({"himars", "mlrs", "abrams", "its", "was", "has", "this"})


@lru_cache(maxsize=65_536)
def singular(word: str) -> str:
    """Enough English plural folding for loss nouns: losses, casualties, howitzers, t-72s."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith("ss") or word in _KEEP_S:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    return word[:-1]


SINGULAR: Final = Memo(singular)


def _index(terms: dict[str, tuple[str, ...]]) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for name, phrases in terms.items():
        for phrase in phrases:
            words = tuple(phrase.split())
            index.setdefault(words[0], []).append((words, name))
    for entries in index.values():
        entries.sort(key=lambda entry: len(entry[0]), reverse=True)
    return index


_CATEGORY_INDEX: Final = _index(_CATEGORY_TERMS)


def category_at(words: list[str], i: int) -> tuple[str, int] | None:
    """The category term starting at words[i] (words already lower-case and singular), as
    (category name or NOT_A_CATEGORY, number of words), longest term first."""
    for term, name in _CATEGORY_INDEX.get(words[i], ()):
        n = len(term)
        if tuple(words[i : i + n]) == term:
            return name, n
    return None


_KILLED: Final = (
    "killed", "dead", "death", "deaths", "death toll", "fatalities", "lost their lives",
    "irrecoverable",
)  # fmt: skip
_WOUNDED: Final = ("wounded", "injured")
_CAPTURED: Final = ("captured", "prisoners", "pows", "taken prisoner", "surrendered")


def _whole_words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{'|'.join(re.escape(w) for w in words)})\b")


_KILLED_RE: Final = _whole_words(_KILLED)
_WOUNDED_RE: Final = _whole_words(_WOUNDED)
_CAPTURED_RE: Final = _whole_words(_CAPTURED)


def _says(context: str, words: tuple[str, ...], pattern: re.Pattern[str]) -> bool:
    # A substring test first: most contexts hold none of the words, and `in` is far cheaper
    # than a search that tries the pattern at every position.
    return any(w in context for w in words) and pattern.search(context) is not None


def personnel_measure(context: str) -> Measure:
    """What a personnel figure counts, from the words around it; both killed and wounded
    (or neither) mean casualties."""
    killed = _says(context, _KILLED, _KILLED_RE)
    wounded = _says(context, _WOUNDED, _WOUNDED_RE)
    if killed and not wounded:
        return Measure.killed
    if wounded and not killed:
        return Measure.wounded
    if not killed and not wounded and _says(context, _CAPTURED, _CAPTURED_RE):
        return Measure.captured
    return Measure.casualties


# Sides, as single lower-case words. Foreign-made kit on the battlefield is Ukraine's;
# "enemy" depends on who speaks.
_RUSSIA_WORDS: Final = frozenset(
    (
        "russian", "russia", "russia's", "moscow", "moscow's", "kremlin", "kremlin's", "wagner",
        "occupier", "invader",
    )
)  # fmt: skip
_UKRAINE_WORDS: Final = frozenset(
    (
        "ukrainian", "ukraine", "ukraine's", "kyiv", "kyiv's", "kiev", "kiev's", "western", "nato",
    )
)  # fmt: skip
_SUPPLIED = ("-made", "-supplied", "-provided", "-built", "-donated")
_RUSSIAN_MAKERS: Final = frozenset({"russian", "russia", "iranian", "iran"})


@lru_cache(maxsize=65_536)
def side_of(word: str) -> str | None:
    """`russia`, `ukraine` or `enemy` for a word that names whose losses a figure counts."""
    if word in _RUSSIA_WORDS:
        return "russia"
    if word in _UKRAINE_WORDS:
        return "ukraine"
    if word == "enemy":
        return "enemy"
    if word.endswith(_SUPPLIED):
        maker = word.rsplit("-", 1)[0]
        return "russia" if maker in _RUSSIAN_MAKERS else "ukraine"
    return None


SIDE_OF: Final = Memo(side_of)

# A country named after one of these is a place or an object, not the side that lost.
LOCATION_WORDS: Final = frozenset(
    (
        "in", "of", "into", "across", "from", "against", "on", "to", "throughout", "inside",
        "within", "for", "over", "with", "at", "invade", "invades", "invaded", "invading",
        "attacked", "attack",
    )
)  # fmt: skip

_QUALIFIER_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "more_than": (
        "more than", "over", "beyond", "in excess of", "upwards of", "above", "exceeding",
        "exceeded", "surpassed", "surpassing", "passed", "topped", "topping",
    ),
    "at_least": ("at least", "no fewer than", "not less than", "no less than", "a minimum of"),
    "up_to": ("up to", "as many as", "no more than", "fewer than", "less than", "under"),
    "about": (
        "about", "around", "roughly", "nearly", "almost", "approximately", "some", "close to",
        "an estimated", "estimated", "approx.", "circa", "~",
    ),
}  # fmt: skip
# Applied to the text just before a number; the trailing `$` anchors it there. Only "about"
# may touch the number ("~300").
QUALIFIER_BEFORE_RE: Final = re.compile(
    "|".join(
        rf"\b(?P<{name}>{'|'.join(re.escape(p) for p in phrases)})"
        + (r"\s*$" if name == "about" else r"\s+$")
        for name, phrases in _QUALIFIER_PHRASES.items()
    )
)
# What text QUALIFIER_BEFORE_RE matches ends with once trailing spaces are dropped.
QUALIFIER_BEFORE_ENDINGS: Final = tuple(
    sorted({p.split()[-1] for phrases in _QUALIFIER_PHRASES.values() for p in phrases})
)


def search_before(
    pattern: re.Pattern[str], endings: tuple[str, ...], before: str
) -> re.Match[str] | None:
    """`pattern.search(before)` for a pattern anchored at the end by `\\s*$`, answered at once
    when `before` (trailing spaces dropped) ends with none of `endings`: the search would try
    the pattern at every position only to fail."""
    if not before.rstrip().endswith(endings):
        return None
    return pattern.search(before)


QUALIFIERS: Final = {q.value: q for q in Qualifier}

TOTAL_MARKER_RE: Final = re.compile(
    r"\b(?:total|totals|totalled|totaled|in all|overall|altogether|cumulative|so far|to date"
    r"|since the (?:start|beginning|outset) of|since (?:the )?(?:full-scale )?(?:war|conflict"
    r"|invasion)|(?:war|conflict|invasion) (?:began|started)|since (?:feb\.?|february) 24"
    r"|since 24 (?:feb\.?|february)|in the war|throughout the war|in the (?:full-scale )?invasion"
    r"|bringing|brings|bring)\b",
)
# Every TOTAL_MARKER_RE match holds one of these: a sentence with none of them is not scanned.
TOTAL_MARKER_WORDS: Final = (
    "total", "since", "bring", "in all", "overall", "altogether", "cumulative", "so far",
    "to date", "began", "started", "in the war", "throughout", "invasion",
)  # fmt: skip
# Phrases that state a period; a number inside one counts days, not losses.
_NUM_WORD = r"(?:\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen)"
PERIOD_RE: Final = re.compile(
    r"\b(?P<day>over the course of (?:a|one) (?:single )?day|in (?:a|one) (?:single )?day"
    r"|in a 24-hour period|(?:in|over|during) the (?:past|last|previous) (?:24 hours|day)"
    r"|in 24 hours|per day|daily|overnight|on a single day)\b"
    r"|\b(?P<week>(?:in|over|during) the (?:past|last|previous) week)\b"
    rf"|\b(?:in|over|during) the (?:past|last|previous) (?P<count>{_NUM_WORD}) "
    r"(?P<unit>days|weeks)\b",
)
# A verb of destruction before a figure tells of an engagement (a delta), not a tally.
DESTRUCTION_RE: Final = re.compile(
    r"\b(?:destroyed|destroying|destroy|shot down|shooting down|downed|struck|hit"
    r"|eliminated|knocked out|wiped out|neutrali[sz]ed|took out|taken out)\b",
)

SMALL_NUMBER_WORDS: Final[dict[str, int]] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "a dozen": 12, "dozen": 12,
    "a hundred": 100, "one hundred": 100, "a pair of": 2, "a couple of": 2,
}  # fmt: skip
_WORDS_ALT = "|".join(sorted((re.escape(w) for w in SMALL_NUMBER_WORDS), key=len, reverse=True))

# Figures are found by two cheap passes instead of one rich pattern: digits (a digit-led
# pattern lets the regex engine skip straight to digits) and, on the lower-cased text, number
# words and the vague plurals that count nothing.
DIGITS_RE: Final = re.compile(r"\d(?:[\d,.\u00a0\u2009\u202f]*\d)?")
# Vague plurals that count nothing, longest first.
UNCOUNTED: Final = (
    "tens of thousands", "hundreds of thousands", "thousands", "hundreds", "dozens", "scores",
    "millions",
)  # fmt: skip
NUMBER_WORD_RE: Final = re.compile(
    rf"\b(?:(?P<word>(?:{_WORDS_ALT})(?:-(?:one|two|three|four|five|six|seven|eight|nine))?)"
    rf"|(?P<uncounted>{'|'.join(re.escape(w) for w in UNCOUNTED)}))\b"
)
MULTIPLIER_RE: Final = re.compile(r"\s+(million|thousand)\b", re.IGNORECASE)
# A well-formed figure: thousands groups of three, an optional decimal part.
WELL_FORMED_RE: Final = re.compile(r"\d{1,3}(?:[,\u00a0\u2009\u202f]\d{3})+|\d+(?:\.\d+)?")

# What a number that is not a claim looks like, judged from the few characters after it.
AFTER_NOT_A_CLAIM_RE: Final = re.compile(
    r"(?P<percentage>\s?(?:%|percent\b|per cent\b))"
    r"|(?P<ordinal>(?:st|nd|rd|th)\b)"
    r"|(?P<measurement>\s?(?:-?(?:mm|km|kg|m|cm)\b|(?:kilomet(?:er|re)s?|miles?|met(?:er|re)s?"
    r"|tonnes?|tons?|hectares?|square|sq|calib(?:er|re))\b))"
    r"|(?P<unit_size>-?\s?strong\b|-man\b|-member\b)"
    r"|(?P<age>-year-old)"
    r"|(?P<duration>[\s-](?:years?|months?|weeks?|days?|hours?|minutes?|seconds?)\b)"
    r"|(?P<money>\s(?:dollars|euros|pounds|hryvnias?|rubles|roubles|usd|eur)\b)",
)
# What text BEFORE_NOT_A_CLAIM_RE matches ends with once trailing spaces are dropped.
BEFORE_NOT_A_CLAIM_ENDINGS: Final = (
    "$", "€", "£", "₴", "of", "no.", "number", "nos.", "page", "article", "section",
    "paragraph",
)  # fmt: skip
BEFORE_NOT_A_CLAIM_RE: Final = re.compile(
    r"(?P<money>[$€£₴]\s?$)"
    r"|\b(?P<unit_size>(?:battalions?|brigades?|regiments?|divisions?|compan(?:y|ies)|units?"
    r"|contingents?|groups?|forces?|force|army|convoy) of\s+$)"
    r"|\b(?P<ordinal>(?:no\.|number|nos\.|page|article|section|paragraph)\s*$)",
)
