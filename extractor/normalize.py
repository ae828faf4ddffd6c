"""Normalise surface forms (actors, durations, territories, language) to canonical values."""

# Russian and Ukrainian words are this module's data, so Cyrillic letters that look Latin are
# expected in its strings and comments.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Final, Literal

__all__ = [
    "ActorKind",
    "actor_code",
    "actor_kind",
    "canonical_territory",
    "detect_language",
    "duration_spans",
    "find_durations",
    "parse_hours",
]

ActorKind = Literal["state", "organization", "person", "group", "other"]

_ORGANIZATION_CODES: Final[frozenset[str]] = frozenset({"NATO", "EU", "UN", "G7", "OSCE"})

# ---------------------------------------------------------------------------------------------
# Shared text folding
# ---------------------------------------------------------------------------------------------

_CHAR_TABLE: Final[dict[int, str]] = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u02bc\u2032\u0060\u00b4"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"},
}


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def _fold_char(ch: str) -> str:
    if _is_cyrillic(ch):
        return "\u0435" if ch == "\u0451" else ch
    # "Élysée", "Türkiye" and "Chișinău" reach us with and without their accents.
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding each character, filled the first time one is seen: the
    work is done once per distinct character, not once per character of the text."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE: Final[_FoldTable] = _FoldTable()


def _fold(text: str) -> str:
    """Lower-case, unify apostrophes and dashes, and drop Latin diacritics.

    Cyrillic is kept whole apart from YO -> IE: decomposing it would turn SHORT I into I and
    merge words that Russian keeps apart, while YO and IE are written interchangeably.
    """
    lowered = text.translate(_CHAR_TABLE).lower()
    return lowered if lowered.isascii() else lowered.translate(_FOLD_TABLE)


def _key(text: str) -> str:
    """Fold ``text`` into a lookup key: no dots ("U.S." == "US"), hyphens as spaces."""
    folded = _fold(text).replace(".", "")
    return re.sub(r"[\s\-_/]+", " ", folded).strip()


