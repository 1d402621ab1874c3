"""The English prose vocabulary of loss claims in news articles: how equipment, sides,
qualifiers, periods and non-claim numbers are written. Kept apart from the report parser's
label table on purpose: journalists name things differently from the General Staff.

Every pattern is a flat alternation of literals or bounded classes, so none can backtrack
catastrophically; they run on one sentence or a short window at a time."""

from __future__ import annotations

import re
from typing import Final

from attrition.contracts.vocabulary import Category, Measure, Qualifier

_I = re.IGNORECASE
_APOS = "['’]"

# Group order is priority at one position ("artillery rocket systems" is mlrs, not
# artillery); leftmost-first matching settles "anti-aircraft" vs "aircraft" and
# "fuel tanks" vs "tanks" because the longer term starts earlier.
_CATEGORY_TERMS: Final[tuple[tuple[str, str], ...]] = (
    (
        "not_a_category",
        r"think[- ]tanks?|civilians?|residents|children|people|pieces of (?:military )?equipment"
        r"|units of (?:military )?equipment|(?:military )?equipment",
    ),
    (
        Category.mlrs.value,
        r"himars|m142s?|m270s?|mlrs|high[- ]mobility artillery rocket systems?"
        r"|multiple[- ]launch rocket systems?|multiple[- ]rocket[- ]launch(?:ers?|ing systems?)"
        r"|multiple rocket launchers?|rocket launchers?|rocket artillery|artillery rocket systems?"
        r"|rocket systems?|grads?|uragans?|smerchs?",
    ),
    (
        Category.anti_aircraft_systems.value,
        r"anti-aircraft(?: warfare)?(?: missile)?(?: systems?| guns?| batteries)?"
        r"|air[- ]defen[cs]e (?:systems?|batteries|launchers?|units)"
        r"|surface-to-air missile (?:systems?|launchers?|batteries)|sam (?:systems?|launchers?)"
        r"|patriot (?:systems?|batteries|launchers?)|s-300s?|s-400s?|buks?|pantsirs?",
    ),
    (
        Category.cruise_missiles.value,
        r"cruise missiles?|kalibrs?|kh-101s?|kh-555s?",
    ),
    (
        Category.ground_robotic_systems.value,
        r"ground robotic (?:systems|complexes)|unmanned ground vehicles?|ground robots?|ugvs?",
    ),
    (
        Category.uav.value,
        r"drones?|uavs?|unmanned aerial vehicles?|unmanned aircraft(?: systems?)?|shaheds?"
        r"|operational[- ]tactical(?: level)? uavs?|loitering munitions?",
    ),
    (
        Category.artillery_systems.value,
        r"howitzers?|artillery (?:systems?|pieces|guns|units)|artillery|field guns?"
        r"|self-propelled guns?|cannons?|mortars?|m777s?|caesars?|pzh ?2000s?|krabs?",
    ),
    (
        Category.armoured_combat_vehicles.value,
        r"armou?red (?:combat|fighting|personnel) (?:vehicles?|carriers?)|armou?red vehicles?"
        r"|armou?red personnel carriers?|apcs?|ifvs?|infantry fighting vehicles?"
        r"|fighting vehicles?|combat vehicles?|armou?red cars?|bradleys?|strykers?|marders?"
        r"|bmps?|btrs?|mraps?",
    ),
    (
        Category.vehicles_fuel_tanks.value,
        r"vehicles and fuel tanks|fuel tanks?|fuel tankers?|trucks?"
        r"|(?:military |motor |army )?vehicles?|automotive equipment",
    ),
    (
        Category.tanks.value,
        r"main battle tanks?|tanks?|leopards?|abrams|challenger 2s?|t-(?:64|72|80|90)s?",
    ),
    (
        Category.helicopters.value,
        r"helicopters?|choppers?|gunships?|ka-52s?",
    ),
    (
        Category.aircraft.value,
        r"(?:fighter |military |combat )?(?:aircraft|planes?|jets?)|warplanes?|bombers?"
        r"|su-(?:24|25|27|30|34|35)s?|mig-(?:29|31)s?|f-16s?",
    ),
    (
        Category.warships_boats.value,
        r"warships?|(?:naval )?ships?|boats?|vessels?|cutters?|corvettes?|frigates?",
    ),
    (Category.submarines.value, r"submarines?"),
    (
        Category.special_equipment.value,
        r"special (?:military )?equipment",
    ),
    (
        Category.mobile_srbm_systems.value,
        r"mobile srbm systems?|srbm launchers?|iskander launchers?",
    ),
    (
        Category.personnel.value,
        r"(?:military |army |combat |enemy |personnel )?(?:personnel|casualties|losses)"
        r"|troops|soldiers|servicemen|service ?members|fighters|mercenaries|conscripts|men"
        r"|occupiers|invaders|killed|dead|deaths|fatalities|wounded|injured|captured"
        r"|prisoners(?: of war)?|pows",
    ),
)
NOT_A_CATEGORY: Final = "not_a_category"

CATEGORY_RE: Final = re.compile(
    "|".join(f"(?P<{name}>\\b(?:{pattern})\\b)" for name, pattern in _CATEGORY_TERMS), _I
)

_KILLED_RE: Final = re.compile(
    r"\b(?:killed|dead|deaths?|death toll|fatalities|lost their lives|irrecoverable)\b", _I
)
_WOUNDED_RE: Final = re.compile(r"\b(?:wounded|injured)\b", _I)
_CAPTURED_RE: Final = re.compile(r"\b(?:captured|prisoners|pows|taken prisoner|surrendered)\b", _I)