def _alternation(words: Iterable[str]) -> str:
    """Regex group matching any of ``words``, tried longest first ("seventeen" before "seven")."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


# ---------------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------------

# Exact (folded) names. Leaders are deliberately absent: a person who speaks for a state is an
# actor of kind "person", and mapping "Putin" to RUS would hide who actually made the proposal.
# "Brussels" is absent too: it stands for the EU as often as for Belgium.
_ACTOR_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "UKR": ("Ukraine", "Ukrainian", "Ukrainians", "Kyiv", "Kiev"),
    "RUS": (
        "Russia",
        "Russian",
        "Russians",
        "Russian Federation",
        "Moscow",
        "Kremlin",
    ),
    "USA": (
        "United States",
        "United States of America",
        "US",
        "USA",
        "America",
        "American",
        "Americans",
        "Washington",
        "Washington DC",
        "White House",
        "Pentagon",
        "State Department",
        "US State Department",
    ),
    "GBR": (
        "United Kingdom",
        "UK",
        "Britain",
        "Great Britain",
        "British",
        "Britons",
        "London",
        "Downing Street",
        "Number 10",
        "No 10",
        "Whitehall",
    ),
    "FRA": ("France", "French", "Paris", "Elysee", "Elysee Palace", "Quai d'Orsay"),
    "DEU": ("Germany", "German", "Germans", "Berlin", "Federal Republic of Germany"),
    "TUR": ("Turkey", "Türkiye", "Turkish", "Turks", "Ankara"),
    "CAN": ("Canada", "Canadian", "Canadians", "Ottawa"),
    "POL": ("Poland", "Polish", "Warsaw"),
    "ISR": ("Israel", "Israeli", "Israelis", "Tel Aviv", "Jerusalem"),
    "ITA": ("Italy", "Italian", "Italians", "Rome"),
    "ESP": ("Spain", "Spanish", "Madrid"),
    "CHN": ("China", "Chinese", "People's Republic of China", "PRC", "Beijing", "Peking"),
    "IND": ("India", "Indian", "New Delhi"),
    "BLR": (
        "Belarus",
        "Belarusian",
        "Belarussian",
        "Byelorussian",
        "Belorussia",
        "Byelorussia",
        "Minsk",
    ),
    "MDA": ("Moldova", "Moldovan", "Moldavia", "Republic of Moldova", "Chisinau", "Kishinev"),
    "GEO": ("Georgia", "Georgian", "Georgians", "Tbilisi"),
    "KAZ": ("Kazakhstan", "Kazakh", "Kazakhstani", "Astana"),
    "JPN": ("Japan", "Japanese", "Tokyo"),
    "NLD": ("Netherlands", "Dutch", "Holland", "Hague", "Amsterdam"),
    "BEL": ("Belgium", "Belgian"),
    "DNK": ("Denmark", "Danish", "Copenhagen"),
    "SWE": ("Sweden", "Swedish", "Stockholm"),
    "FIN": ("Finland", "Finnish", "Helsinki"),
    "NOR": ("Norway", "Norwegian", "Oslo"),
    "EST": ("Estonia", "Estonian", "Tallinn"),
    "LVA": ("Latvia", "Latvian", "Riga"),
    "LTU": ("Lithuania", "Lithuanian", "Vilnius"),
    "ROU": ("Romania", "Romanian", "Bucharest"),
    "HUN": ("Hungary", "Hungarian", "Budapest"),
    "SVK": ("Slovakia", "Slovak", "Slovakian", "Bratislava"),
    "CZE": ("Czech Republic", "Czechia", "Czech", "Prague"),
    "AUT": ("Austria", "Austrian", "Vienna"),
    "CHE": ("Switzerland", "Swiss", "Bern", "Berne"),
    "BGR": ("Bulgaria", "Bulgarian"),
    "GRC": ("Greece", "Greek", "Athens"),
    "PRT": ("Portugal", "Portuguese", "Lisbon"),
    "IRL": ("Ireland", "Irish", "Dublin"),
    "AUS": ("Australia", "Australian", "Australians", "Canberra"),
    "NZL": ("New Zealand", "New Zealander"),
    "KOR": ("South Korea", "South Korean", "Republic of Korea", "ROK", "Seoul"),
    "SAU": ("Saudi Arabia", "Saudi", "Saudis", "Riyadh"),
    "QAT": ("Qatar", "Qatari", "Doha"),
    "ARE": ("United Arab Emirates", "UAE", "Emirates", "Emirati", "Abu Dhabi"),
    "IRN": ("Iran", "Iranian", "Islamic Republic of Iran", "Tehran", "Teheran"),
    "PRK": ("North Korea", "North Korean", "DPRK", "Pyongyang"),
    "BRA": ("Brazil", "Brazilian", "Brasilia"),
    "ZAF": ("South Africa", "South African", "Pretoria"),
    "AZE": ("Azerbaijan", "Azerbaijani", "Azeri", "Baku"),
    "ARM": ("Armenia", "Armenian", "Yerevan"),
    "VAT": ("Vatican", "Vatican City", "Holy See"),
    "SVN": ("Slovenia", "Slovenian", "Slovene", "Ljubljana"),
    "HRV": ("Croatia", "Croatian", "Zagreb"),
    "SRB": ("Serbia", "Serbian", "Belgrade"),
    # "the alliance" alone is left out on purpose: articles use it for NATO, for the coalition
    # of the willing and for bilateral pacts alike.
    "NATO": (
        "NATO",
        "North Atlantic Treaty Organization",
        "North Atlantic Treaty Organisation",
        "North Atlantic Alliance",
        "Atlantic Alliance",
        "NATO alliance",
        "OTAN",
    ),
    "EU": (
        "EU",
        "European Union",
        "European Commission",
        "European Council",
        "EU Commission",
    ),
    "UN": (
        "UN",
        "United Nations",
        "UN Security Council",
        "United Nations Security Council",
        "UNSC",
        "Security Council",
        "UN General Assembly",
        "United Nations General Assembly",
        "UNGA",
    ),
    "G7": ("G7", "G-7", "Group of Seven", "Group of 7", "Big Seven", "Г7"),
    "OSCE": (
        "OSCE",
        "Organization for Security and Co-operation in Europe",
        "Organization for Security and Cooperation in Europe",
        "Organisation for Security and Co-operation in Europe",
        "Organisation for Security and Cooperation in Europe",
    ),
}

# Russian declension: a word is "stem:PARADIGM" (the stem takes any ending of the paradigm) or
# a bare word (indeclinable). Matching whole words against stem + known ending is what keeps
# "Польша" from matching "польза" or "Дания" from matching "дань"/"дани".
_ADJECTIVE_ENDINGS: Final[tuple[str, ...]] = (
    "ий",
    "ый",
    "ой",
    "ая",
    "яя",
    "ое",
    "ее",
    "ие",
    "ые",
    "ого",
    "его",
    "ому",
    "ему",
    "ом",
    "ем",
    "ую",
    "юю",
    "ей",
    "ых",
    "их",
    "ым",
    "им",
    "ыми",
    "ими",
    "ою",
    "ею",
)
_PARADIGMS: Final[dict[str, tuple[str, ...]]] = {
    "IA": ("я", "и", "е", "ю", "ей", "ею"),  # Россия, Корея
    "A": ("а", "ы", "и", "е", "у", "ой", "ою", "і"),  # Украина, Польша (і: Ukrainian Україні)
    "M": ("", "а", "у", "е", "ом", "ем"),  # Казахстан, Париж
    "MS": ("ь", "я", "ю", "ем", "е"),  # Израиль, Кремль
    "FS": ("ь", "и", "ью"),  # Беларусь
    "Y": ("й", "я", "ю", "ем", "е"),  # Китай
    "PL": ("ы", "ов", "ам", "ами", "ах"),  # Нидерланды, Штаты
    "NO": ("о", "а", "у", "е", "ом"),  # Королевство
    "ADJ": _ADJECTIVE_ENDINGS,
}

_RU_ACTOR_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "UKR": ("украин:A", "украинск:ADJ", "киев:M", "киевск:ADJ"),
    "RUS": (
        "росси:IA",
        "рф",
        "российск:ADJ",
        "российск:ADJ федераци:IA",
        "русск:ADJ",
        "москв:A",
        "кремл:MS",
    ),
    "USA": (
        "сша",
        "америк:A",
        "американск:ADJ",
        "соединенн:ADJ штат:PL",
        "соединенн:ADJ штат:PL америк:A",
        "вашингтон:M",
        "бел:ADJ дом:M",
        "пентагон:M",
        "госдеп:M",
        "госдепартамент:M",
    ),
    "GBR": (
        "великобритани:IA",
        "британи:IA",
        "британск:ADJ",
        "англи:IA",
        "соединенн:ADJ королевств:NO",
        "лондон:M",
    ),
    "FRA": ("франци:IA", "французск:ADJ", "париж:M", "елисейск:ADJ дворц:M", "елисейск:ADJ дворец"),
    "DEU": ("германи:IA", "немецк:ADJ", "германск:ADJ", "фрг", "берлин:M"),
    "TUR": ("турци:IA", "турецк:ADJ", "анкар:A"),
    "CAN": ("канад:A", "канадск:ADJ", "оттав:A"),
    "POL": ("польш:A", "польск:ADJ", "варшав:A"),
    "ISR": ("израил:MS", "израильск:ADJ", "тель авив:M", "иерусалим:M"),
    "ITA": ("итали:IA", "итальянск:ADJ", "рим:M"),
    "ESP": ("испани:IA", "испанск:ADJ", "мадрид:M"),
    "CHN": ("кита:Y", "китайск:ADJ", "кнр", "пекин:M"),
    "IND": ("инди:IA", "индийск:ADJ", "нью дели"),
    "BLR": ("беларус:FS", "белорусси:IA", "белорусск:ADJ", "минск:M"),
    "MDA": ("молдов:A", "молдави:IA", "молдавск:ADJ", "молдовск:ADJ", "кишинев:M"),
    "GEO": ("грузи:IA", "грузинск:ADJ", "тбилиси"),
    "KAZ": ("казахстан:M", "казахстанск:ADJ", "астан:A"),
    "JPN": ("япони:IA", "японск:ADJ", "токио"),
    "NLD": ("нидерланд:PL", "нидерландск:ADJ", "голланди:IA", "голландск:ADJ"),
    "BEL": ("бельги:IA", "бельгийск:ADJ"),
    "DNK": ("дани:IA", "датск:ADJ", "копенгаген:M"),
    "SWE": ("швеци:IA", "шведск:ADJ", "стокгольм:M"),
    "FIN": ("финлянди:IA", "финск:ADJ", "финляндск:ADJ", "хельсинки"),
    "NOR": ("норвеги:IA", "норвежск:ADJ", "осло"),
    "EST": ("эстони:IA", "эстонск:ADJ", "таллин:M", "таллинн:M"),
    "LVA": ("латви:IA", "латвийск:ADJ", "латышск:ADJ"),
    "LTU": ("литв:A", "литовск:ADJ", "вильнюс:M"),
    "ROU": ("румыни:IA", "румынск:ADJ", "бухарест:M"),
    "HUN": ("венгри:IA", "венгерск:ADJ", "будапешт:M"),
    "SVK": ("словаки:IA", "словацк:ADJ", "братислав:A"),
    "CZE": ("чехи:IA", "чешск:ADJ", "чешск:ADJ республик:A", "праг:A"),
    "AUT": ("австри:IA", "австрийск:ADJ"),
    "CHE": ("швейцари:IA", "швейцарск:ADJ"),
    "BGR": ("болгари:IA", "болгарск:ADJ"),
    "GRC": ("греци:IA", "греческ:ADJ"),
    "PRT": ("португали:IA", "португальск:ADJ"),
    "IRL": ("ирланди:IA", "ирландск:ADJ"),
    "AUS": ("австрали:IA", "австралийск:ADJ"),
    "NZL": ("нов:ADJ зеланди:IA", "новозеландск:ADJ"),
    "KOR": ("южн:ADJ коре:IA", "южнокорейск:ADJ", "сеул:M"),
    "SAU": ("саудовск:ADJ арави:IA", "саудовск:ADJ"),
    "QAT": ("катар:M", "катарск:ADJ"),
    "ARE": ("оаэ", "объединенн:ADJ арабск:ADJ эмират:PL", "эмират:PL"),
    "IRN": ("иран:M", "иранск:ADJ", "тегеран:M"),
    "PRK": ("кндр", "северн:ADJ коре:IA", "северокорейск:ADJ", "пхеньян:M"),
    "BRA": ("бразили:IA", "бразильск:ADJ"),
    "ZAF": ("юар", "южн:ADJ африк:A", "южноафриканск:ADJ"),
    "AZE": ("азербайджан:M", "азербайджанск:ADJ", "баку"),
    "ARM": ("армени:IA", "армянск:ADJ", "ереван:M"),
    "VAT": ("ватикан:M", "свят:ADJ престол:M"),
    "SVN": ("словени:IA", "словенск:ADJ"),
    "HRV": ("хорвати:IA", "хорватск:ADJ"),
    "SRB": ("серби:IA", "сербск:ADJ", "белград:M"),
    "NATO": ("нато", "североатлантическ:ADJ альянс:M", "североатлантическ:ADJ союз:M"),
    "EU": (
        "ес",
        "евросоюз:M",
        "европейск:ADJ союз:M",
        "еврокомисси:IA",
        "европейск:ADJ комисси:IA",
    ),
    # Without "ООН", "совет безопасности" is as likely to be Russia's own Security Council.
    "UN": (
        "оон",
        "совет:M безопасности оон",
        "совбез:M оон",
        "сб оон",
        "генассамбле:IA оон",
        "генеральн:ADJ ассамбле:IA оон",
    ),
    "G7": ("больш:ADJ семерк:A", "г 7"),
    "OSCE": ("обсе", "организаци:IA по безопасности и сотрудничеству в европе"),
}

# Words naming the apparatus of a state rather than a different actor: "the Ukrainian side",
# "US officials", "правительство Украины" all stand for the state itself. "President" is not
# here on purpose: a head of state is a person.
_EN_HEAD_NOUNS: Final[frozenset[str]] = frozenset(
    {
        "government",
        "administration",
        "authorities",
        "leadership",
        "side",
        "officials",
        "cabinet",
        "negotiators",
        "delegation",
        "diplomats",
        "ministry",
        "military",
        "forces",
        "troops",
        "leaders",
    }
)
_RU_HEAD_STEMS: Final[tuple[str, ...]] = (
    "правительств",
    "власт",
    "сторон",
    "руководств",
    "администраци",
)

_Word = tuple[str, tuple[str, ...]]


def _build_exact_names() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, names in _ACTOR_NAMES.items():
        for name in names:
            key = _key(name)
            # A key claimed by two codes is a data error; fail at import, not at lookup.
            if table.setdefault(key, code) != code:
                raise ValueError(f"actor name {name!r} maps to both {table[key]} and {code}")
    return table


def _build_ru_patterns() -> tuple[tuple[tuple[_Word, ...], str], ...]:
    patterns: list[tuple[tuple[_Word, ...], str]] = []
    for code, specs in _RU_ACTOR_NAMES.items():
        for spec in specs:
            words: list[_Word] = []
            for token in spec.split():
                stem, _, paradigm = token.partition(":")
                words.append((_fold(stem), _PARADIGMS[paradigm] if paradigm else ("",)))
            patterns.append((tuple(words), code))
    return tuple(patterns)


_EXACT_ACTORS: Final[dict[str, str]] = _build_exact_names()
_RU_ACTOR_PATTERNS: Final[tuple[tuple[tuple[_Word, ...], str], ...]] = _build_ru_patterns()

_EDGE_CHARS: Final[str] = " \t\r\n\"'«»“”„()[]{}<>,.;:!?*_/\\|-"
_LEADING_THE_RE: Final[re.Pattern[str]] = re.compile(r"^the\s+", re.IGNORECASE)
_POSSESSIVE_RE: Final[re.Pattern[str]] = re.compile(r"'s$", re.IGNORECASE)


def _actor_core(name: str) -> str:
    """Strip quotes, punctuation, a leading "the" and a possessive "'s" from an actor name."""
    core = name.translate(_CHAR_TABLE).strip(_EDGE_CHARS)
    core = _POSSESSIVE_RE.sub("", core).strip(_EDGE_CHARS)
    return _LEADING_THE_RE.sub("", core).strip(_EDGE_CHARS)


def _is_ru_head(word: str) -> bool:
    folded = _fold(word)
    return any(folded.startswith(s) and len(folded) - len(s) <= 3 for s in _RU_HEAD_STEMS)


def _actor_candidates(words: list[str]) -> Iterator[list[str]]:
    """Yield ``words`` and then the same words with head nouns peeled off either end."""
    yield words
    while len(words) > 1 and (_fold(words[-1]) in _EN_HEAD_NOUNS or _is_ru_head(words[-1])):
        words = words[:-1]
        yield words
    while len(words) > 1 and _is_ru_head(words[0]):
        words = words[1:]
        yield words


def _match_ru(key: str) -> str | None:
    tokens = key.split()
    for pattern, code in _RU_ACTOR_PATTERNS:
        if len(pattern) == len(tokens) and all(
            token.startswith(stem) and token[len(stem) :] in endings
            for token, (stem, endings) in zip(tokens, pattern, strict=True)
        ):
            return code
    return None


def actor_code(name: str) -> str | None:
    """Resolve an actor's surface name to a canonical code.

    Args:
        name: An actor as written in an article or by the model, in English or Russian, e.g.
            "the United States", "Russia’s", "Kremlin", "Германии", "НАТО".

    Returns:
        The ISO 3166-1 alpha-3 code of a state ("USA", "RUS", ...), or "NATO", "EU", "UN",
        "G7" or "OSCE" for those organisations; None when the name is unknown, vague ("the
        alliance") or a person ("Zelensky").
    """
    core = _actor_core(name)
    for words in _actor_candidates(core.split()):
        # "US" is the country, "us" the pronoun; no other short name is that ambiguous.
        if len(words) == 1 and words[0].lower() == "us" and words[0] != "US":
            return None
        key = _key(" ".join(words))
        code = _EXACT_ACTORS.get(key) or _match_ru(key)
        if code is not None:
            return code
    return None


def actor_kind(name: str) -> ActorKind | None:
    """Classify an actor by its resolved code.

    Args:
        name: An actor's surface name, as accepted by :func:`actor_code`.

    Returns:
        "organization" for NATO, EU, UN, G7 or OSCE, "state" for any other resolved code, and
        None when the name does not resolve (the caller then keeps the model's own guess).
    """
    code = actor_code(name)
    if code is None:
        return None
    return "organization" if code in _ORGANIZATION_CODES else "state"


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------

_EN_NUMBERS: Final[dict[str, int]] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

# Every case form that can stand before a unit, including the collective numerals that
# "сутки" takes ("двое суток").
_RU_NUMBER_FORMS: Final[tuple[tuple[float, tuple[str, ...]], ...]] = (
    (1, ("один", "одна", "одно", "одного", "одной", "одному", "одним", "одну", "одни", "одних")),
    (1.5, ("полтора", "полторы", "полутора")),
    (2, ("два", "две", "двух", "двум", "двумя", "двое", "двоих")),
    (3, ("три", "трех", "трем", "тремя", "трое", "троих")),
    (4, ("четыре", "четырех", "четырем", "четырьмя", "четверо")),
    (5, ("пять", "пяти", "пятью", "пятеро")),
    (6, ("шесть", "шести", "шестью", "шестеро")),
    (7, ("семь", "семи", "семью", "семеро")),
    (8, ("восемь", "восьми", "восемью")),
    (9, ("девять", "девяти", "девятью")),
    (10, ("десять", "десяти", "десятью")),
    (11, ("одиннадцать", "одиннадцати")),
    (12, ("двенадцать", "двенадцати")),
    (13, ("тринадцать", "тринадцати")),
    (14, ("четырнадцать", "четырнадцати")),
    (15, ("пятнадцать", "пятнадцати")),
    (16, ("шестнадцать", "шестнадцати")),
    (17, ("семнадцать", "семнадцати")),
    (18, ("восемнадцать", "восемнадцати")),
    (19, ("девятнадцать", "девятнадцати")),
    (20, ("двадцать", "двадцати")),
    (30, ("тридцать", "тридцати")),
    (40, ("сорок", "сорока")),
    (50, ("пятьдесят", "пятидесяти")),
    (60, ("шестьдесят", "шестидесяти")),
    (70, ("семьдесят", "семидесяти")),
    (80, ("восемьдесят", "восьмидесяти")),
    (90, ("девяносто", "девяноста")),
    (100, ("сто", "ста")),
)
_RU_NUMBERS: Final[dict[str, float]] = {
    form: value for value, forms in _RU_NUMBER_FORMS for form in forms
}

# Genitive stems that open compound adjectives: "трехдневный", "семидесятидвухчасовой".
_RU_PREFIX_TENS: Final[dict[str, int]] = {
    "двадцати": 20,
    "тридцати": 30,
    "сорока": 40,
    "пятидесяти": 50,
    "шестидесяти": 60,
    "семидесяти": 70,
    "восьмидесяти": 80,
    "девяноста": 90,
}
_RU_PREFIX_UNITS: Final[dict[str, int]] = {
    "одно": 1,
    "двух": 2,
    "трех": 3,
    "четырех": 4,
    "пяти": 5,
    "шести": 6,
    "семи": 7,
    "восьми": 8,
    "девяти": 9,
    "десяти": 10,
    "одиннадцати": 11,
    "двенадцати": 12,
    "тринадцати": 13,
    "четырнадцати": 14,
    "пятнадцати": 15,
    "шестнадцати": 16,
    "семнадцати": 17,
    "восемнадцати": 18,
    "девятнадцати": 19,
}

# Regex for a unit word mapped to its length in hours. Russian adjective forms ("72-часовой",
# "3-дневный") are the stem plus a short ending.
_UNIT_HOURS: Final[tuple[tuple[str, float], ...]] = (
    (r"hours?|hrs?|h|час(?:а|ов|у|ам|ах|ами)?|часов[а-я]{2,3}|ч", 1.0),
    (
        r"days?|день|дн(?:я|ей|ям|ях|ями|е)|дневн[а-я]{2,3}"
        r"|сут(?:ки|ок|кам|ках|очн[а-я]{2,3})?",
        24.0,
    ),
    (r"weeks?|wks?|недел(?:я|и|ь|ю|е|ям|ях|ями|ьн[а-я]{2,3})|нед", 168.0),
    # A month is counted as 30 days, the convention for deadlines.
    (r"months?|месяц(?:а|ев|у|ам|ах|ами|е|ем)?|месячн[а-я]{2,3}|мес", 720.0),
    (r"minutes?|mins?|минут(?:а|ы|у|ой|ам|ах|ами|н[а-я]{2,3})?|мин", 1.0 / 60.0),
)
_UNIT_RES: Final[tuple[tuple[re.Pattern[str], float], ...]] = tuple(
    (re.compile(pattern), hours) for pattern, hours in _UNIT_HOURS
)

_EN_WORD: Final[str] = _alternation(_EN_NUMBERS)
_RU_WORD: Final[str] = _alternation(_RU_NUMBERS)
# "a"/"an" count as one only directly before a unit or "hundred", so "a few days" finds nothing.
_EN_NUMBER: Final[str] = (
    rf"(?:(?:an?|{_EN_WORD})[\s-]+hundred(?:[\s-]+(?:and[\s-]+)?{_EN_WORD}(?:[\s-]+{_EN_WORD})?)?"
    rf"|{_EN_WORD}(?:[\s-]+{_EN_WORD})?|half(?:[\s-]+an?)?|an?)"
)
_RU_NUMBER: Final[str] = rf"{_RU_WORD}(?:\s+{_RU_WORD}){{0,2}}"
_NUMBER: Final[str] = (
    rf"(?P<num>\d+(?:[.,]\d+)?|{_EN_NUMBER}|{_RU_NUMBER})"
    r"(?P<half>\s+and\s+a\s+half|\s+с\s+половиной)?"
)
# A digit may touch its unit ("72h"); a number word needs a space or hyphen.
_SEPARATOR: Final[str] = r"(?:\s*-\s*|\s+|(?<=\d))"
_UNIT: Final[str] = "|".join(f"(?:{pattern})" for pattern, _ in _UNIT_HOURS)

_DURATION_RE: Final[re.Pattern[str]] = re.compile(
    rf"(?<!\w){_NUMBER}{_SEPARATOR}(?P<unit>{_UNIT})(?!\w)"
)
_COMPOUND_RE: Final[re.Pattern[str]] = re.compile(
    rf"(?<!\w)(?P<prefix>{_alternation(_RU_PREFIX_TENS)}{_alternation(_RU_PREFIX_UNITS)}?"
    rf"|{_alternation(_RU_PREFIX_UNITS)})"
    r"(?P<unit>часов|суточн|дневн|недельн|месячн|минутн)[а-я]{2,3}(?!\w)"
)
_HALF_UNIT_RE: Final[re.Pattern[str]] = re.compile(
    r"(?<!\w)пол(?P<unit>часа|суток|дня|недели|месяца)(?!\w)"
)
# A bare singular unit means one of it, but only after a word that makes it a span of time:
# "в течение суток", "within the hour". Elsewhere "day" or "дня" is rarely a duration.
_BARE_UNIT_RE: Final[re.Pattern[str]] = re.compile(
    r"(?<!\w)(?:within\s+(?:the\s+)?|в\s+течени[ея]\s+|в\s+пределах\s+|на\s+протяжении\s+"
    r"|за\s+|через\s+|не\s+позднее\s+|не\s+позже\s+)"
    r"(?P<unit>hour|day|week|month|часа|час|суток|сутки|дня|день|недели|неделю|месяца|месяц"
    r"|минуты|минуту)(?!\w)"
)
_COMPOUND_UNIT_HOURS: Final[dict[str, float]] = {
    "часов": 1.0,
    "суточн": 24.0,
    "дневн": 24.0,
    "недельн": 168.0,
    "месячн": 720.0,
    "минутн": 1.0 / 60.0,
}


def _unit_hours(unit: str) -> float:
    for pattern, hours in _UNIT_RES:
        if pattern.fullmatch(unit):
            return hours
    raise ValueError(f"not a unit: {unit!r}")  # unreachable: the unit came from _UNIT


def _digits_value(text: str) -> float:
    whole, sep, fraction = text.replace(",", ".").partition(".")
    if sep and "," in text and len(fraction) == 3:
        # "1,000" is a thousands separator; "1,5" is the Russian decimal comma.
        return float(whole + fraction)
    return float(text.replace(",", "."))


def _en_value(text: str) -> float:
    tokens = re.split(r"[\s-]+", text)
    if tokens[0] == "half":
        return 0.5
    total = 0.0
    for token in tokens:
        if token == "hundred":
            total = max(total, 1.0) * 100
        elif token in ("a", "an"):
            total += 1
        elif token != "and":
            total += _EN_NUMBERS[token]
    return total


def _number_value(text: str) -> float:
    if text[0].isdigit():
        return _digits_value(text)
    if text.split()[0] in _RU_NUMBERS:
        return sum(_RU_NUMBERS[token] for token in text.split())
    return _en_value(text)


def _prefix_value(prefix: str) -> float:
    for tens_form, tens in _RU_PREFIX_TENS.items():
        if prefix.startswith(tens_form):
            return tens + _RU_PREFIX_UNITS.get(prefix[len(tens_form) :], 0)
    return _RU_PREFIX_UNITS[prefix]


def _durations(folded: str) -> Iterator[tuple[int, float]]:
    """Yield (offset, hours) for every duration any of the patterns finds."""
    for m in _DURATION_RE.finditer(folded):
        value = _number_value(m["num"]) + (0.5 if m["half"] else 0.0)
        yield m.start(), value * _unit_hours(m["unit"])
    for m in _COMPOUND_RE.finditer(folded):
        yield m.start(), _prefix_value(m["prefix"]) * _COMPOUND_UNIT_HOURS[m["unit"]]
    for m in _HALF_UNIT_RE.finditer(folded):
        yield m.start(), 0.5 * _unit_hours(m["unit"])
    for m in _BARE_UNIT_RE.finditer(folded):
        yield m.start("unit"), _unit_hours(m["unit"])


def duration_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` writes a duration ``parse_hours`` would read: (start, end) offsets, in
    order, each span once. Linear in the text: one pass of each pattern over its folded form.

    Args:
        text: any text.

    Returns:
        The spans; empty when the text's folded form does not keep its length (its offsets
        would not line up).
    """
    folded = _fold(text)
    if len(folded) != len(text):
        return []
    patterns = (_DURATION_RE, _COMPOUND_RE, _HALF_UNIT_RE, _BARE_UNIT_RE)
    return sorted({m.span() for pattern in patterns for m in pattern.finditer(folded)})


def find_durations(text: str) -> list[str]:
    """Duration phrases as ``text`` writes them ("72 hours", "трое суток"), in order, once each.

    Args:
        text: any text.

    Returns:
        The phrases ``parse_hours`` would read, verbatim (see ``duration_spans``).
    """
    return list(dict.fromkeys(text[start:end] for start, end in duration_spans(text)))


def parse_hours(text: str) -> float | None:
    """Extract the length of the first duration in a response-time phrase, in hours.

    Ranges give their upper bound ("24-48 hours" -> 48.0), since a promise to act within a
    range is only broken once its longest end has passed. A month counts as 30 days.

    Args:
        text: A phrase such as "within 72 hours", "72-hour", "a week", "two weeks",
            "в течение 3 дней", "24 часа" or "трое суток"; numbers may be digits or English or
            Russian words.

    Returns:
        The duration in hours as a float (72.0), or None when there is no definite duration
        ("immediately", "as soon as possible", "within a few days").
    """
    found = min(_durations(_fold(text)), key=lambda item: item[0], default=None)
    if found is None:
        return None
    # Factors such as 1/60 would otherwise leak float noise (0.49999999999999994 for 30 min).
    return round(found[1], 6)


# ---------------------------------------------------------------------------------------------
# Territories
# ---------------------------------------------------------------------------------------------

_TERRITORY_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    ("Crimea", r"(?:(?:autonomous )?republic of )?(?:crimea|crimean|krym)|crimea republic"),
    ("Crimea", r"(?:(?:автономн[а-я]{2,3} )?республик[а-я]{1,2} )?крым(?:а|у|е|ом|ск[а-я]{2,3})?"),
    ("Sevastopol", r"(?:city of )?se[bv]astopol|севастопол(?:ь|я|ю|ем|е|ьск[а-я]{2,3})"),
    ("Donbas", r"donbas+|donets basin|донбас+(?:а|у|е|ом|ск[а-я]{2,3})?"),
    (
        "Donetsk",
        r"donetsk(?: people'?s republic)?|dpr|dnr|донецк[а-я]{0,3}|днр"
        r"|донецк[а-я]{2,3} народн[а-я]{2,3} республик[а-я]{1,2}",
    ),
    (
        "Luhansk",
        r"(?:luhansk|lugansk)(?: people'?s republic)?|lpr|lnr|луганск[а-я]{0,3}|лнр"
        r"|луганск[а-я]{2,3} народн[а-я]{2,3} республик[а-я]{1,2}",
    ),
    (
        "Zaporizhzhia",
        r"zaporizh(?:zh)?(?:ia|ya)|zaporozh(?:ye|ie|ia|e)|запорожь(?:е|я|ю|ем)|запорожск[а-я]{2,3}",
    ),
    ("Kherson", r"kherson|херсон(?:а|у|е|ом|ск[а-я]{2,3})?"),
    (
        "Transnistria",
        r"transnistria|transdniestria|trans ?dniester|pridnestrovi[ea]|pmr"
        r"|приднестровь(?:е|я|ю|ем)|пмр|приднестровск[а-я]{2,3}(?: молдавск[а-я]{2,3}"
        r" республик[а-я]{1,2})?",
    ),
    ("Abkhazia", r"abkhazia|абхази(?:я|и|ю|ей)"),
    ("South Ossetia", r"south ossetia|южн[а-я]{2,3} осети(?:я|и|ю|ей)"),
    ("Kharkiv", r"kharkiv|kharkov|харьков(?:а|у|е|ом|ск[а-я]{2,3})?"),
    ("Odesa", r"odes+a|одесс(?:а|ы|е|у|ой|к[а-я]{2,3})"),
    ("Mykolaiv", r"mykolaiv|mykolayiv|nikolaev|nikolayev|николаев(?:а|у|е|ом|ск[а-я]{2,3})?"),
    ("Dnipropetrovsk", r"dnipropetrovsk|dnepropetrovsk|днепропетровск[а-я]{0,3}"),
    ("Kyiv", r"kyiv|kiev|киев(?:а|у|е|ом|ск[а-я]{2,3})?"),
    ("Kursk", r"kursk|курск[а-я]{0,3}"),
    ("Belgorod", r"belgorod|белгород(?:а|у|е|ом|ск[а-я]{2,3})?"),
)
# ISO 3166-2 codes of the canonical territories that have one. ISO 3166-2 names regions in
# their own languages ("Avtonomna Respublika Krym"), which no mention matches, so the canonical
# English name is mapped here and a test checks every code against pycountry's ISO 3166-2 data.
# Donbas spans two oblasts and South Ossetia is no ISO subdivision: they have none.
TERRITORY_CODES: Final[dict[str, str]] = {
    "Crimea": "UA-43",
    "Sevastopol": "UA-40",
    "Donetsk": "UA-14",
    "Luhansk": "UA-09",
    "Zaporizhzhia": "UA-23",
    "Kherson": "UA-65",
    "Kharkiv": "UA-63",
    "Odesa": "UA-51",
    "Mykolaiv": "UA-48",
    "Dnipropetrovsk": "UA-12",
    "Kyiv": "UA-30",
    "Transnistria": "MD-SN",
    "Abkhazia": "GE-AB",
    "Kursk": "RU-KRS",
    "Belgorod": "RU-BEL",
}


def territory_code(name: str) -> str | None:
    """The ISO 3166-2 code of a canonical territory name ("Crimea" -> "UA-43"), else None."""
    return TERRITORY_CODES.get(name)


_TERRITORY_RES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), name) for name, pattern in _TERRITORY_PATTERNS
)