def personnel_measure(context: str) -> Measure:
    """What a personnel figure counts, from the words around it; both killed and wounded
    (or neither) mean casualties."""
    killed = _KILLED_RE.search(context) is not None
    wounded = _WOUNDED_RE.search(context) is not None
    if killed and not wounded:
        return Measure.killed
    if wounded and not killed:
        return Measure.wounded
    if not killed and not wounded and _CAPTURED_RE.search(context) is not None:
        return Measure.captured
    return Measure.casualties


# Sides. Foreign-made kit on the battlefield is Ukraine's; "enemy" depends on who speaks.
SIDE_RE: Final = re.compile(
    rf"\b(?P<russia>russian|russia(?:{_APOS}s)?|moscow(?:{_APOS}s)?|kremlin(?:{_APOS}s)?"
    r"|wagner|occupiers|invaders)\b"
    r"|\b(?P<ukraine>(?:united states|u\.s\.|us|american|western|nato|german|british|french"
    r"|polish|foreign)[- ](?:made|supplied|provided|built|donated)"
    rf"|ukrainian|ukraine(?:{_APOS}s)?|kyiv(?:{_APOS}s)?|kiev(?:{_APOS}s)?|western)\b"
    r"|\b(?P<enemy>enemy)\b",
    _I,
)
# A country named after one of these is a place or an object, not the side that lost.
LOCATION_BEFORE_RE: Final = re.compile(
    r"\b(?:in|of|into|across|from|against|on|to|throughout|inside|within|for|over|with|at"
    r"|invade[ds]?|invading|attacked|attack)\s+(?:the\s+)?$",
    _I,
)

# Applied to the text just before a number; the trailing `$` anchors it there.
QUALIFIER_BEFORE_RE: Final = re.compile(
    r"\b(?P<more_than>more than|over|beyond|in excess of|upwards of|above|exceeding|exceeded"
    r"|surpassed|surpassing|passed|topped|topping)\s+$"
    r"|\b(?P<at_least>at least|no fewer than|not less than|no less than|a minimum of)\s+$"
    r"|\b(?P<up_to>up to|as many as|no more than|fewer than|less than|under)\s+$"
    r"|\b(?P<about>about|around|roughly|nearly|almost|approximately|some|close to"
    r"|an estimated|estimated|approx\.|circa|~)\s*$",
    _I,
)
QUALIFIERS: Final = {q.value: q for q in Qualifier}

TOTAL_MARKER_RE: Final = re.compile(
    r"\b(?:total|totals|totalled|totaled|in all|overall|altogether|cumulative|so far|to date"
    r"|since the (?:start|beginning|outset) of|since (?:the )?(?:full-scale )?(?:war|conflict"
    r"|invasion)|(?:war|conflict|invasion) (?:began|started)|since (?:feb\.?|february) 24"
    r"|since 24 (?:feb\.?|february)|in the war|throughout the war|in the (?:full-scale )?invasion"
    r"|bringing|brings|bring)\b",
    _I,
)
# Phrases that state a period; a number inside one counts days, not losses.
_NUM_WORD = r"(?:\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen)"
PERIOD_RE: Final = re.compile(
    r"\b(?P<day>over the course of (?:a|one) (?:single )?day|in (?:a|one) (?:single )?day"
    r"|in a 24-hour period|(?:in|over|during) the (?:past|last|previous) (?:24 hours|day)"
    r"|in 24 hours|per day|daily|overnight|on a single day)\b"
    r"|\b(?P<week>(?:in|over|during) the (?:past|last|previous) week)\b"
    rf"|\b(?:in|over|during) the (?:past|last|previous) (?P<count>{_NUM_WORD}) "
    r"(?P<unit>days|weeks)\b",
    _I,
)
BETWEEN_DAYS_RE: Final = re.compile(
    r"\bbetween (?P<first>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r" and (?P<second>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
# A verb of destruction before a figure tells of an engagement (a delta), not a tally.
DESTRUCTION_RE: Final = re.compile(
    r"\b(?:destroyed|destroying|destroy|shot down|shooting down|downed|struck|hit"
    r"|eliminated|knocked out|wiped out|neutrali[sz]ed|took out|taken out)\b",
    _I,
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

# One pass over the text finds every figure-like token: model designations, digits (with
# thousands separators and a million/thousand multiplier), number words, and the vague
# plurals that count nothing.
NUMBER_TOKEN_RE: Final = re.compile(
    r"(?P<model>\b[A-Za-z][A-Za-z.]{0,6}-?\d[\w-]{0,12})"
    r"|(?<![\w.,])(?P<digits>\d{1,3}(?:[,\u00a0\u2009\u202f]\d{3})+(?![\d,])|\d+(?:\.\d+)?)"
    r"(?P<multiplier>\s+(?:million|thousand)\b)?"
    r"|\b(?P<uncounted>(?:tens|hundreds) of thousands|thousands|hundreds|dozens|scores"
    r"|millions)\b"
    rf"|\b(?P<word>(?:{_WORDS_ALT})(?:-(?:one|two|three|four|five|six|seven|eight|nine))?)\b",
    _I,
)

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
    _I,
)
BEFORE_NOT_A_CLAIM_RE: Final = re.compile(
    r"(?P<money>[$€£₴]\s?$)"
    r"|\b(?P<unit_size>(?:battalions?|brigades?|regiments?|divisions?|compan(?:y|ies)|units?"
    r"|contingents?|groups?|forces?|force|army|convoy) of\s+$)"
    r"|\b(?P<ordinal>(?:no\.|number|nos\.|page|article|section|paragraph)\s*$)",
    _I,
)