# Administrative words around a name; "Донецкая область" and "Donetsk oblast" are both Donetsk.
_TERRITORY_AFFIX_RE: Final[re.Pattern[str]] = re.compile(
    r"regions?|oblasts?|oblast'|province|peninsula|област[а-я]{0,3}|обл|полуостров[а-я]{0,2}"
)
_LOWERCASE_CONNECTORS: Final[frozenset[str]] = frozenset({"of", "and", "on", "the", "de", "la"})


def _title_word(word: str, first: bool) -> str:
    # Words that already carry capitals ("DPR", "McLean") were cased on purpose.
    if any(ch.isupper() for ch in word):
        return word
    if not first and word in _LOWERCASE_CONNECTORS:
        return word
    # Per hyphen part and never after an apostrophe, unlike str.title ("People'S").
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def canonical_territory(text: str) -> str:
    """Normalise a territory mention to its canonical English name.

    Args:
        text: A territory as written, in English or Russian, e.g. "the Crimean peninsula",
            "Донецкая область", "Zaporozhye", "ЛНР".

    Returns:
        The canonical English name ("Crimea", "Donetsk", "Zaporizhzhia", "Luhansk", ...) when
        the mention is known; otherwise the mention without a leading "the" or words such as
        "region"/"oblast", with lower-case words capitalised ("odesa oblast" -> "Odesa").
    """
    words = text.translate(_CHAR_TABLE).strip(_EDGE_CHARS).split()
    if words and words[0].lower() == "the":
        words = words[1:]
    trimmed = [w for w in words if not _TERRITORY_AFFIX_RE.fullmatch(_key(w))] or words
    key = _key(" ".join(trimmed))
    for pattern, name in _TERRITORY_RES:
        if pattern.fullmatch(key):
            return name
    return " ".join(_title_word(word, i == 0) for i, word in enumerate(trimmed))


# ---------------------------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------------------------

_UKRAINIAN_LETTERS: Final[frozenset[str]] = frozenset("іїєґІЇЄҐ")

# Ukrainian-only letters make up about 7 % of Ukrainian text (і alone about 5 %), while a
# Russian article that quotes one Ukrainian name stays far below 2 %.
_UKRAINIAN_SHARE: Final[float] = 0.02


def detect_language(text: str) -> str:
    """Guess the language of a text from its alphabet.

    Args:
        text: Any text, such as an article body or title.

    Returns:
        "uk" when Cyrillic letters outnumber the other letters and at least 2 % of them are
        Ukrainian-only (і, ї, є, ґ); "ru" when Cyrillic letters outnumber the others otherwise;
        "en" in every other case, including empty or letterless text.
    """
    cyrillic = other = ukrainian = 0
    for ch in text:
        if not ch.isalpha():
            continue
        if _is_cyrillic(ch):
            cyrillic += 1
            if ch in _UKRAINIAN_LETTERS:
                ukrainian += 1
        else:
            other += 1
    if cyrillic <= other:
        return "en"
    return "uk" if ukrainian / cyrillic >= _UKRAINIAN_SHARE else "ru"
