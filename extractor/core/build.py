"""Turn a model's draft into grounded proposals (pure): locate quotes, check each value against
its quote, derive codes, hours and names.

Every value is a claim the article makes in the words its evidence spans: a name must be named
in its quote (or a name of the same state or organisation must: "Britain" in "the UK will"), a
party given as a person ("Ukrainian President Zelensky") is the state the words naming the person
give, in its quote or where the article names the person with their office, a response time
must be the duration its quote gives, a territory must be named in its quote. A
value that fails, or whose quote cannot be located, goes to ``dropped`` with the reason; so does
a proposal whose own quote cannot be located, together with everything in it. Nothing is dropped
silently, and every evidence ``quote`` is the article's own text at its offsets.
"""

# Russian and Ukrainian words of persons' offices and prepositions are Cyrillic on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pycountry

from ..schemas import (
    Actor,
    ActorKind,
    ArticleDraft,
    Condition,
    Dropped,
    Evidence,
    ExcludedTerritory,
    Guarantor,
    Party,
    Proposal,
    ProposalDraft,
    ResponseTime,
    Stance,
)
from .grounding import Span, locate
from .normalize import (
    MARK_TABLE,
    ORGANIZATION_CODES,
    actor_code,
    actor_kind,
    actor_spans,
    canonical_territory,
    declined_in,
    find_durations,
    named_actors,
    parse_hours,
    split_actors,
    territories_named,
    territory_code,
    territory_names,
    unglue,
)

NOT_FOUND = "quote not found in the article"
NO_QUOTE = "no quote was given"


_QUOTE_MARKS_RE = re.compile(r"[\"\u201c\u201d\u201e\u00ab\u00bb]")


def make_actor(name: str | None, fallback: ActorKind = "other") -> Actor | None:
    """An actor from a surface name: code and kind derived in code, ``fallback`` when unknown."""
    if name is None or not name.strip():
        return None
    # Quotation marks around a name or inside its words ("the "coalition of the willing") are
    # no part of it; the evidence keeps the article's words as they stand.
    name = " ".join(_QUOTE_MARKS_RE.sub(" ", name).split()) or name.strip()
    return Actor(name=name, kind=actor_kind(name) or fallback, code=actor_code(name))


_LOWER_CASE_IN_NAMES = frozenset({"of", "the", "and", "for", "in", "on", "de", "la", "du"})

# Words that make a name an organisation's or a group's ("the Weimar Triangle" is not a person).
_GROUP_WORD_RE = re.compile(
    r"\b(?:alliance|union|coalition|council|organi[sz]ation|group|community|commission|forces?|"
    r"treaty|bloc|league|partnership|pact|assembly|nations|triangle|eight|quad|"
    r"альянс|союз|коалици|совет|рад[аи]|организаци|групп|сообществ|комисси|сил[ыа]\b|договор|"
    r"блок)",
    re.IGNORECASE,
)
# A name runs to a few words; a longer answer is a sentence copied from the article.
_MAX_NAME_WORDS = 8


def is_proper_name(name: str) -> bool:
    """Whether ``name`` is written as a proper name ("Nordic-Baltic Eight", "Istanbul"), not as a
    description ("US-led military bloc", "the partners").

    English capitalises every word of a name but the small connecting words; Russian and
    Ukrainian only the first ("Коалиция желающих").
    """
    words = name.split()
    if words and words[0].lower() == "the":
        words = words[1:]
    if not words or not words[0][:1].isupper():
        return False
    if any("\u0400" <= ch <= "\u04ff" for ch in name):
        return True
    return all(w[:1].isupper() or not w[:1].isalpha() or w in _LOWER_CASE_IN_NAMES for w in words)


def names_a_group(name: str) -> bool:
    """Whether a proper name without a code names an organisation or group rather than a person
    or a place: an acronym ("JEF", "NB8") or a name with a word such as Alliance, Union,
    Coalition, Council, Group, Forces, Triangle in it."""
    core = name.strip()
    if len(core.split()) > _MAX_NAME_WORDS:
        return False
    acronym = re.fullmatch(r"[A-Z\u0410-\u042f\u0406\u0407\u0404\u0490\d-]{2,8}", core) is not None
    return is_proper_name(core) and (acronym or _GROUP_WORD_RE.search(core) is not None)


def make_party(name: str, evidence: list[Evidence], person: str | None = None) -> Party | None:
    """A proposer or beneficiary from a surface name, with the evidence naming it.

    A name that names a person rather than a state or organisation ("Ukrainian President
    Zelensky", "президент Украины Владимир Зеленский") is the state its words name (see
    :func:`person_of`), the person kept in ``person``, where that state is named in the
    evidence too; ``person`` is the person the model gave beside the name, if any.
    """
    if actor_code(name) is None and (spoken := person_of(name)) is not None:
        code, named_person = spoken
        if any(code in _codes_in(e.quote) for e in evidence):
            return Party(
                name=_state_name(code),
                kind="organization" if code in ORGANIZATION_CODES else "state",
                code=code,
                person=_person_name(person) or named_person,
                evidence=evidence,
            )
    actor = make_actor(name)
    if actor is None:
        return None
    return Party(**actor.model_dump(), person=_person_name(person), evidence=evidence)


# Words that make a phrase name a person by office ("President", "foreign minister", "глава МИД"):
# with a state named beside them, the person speaks for that state.
_TITLE_RE = re.compile(
    r"(?<!\w)(?:president|vice[- ]president|prime minister|premier|chancellor|minister|"
    r"secretary(?: general)?|spokes(?:man|woman|person)|ambassador|envoy|leader|head|chief|"
    r"king|queen|emir|sultan|monarch|official|diplomat|negotiator|"
    r"президент\w*|вице-президент\w*|премьер\w*|канцлер\w*|министр\w*|глав\w{1,2}|"
    r"лидер\w*|посол\w*|посл\w|спикер\w*|представител\w*|генсек\w*|"
    r"прем['\u2019]?єр\w*|міністр\w*|голов\w|лідер\w*|речник\w*)"
    r"(?!\w)",
    re.IGNORECASE,
)
# Words of an office that are no part of a person's name ("of", "МИД", "закордонних справ").
_OFFICE_WORDS = frozenset(
    {
        "of",
        "the",
        "for",
        "foreign",
        "affairs",
        "defence",
        "defense",
        "state",
        "general",
        "s",
        "мид",
        "иностранных",
        "дел",
        "мзс",
        "закордонних",
        "справ",
        "обороны",
        "оборони",
    }
)
_AWAY_RE = re.compile(
    r"(?:^|\s)(?:to|in|with|at|on|against|towards?|into|в|во|к|ко|с|со|у|на|при|до|з|із|зі)\s+"
    r"(?:the\s+)?$",
    re.IGNORECASE,
)
_NAME_WORD_RE = re.compile(r"[^\W\d_][\w'\u2019.-]*")
_TOKEN_RE = re.compile(r"[\w'\u2019.-]+|[^\w\s]")


def _person_name(person: str | None) -> str | None:
    """The person as given, their office and state left out where the words carry a name
    ("Ukrainian President Volodymyr Zelensky" -> "Volodymyr Zelensky")."""
    if person is None or not person.strip():
        return None
    person = " ".join(person.split())
    spoken = person_of(person)
    return spoken[1] if spoken is not None else person


def person_of(phrase: str) -> tuple[str, str] | None:
    """The state or organisation a person speaks for, read from the words naming the person,
    and the person: ``(code, person)``, or None when the words name no person of one state.

    The state's words must stand against an office or a name, with at most the words of an
    office between ("Ukrainian President Zelensky", "President of Ukraine", "France's foreign
    minister", "Ukraine's Volodymyr Zelensky", "президент Украины Владимир Зеленский", "глава
    МИД России"); a state elsewhere in the words ("gratitude to President Trump" after
    "Ukrainian people's") is not the person's, nor one after "to", "in", "with" ("his envoy to
    Russia"). The person is the last run of capitalised words of that naming that are neither
    the state's nor the office's, as the phrase writes them (or a name just before it, set off
    by a comma: "Zelensky, the President of Ukraine"); with none, the phrase itself ("France's
    foreign minister").
    """
    phrase = " ".join(phrase.split())
    spans = [
        (start, end, code)
        for start, end, code in actor_spans(phrase)
        if not _AWAY_RE.search(phrase[:start])
    ]
    kinds: list[tuple[str, str]] = []  # (kind, text): state, title, office, name, other, break
    possessive: set[int] = set()  # states written with "'s" ("Ukraine's Volodymyr Zelensky")
    for token in _TOKEN_RE.finditer(phrase):
        word = token.group(0)
        state = next((c for a, b, c in spans if a < token.end() and token.start() < b), None)
        bare = re.sub(r"['\u2019]s$", "", word)
        if state is not None:
            if not kinds or kinds[-1] != ("state", state):
                kinds.append(("state", state))
            if bare != word:
                possessive.add(len(kinds) - 1)
        elif not word[:1].isalnum():
            kinds.append(("break", word))
        elif _TITLE_RE.fullmatch(bare):
            kinds.append(("title", word))
        elif bare.casefold() in _OFFICE_WORDS:
            kinds.append(("office", word))
        elif bare[:1].isupper():
            kinds.append(("name", bare))
        else:
            kinds.append(("other", word))
    chains: list[tuple[int, int]] = []  # runs of state, title, office and name tokens
    at = 0
    while at < len(kinds):
        if kinds[at][0] in ("state", "title", "office", "name"):
            end = at
            while end + 1 < len(kinds) and kinds[end + 1][0] in (
                "state",
                "title",
                "office",
                "name",
            ):
                end += 1
            chains.append((at, end + 1))
            at = end + 1
        else:
            at += 1
    words = [i for i, (kind, _) in enumerate(kinds) if kind != "break"]
    found: tuple[str, str] | None = None
    for first, last in chains:
        chain = kinds[first:last]
        codes = {text for kind, text in chain if kind == "state"}
        titled = any(kind == "title" for kind, _ in chain)
        owned = any(i in possessive and kinds[i + 1][0] == "name" for i in range(first, last - 1))
        if len(codes) != 1 or not (titled or owned):
            continue
        if found is not None and found[0] != next(iter(codes)):
            return None  # two persons of two states
        runs = _name_runs(chain)
        if not runs and first >= 2 and kinds[first - 1] == ("break", ","):
            # "Zelensky, the President of Ukraine": the name the office is set off from.
            runs = _name_runs(kinds[: first - 1])[-1:]
        if runs:
            person = " ".join(runs[-1])
        elif words and words[0] >= first and words[-1] < last:
            # The whole phrase names the person by office ("France's foreign minister").
            person = re.sub(r"^the\s+", "", phrase, flags=re.IGNORECASE)
        else:
            continue
        found = (next(iter(codes)), person)
    return found


def _name_runs(tokens: list[tuple[str, str]]) -> list[list[str]]:
    """The runs of consecutive name tokens."""
    runs: list[list[str]] = []
    run: list[str] = []
    for kind, text in [*tokens, ("break", "")]:
        if kind == "name":
            run.append(text)
        elif run:
            runs.append(run)
            run = []
    return runs


def surname_re(person: str) -> re.Pattern[str] | None:
    """The last word of a person's name (the surname) in any case form ("Зеленского" for
    "Зеленский", "Zelensky's"): its stem and up to four more letters, as a whole word."""
    words = _NAME_WORD_RE.findall(person)
    if not words:
        return None
    surname = re.sub(r"['\u2019]s$", "", words[-1])
    stem = re.escape(surname[: max(4, len(surname) - 2)])
    return re.compile(rf"(?<!\w){stem}\w{{0,4}}(?!\w)", re.IGNORECASE)


def person_named(person: str, quote: str) -> bool:
    """Whether ``quote`` names ``person``: their name's words, or at least their surname."""
    if locate(person, quote) is not None:
        return True
    surname = surname_re(person)
    return surname is not None and surname.search(quote) is not None


# Where the words around a person stop: the end of a clause.
_CLAUSE_END_RE = re.compile(r"[,;:.!?()\[\]\u2014\u2013\n\"\u201c\u201d\u00ab\u00bb]")
_AROUND_WORDS = 6


def person_in(person: str, quote: str, at: int | None = None) -> str | None:
    """The words of ``quote`` naming ``person`` with their office and state ("said Ukrainian
    President Volodymyr Zelensky" -> "Ukrainian President Volodymyr Zelensky"; "Zelensky, the
    President of Ukraine, said" -> "Zelensky, the President of Ukraine"), where they name one
    state; else None. Only the words of the person's own clause count, so that another state
    of the sentence ("asked the US for guarantees") is not taken for the person's. ``at``:
    where in ``quote`` the person is named, when it is known (an earlier mention is another)."""
    span = locate(person, quote) if at is None else Span(at, at + len(person), "exact", 100.0)
    if span is None:
        return None
    before = _CLAUSE_END_RE.split(quote[: span.start])[-1].split()[-_AROUND_WORDS:]
    named = quote[span.start : span.end]
    candidates = [" ".join([*before, named])]
    after = quote[span.end :]
    if after.lstrip().startswith(","):
        apposition = _CLAUSE_END_RE.split(after.lstrip()[1:])[0].split()[:_AROUND_WORDS]
        candidates.append(f"{named}, {' '.join(apposition)}")
    for words in candidates:
        if person_of(words) is not None:
            return words
    return None


# A leader's government named after the leader: "the Trump administration", "the Starmer
# government", "администрация Трампа", "адміністрація Трампа".
_LEADERS_BODY_RE = re.compile(
    r"^(?:the\s+)?(?P<leader>[A-Z][\w'’-]+)\s+(?:administration|government|cabinet|White House)$|"
    r"^(?:администрац\w*|правительств\w*|адміністрац\w*|уряд\w*)\s+(?P<leader_>[А-ЯЁІЇЄ][\w-]+)$"
)


# A capitalised word: where a person's name may stand in a quote.
_CAPITALISED_RE = re.compile(r"(?<![\w'’])[A-ZА-ЯЁІЇЄ][a-zа-яёіїєґ'’-]{2,}")


def _leader_of(name: str) -> str | None:
    """The leader a government is named after ("the Trump administration" -> "Trump")."""
    found = _LEADERS_BODY_RE.match(name.strip())
    return None if found is None else found.group("leader") or found.group("leader_")


def _may_be_person(name: str) -> bool:
    """Whether an uncoded name may be a person's: a proper name of a few words, not a group's
    ("Countries of the North Atlantic Alliance") nor several names ("the UK and France")."""
    words = name.split()
    return (
        is_proper_name(name)
        and not names_a_group(name)
        and len(words) <= 4
        and not any(w.casefold() in ("and", "и", "і", "та") for w in words)
    )


def _codes_in(quote: str) -> set[str]:
    return {code for _, _, code in actor_spans(quote)}


def _state_name(code: str) -> str:
    """A state's English short name ("Ukraine"), an organisation's code ("NATO")."""
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def evidence_of(span: Span, text: str, said: str, offset: int = 0) -> Evidence:
    """Evidence for a span located in ``text``: the article's words, and the model's if they
    differ.

    Args:
        span: Where ``said`` was located in ``text``.
        text: The text searched (the article, or a piece of it starting at ``offset``).
        said: What the model quoted.
        offset: Where ``text`` starts in the article.
    """
    quote = text[span.start : span.end]
    return Evidence(
        quote=quote,
        model_quote=None if said.strip() == quote else said,
        start=offset + span.start,
        end=offset + span.end,
        match=span.match,
        score=round(span.score, 1),
    )


def _without_quotation_marks(text: str) -> str:
    return " ".join(text.translate(MARK_TABLE).replace('"', " ").split())


def _names_in(name: str, quote: str) -> bool:
    """Whether ``name``'s words stand in ``quote`` as whole words (normalised, not fuzzily),
    quotation marks in either aside (`страны "Большой семерки"` names the "Большой семерки" of
    a model's answer), and where a scraper glued a function word to the name ("изСША") as if
    it had not."""
    name = _without_quotation_marks(name)
    bare = _without_quotation_marks(quote)
    for text in dict.fromkeys((quote, bare, unglue(bare))):
        span = locate(name, text)
        if span is not None and span.match in ("exact", "normalized"):
            return True
    return False


def actor_problem(name: str, quote: str) -> str | None:
    """Why ``quote`` does not name the actor ``name``, or None when it does.

    It does when the name's words stand in it, in any grammatical case ("Трампа" for
    "Трамп"), or when it names the same state or organisation otherwise ("Britain" for "the
    UK will", "Russia" for "the Russian delegation", "ВБ" for "Великобритания").
    """
    if _names_in(name, quote):
        return None
    code = actor_code(name)
    unglued = unglue(quote)
    if code is not None and (code in named_actors(quote) or code in named_actors(unglued)):
        return None
    if declined_in(_without_quotation_marks(name), unglued):
        return None
    return f"{name!r} is not named in its quote {quote[:120]!r}"


def actor_key(name: str) -> str:
    """What two names of one actor share: the code, else the name itself (case folded)."""
    return actor_code(name) or name.strip().casefold()


def response_time_of(
    text: str, evidence: Evidence, purpose: str | None = None
) -> ResponseTime | str:
    """The response time ``text``, its hours derived in code and checked against its evidence,
    with what must happen in that time (``purpose``), or why it cannot stand.

    Returns:
        The response time when the duration of ``text`` is one its quote gives (or ``text``
        has none and the quote gives exactly one, which is then taken); the reason when the
        quote gives no duration or another one.
    """
    quote = evidence.quote
    quoted = [hours for phrase in find_durations(quote) if (hours := parse_hours(phrase))]
    if not quoted:
        return f"its quote {quote[:120]!r} gives no duration"
    hours = parse_hours(text)
    if hours is None:
        if len(set(quoted)) != 1:
            return f"no duration in {text!r}"
        hours = quoted[0]
    elif hours not in quoted:
        shown = ", ".join(f"{h:g} h" for h in dict.fromkeys(quoted))
        return f"{text!r} is {hours:g} h but its quote gives {shown}"
    purpose = " ".join(purpose.split()) if purpose else None
    return ResponseTime(text=text, hours=hours, purpose=purpose or None, evidence=[evidence])


def deadline_key(deadline: ResponseTime) -> tuple[float | None, str]:
    """What two mentions of one deadline share: its hours and what it is for. An article that
    repeats a deadline ("72 hours max. So within 72 hours, all the guarantors must") states one;
    two deadlines of the same length for different steps are two."""
    return deadline.hours, (deadline.purpose or "").casefold()


def excluded_territory(text: str, evidence: Evidence, name: str | None = None) -> ExcludedTerritory:
    """An excluded territory as ``text`` writes it, its canonical name (``name``, one of
    those ``text`` names, else derived) and ISO 3166-2 code derived in code."""
    name = name or canonical_territory(text)
    return ExcludedTerritory(name=name, code=territory_code(name), text=text, evidence=[evidence])


def territory_problem(name: str, quote: str, canonical: str | None = None) -> str | None:
    """Why ``quote`` does not name the territory ``name`` (or the one of its territories
    whose canonical name is ``canonical``), or None when it does."""
    canonical = canonical or canonical_territory(name)
    named = territories_named(quote) | territories_named(unglue(quote))
    if canonical in named or _names_in(name, quote):
        return None
    return f"{name!r} is not named in its quote {quote[:120]!r}"


# Where a sentence ends: a full stop, question or exclamation mark (a closing quotation mark
# after it kept) followed by a space, or a line break. (``rules.sentences`` splits whole
# paragraphs with abbreviations in mind and imports this module; a quote's sentence needs only
# its two ends, found from the quote outwards.)
_SENTENCE_BREAK = re.compile(r"[.!?][\"'\u201d\u00bb)]?(?=\s)|\n")
# How far from a quote its sentence is read, either side.
_SENTENCE_REACH = 400


def _kept(party: Party | None) -> list[Party]:
    return [] if party is None else [party]


@dataclass
class _Builder:
    text: str
    dropped: list[Dropped] = field(default_factory=list)
    # Paths of the values a better answer could keep (quotes not found, values not in them).
    fixable: list[str] = field(default_factory=list)

    def drop(self, path: str, value: Any, reason: str, fixable: bool = True) -> None:
        self.dropped.append(Dropped(field=path, value=value, reason=reason))
        if fixable:
            shown = json.dumps(value, ensure_ascii=False)
            shown = shown if len(shown) <= 160 else shown[:157] + "..."
            self.fixable.append(f"{path} {shown}: {reason}")

    def evidence(self, path: str, quote: str, value: Any) -> Evidence | None:
        """Evidence for ``quote``, or None after recording the value as dropped."""
        if not quote.strip():
            self.drop(path, value, NO_QUOTE)
            return None
        span = locate(quote, self.text)
        if span is None:
            self.drop(path, value, NOT_FOUND)
            return None
        return evidence_of(span, self.text, quote)

    def sentence_of(self, found: Evidence) -> Evidence | None:
        """The sentence of the article that holds ``found`` when the quote is only a clause of
        it ("said it now seeks ..." in "Ukraine has agreed ... and said it now seeks ..."), else
        None. A sentence ends at a full stop, question or exclamation mark followed by a space,
        or at a line break; it is read at most ``_SENTENCE_REACH`` characters either side."""
        if found.match not in ("exact", "normalized") or len(found.quote.split()) < 3:
            return None  # a clause is words the model quoted as written, several of them
        start = max(0, found.start - _SENTENCE_REACH)
        before = self.text[start : found.start]
        ends = [m.end() for m in _SENTENCE_BREAK.finditer(before)]
        start = start + ends[-1] if ends else start
        after = _SENTENCE_BREAK.search(self.text, found.end, found.end + _SENTENCE_REACH)
        end = after.end() if after else min(len(self.text), found.end + _SENTENCE_REACH)
        while start < found.start and self.text[start].isspace():
            start += 1
        end = len(self.text[:end].rstrip())
        if (start, end) == (found.start, found.end) or start > found.start or end < found.end:
            return None
        return evidence_of(Span(start, end, "exact", 100.0), self.text, self.text[start:end])

    def parties(
        self,
        path: str,
        name: str | None,
        person: str | None,
        quote: str,
        fallback: Evidence,
        joint: bool = False,
    ) -> list[Party]:
        """Proposer or beneficiary: named in its own quote, or else in the proposal's; the
        person speaking for it kept where the quote names them too. Given only a person, the
        state is read from the quote's words around the person. Of a list ("the UK and
        France") the first state or organisation named is the party, first in the list
        returned. A ``joint`` party (the proposer) keeps the other states and organisations
        with a code named after it, each once and with the evidence naming it; a beneficiary
        is one party, so the others are recorded as left out. Empty when none is kept."""
        name = (name or "").strip()
        person = (person or "").strip() or None
        if not name and person is None:
            return []
        value: Any = name or None if person is None else {"name": name or None, "person": person}
        found = self.evidence(path, quote, value) if quote.strip() else fallback
        if found is None:
            return []
        evidence = [found]
        named_at = found  # where the article names the person
        if person is not None and not person_named(person, found.quote):
            elsewhere = self.naming_of(person)
            if elsewhere is None:
                self.drop(f"{path}.person", person, f"{person!r} is not named in the article")
                person = None
            else:
                evidence, named_at = [found, elsewhere], elsewhere
        if not name:
            if person is None:
                return []
            spoken = self.person_named_with_state(person, named_at)
            if spoken is None:
                reason = "no state or organisation named beside the person in the article"
                self.drop(path, value, reason)
                return []
            # The words naming the person with their state: in the evidence by construction.
            return _kept(make_party(spoken[0], [*evidence, *spoken[1:]], person))
        backing = found.quote
        if actor_code(name) is None and (leader := _leader_of(name)) is not None:
            # "the Trump administration": a leader's government speaks for the state the
            # article names the leader with ("US President Donald Trump"); a quote naming the
            # leader's government is backed by that naming, another must name the state.
            spoken = self.person_named_with_state(leader, found)
            if spoken is not None and (state := person_of(spoken[0])) is not None:
                name, evidence = _state_name(state[0]), [*evidence, *spoken[1:]]
                if person_named(leader, found.quote):
                    backing = spoken[0]
        if (
            actor_problem(name, backing) is not None
            and person is not None
            and (spoken := self.person_named_with_state(person, named_at)) is not None
            and actor_problem(name, spoken[0]) is None
        ):
            # The quote names the person but not their state ("He meant that ..."), and the
            # article names the person with that state ("Ukraine's President Volodymyr
            # Zelensky"): that naming backs the state.
            backing, evidence = spoken[0], [*evidence, *spoken[1:]]
        # Only a list of states or organisations splits: "Ukraine's Zelensky and his team"
        # is one party and its person.
        listed = split_actors(name, coded=2)
        named = [part for part in listed if actor_problem(part, backing) is None]
        sentence = None if named else self.sentence_of(found)
        if sentence is not None and any(actor_problem(p, sentence.quote) is None for p in listed):
            # The quote is a clause of a sentence that names the party: the sentence backs it.
            backing, evidence = sentence.quote, [sentence, *evidence[1:]]
            named = [part for part in listed if actor_problem(part, backing) is None]
        # The first state or organisation named, else the first name.
        chosen = next((part for part in named if actor_code(part)), named[0] if named else None)
        codes = {actor_code(chosen)} if chosen is not None else set()
        co_proposers: list[Party] = []
        for part in listed:
            code = actor_code(part)
            if part not in named:
                shown = value if len(listed) == 1 else part
                self.drop(path, shown, actor_problem(part, found.quote) or "")
            elif part == chosen:
                continue
            elif not joint:
                reason = f"a proposal has one party here, {chosen!r}"
                self.drop(path, part, reason, fixable=False)
            elif code is None:
                reason = f"a co-proposer beside {chosen!r} is a state or organisation with a code"
                self.drop(path, part, reason, fixable=False)
            elif code in codes:
                self.drop(path, part, f"duplicate of an earlier proposer ({code})", fixable=False)
            else:
                # Backed by the spans that name it, not by those naming the first's person.
                naming = [e for e in evidence if actor_problem(part, e.quote) is None]
                codes.add(code)
                co_proposers += _kept(make_party(part, naming or evidence[:1]))
        if chosen is None:
            return []
        name = chosen
        if actor_code(name) is None and person_of(name) is None and _may_be_person(name):
            # A person given as the party ("Volodymyr Zelensky"): the state from their words.
            spoken = self.person_named_with_state(name, found)
            if spoken is not None:
                person = person or name
                name, evidence = spoken[0], [*evidence, *spoken[1:]]
        return [*_kept(make_party(name, evidence, person)), *co_proposers]

    def through_person(self, name: str, found: Evidence) -> list[Evidence] | None:
        """Evidence that ``found`` names ``name`` through a person speaking for it: a person
        named in the quote whom the article names with that state ("Witkoff said ..." and
        "US envoy Steve Witkoff"), the article's naming as the evidence; else None."""
        if actor_code(name) is None:
            return None
        for word in _CAPITALISED_RE.findall(found.quote)[:8]:
            if actor_code(word) is not None or len(word) < 3:
                continue
            spoken = self.person_named_with_state(word, found)
            if spoken is not None and actor_problem(name, spoken[0]) is None:
                return list(spoken[1:])
        return None

    def naming_of(self, person: str) -> Evidence | None:
        """Evidence of where the article names ``person`` (their name as given, else their
        surname in any case form), or None when it does not."""
        span = locate(person, self.text)
        if span is not None and span.match in ("exact", "normalized"):
            return evidence_of(span, self.text, person)
        surname = surname_re(person)
        mention = None if surname is None else surname.search(self.text)
        if mention is None:
            return None
        span = Span(mention.start(), mention.end(), "exact", 100.0)
        return evidence_of(span, self.text, mention.group(0))

    def person_named_with_state(
        self, person: str, found: Evidence
    ) -> tuple[str, *tuple[Evidence, ...]] | None:
        """The words naming ``person`` with the state they speak for: in ``found`` itself, or
        else where the article names them so elsewhere ("Zelensky said" in the quote, "Ukrainian
        President Volodymyr Zelensky" earlier), with that naming as further evidence."""
        words = person_in(person, found.quote)
        if words is not None:
            return (words,)
        surname = surname_re(person)
        for mention in surname.finditer(self.text) if surname is not None else ():
            # The words around the mention, from a word's start (a clause is far shorter).
            start = 0
            if mention.start() > 120:
                start = self.text.find(" ", mention.start() - 120, mention.start()) + 1
            window = self.text[start : mention.end() + 120]
            words = person_in(mention.group(0), window, at=mention.start() - start)
            span = None if words is None else locate(words, self.text)
            if words is not None and span is not None and span.match != "fuzzy":
                return words, evidence_of(span, self.text, words)
        return None

    def proposal(self, index: int, draft: ProposalDraft) -> Proposal | None:
        base = f"proposals[{index}]"
        found_proposal = self.evidence(base, draft.quote, draft.model_dump())
        if found_proposal is None:
            return None
        evidence = [found_proposal]

        guarantors: list[Guarantor] = []
        seen: set[str] = set()
        for j, item in enumerate(draft.guarantors):
            path = f"{base}.guarantors[{j}]"
            found = self.evidence(path, item.quote, item.model_dump())
            if found is None or not item.name.strip():
                continue
            # "Finland and Sweden" are two guarantors, each named in the quote and coded.
            listed = split_actors(item.name.strip())
            for name in listed:
                value = item.model_dump() | ({"name": name} if len(listed) > 1 else {})
                actor = make_actor(name)
                if actor is None:
                    continue
                backing = [found]
                problem = actor_problem(actor.name, found.quote)
                sentence = None if problem is None else self.sentence_of(found)
                if sentence is not None and actor_problem(actor.name, sentence.quote) is None:
                    # The quote is a clause of a sentence naming the guarantor.
                    problem, backing = None, [sentence]
                if problem is not None and (through := self.through_person(actor.name, found)):
                    # "Sir Keir Starmer has been chairing ...": the quote names the state's
                    # leader, whom the article names with the state.
                    problem, backing = None, [found, *through]
                if problem is not None:
                    self.drop(path, value, problem)
                    continue
                key = actor_key(actor.name)
                if key in seen:
                    reason = f"duplicate of an earlier guarantor ({key})"
                    self.drop(path, value, reason, fixable=False)
                    continue
                seen.add(key)
                guarantors.append(Guarantor(actor=actor, position=item.position, evidence=backing))

        response_times: list[ResponseTime] = []
        deadlines: set[tuple[float | None, str]] = set()
        for j, rt in enumerate(draft.response_times):
            path = f"{base}.response_times[{j}]"
            found = self.evidence(path, rt.quote, rt.model_dump())
            if found is None:
                continue
            given = response_time_of(rt.text, found, rt.purpose)
            if isinstance(given, str):
                self.drop(path, rt.model_dump(), given)
                continue
            if deadline_key(given) in deadlines:
                self.drop(path, rt.model_dump(), "duplicate of an earlier response time", False)
                continue
            deadlines.add(deadline_key(given))
            response_times.append(given)

        territories: list[ExcludedTerritory] = []
        names: set[str] = set()
        for j, territory in enumerate(draft.excluded_territories):
            path = f"{base}.excluded_territories[{j}]"
            found = self.evidence(path, territory.quote, territory.model_dump())
            if found is None:
                continue
            # "Crimea and Donbas" are two territories; "the remainder of Donbas" is Donbas.
            named = territory_names(territory.name)
            for name in named:
                problem = territory_problem(territory.name, found.quote, name)
                if problem is not None:
                    value = territory.model_dump() | ({"name": name} if len(named) > 1 else {})
                    self.drop(path, value, problem)
                    continue
                if name.casefold() in names:
                    continue
                names.add(name.casefold())
                territories.append(excluded_territory(territory.name, found, name))

        conditions: list[Condition] = []
        for j, condition in enumerate(draft.conditions):
            found = self.evidence(
                f"{base}.conditions[{j}]", condition.quote, condition.model_dump()
            )
            if found is not None and condition.text.strip():
                conditions.append(
                    Condition(
                        text=condition.text.strip(),
                        bound_party=make_actor(condition.bound_party),
                        evidence=[found],
                    )
                )

        stances: list[Stance] = []
        for j, stance in enumerate(draft.stances):
            found = self.evidence(f"{base}.stances[{j}]", stance.quote, stance.model_dump())
            speaker = make_actor(stance.speaker, fallback="person")
            if found is not None and speaker is not None:
                stances.append(
                    Stance(
                        speaker=speaker,
                        actor=make_actor(stance.actor),
                        stance=stance.stance,
                        evidence=[found],
                    )
                )

        proposers = self.parties(
            f"{base}.proposer",
            draft.proposer,
            draft.proposer_person,
            draft.proposer_quote,
            found_proposal,
            joint=True,
        )
        beneficiary = self.parties(
            f"{base}.beneficiary",
            draft.beneficiary,
            draft.beneficiary_person,
            draft.beneficiary_quote,
            found_proposal,
        )
        return Proposal(
            summary=draft.summary.strip(),
            proposer=proposers[0] if proposers else None,
            co_proposers=proposers[1:],
            beneficiary=beneficiary[0] if beneficiary else None,
            guarantee_type=draft.guarantee_type,
            legally_binding=draft.legally_binding,
            guarantors=guarantors,
            response_times=response_times,
            excluded_territories=territories,
            conditions=conditions,
            stances=stances,
            evidence=evidence,
        )


def build(draft: ArticleDraft, text: str) -> tuple[list[Proposal], list[Dropped]]:
    """Grounded proposals of ``draft`` against the article ``text``, and what had to be dropped.

    Args:
        draft: the model's answer (validated for shape; quotes not necessarily in ``text``).
        text: the article text that every quote must be located in.

    Returns:
        The proposals that kept their evidence, and a ``Dropped`` entry for every value left out.
    """
    builder = _Built.of(draft, text)
    return builder.proposals, builder.dropped


def problems(draft: ArticleDraft, text: str) -> list[str]:
    """What a re-ask could fix in ``draft``: each value whose quote is not in ``text`` or does
    not back it, as ``"path: reason"``. Empty when every value stands."""
    return _Built.of(draft, text).fixable


@dataclass
class _Built:
    proposals: list[Proposal]
    dropped: list[Dropped]
    fixable: list[str]

    @classmethod
    def of(cls, draft: ArticleDraft, text: str) -> _Built:
        builder = _Builder(text)
        proposals = [
            proposal
            for i, item in enumerate(draft.proposals)
            if (proposal := builder.proposal(i, item)) is not None
        ]
        return cls(proposals, builder.dropped, builder.fixable)


def validation_context(text: str) -> dict[str, Any]:
    """The context a draft of ``text`` is validated with: the article, and :func:`problems` to
    check every value against it (the schema package itself knows no implementation)."""
    return {"text": text, "check": problems}


# The longest string a record keeps of what a model wrote (a summary, a name, a condition, the
# model's wording of a quote, a dropped value): far beyond any sentence, short of an answer that
# ran away. Evidence quotes are the article's own words and are bounded by the article.
MAX_CHARS = 10_000


def _cut(value: Any, path: str, cuts: list[tuple[str, str, int]]) -> Any:
    """``value`` (plain data) with every string over ``MAX_CHARS`` cut to its first
    ``MAX_CHARS``, noting each cut in ``cuts`` (its path, its kept start, its length)."""
    if isinstance(value, str):
        if len(value) <= MAX_CHARS:
            return value
        cuts.append((path, value[:200], len(value)))
        return value[:MAX_CHARS]
    if isinstance(value, dict):
        return {
            name: item if name == "quote" else _cut(item, f"{path}.{name}", cuts)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_cut(item, f"{path}[{i}]", cuts) for i, item in enumerate(value)]
    return value


def capped(
    proposals: list[Proposal], dropped: list[Dropped]
) -> tuple[list[Proposal], list[Dropped]]:
    """``proposals`` and ``dropped`` with every string the model wrote cut to ``MAX_CHARS``,
    each cut said in ``dropped`` (the field, its first 200 characters, its length), so that an
    answer that ran on for megabytes makes a record of bounded size, and says so."""
    kept: list[Proposal] = []
    cuts: list[tuple[str, str, int]] = []
    for index, proposal in enumerate(proposals):
        before = len(cuts)
        plain = _cut(proposal.model_dump(), f"proposals[{index}]", cuts)
        kept.append(Proposal.model_validate(plain) if len(cuts) > before else proposal)
    notes: list[Dropped] = []
    for entry in dropped:
        cut: list[tuple[str, str, int]] = []
        value = _cut(entry.value, entry.field, cut)
        reason = entry.reason[:MAX_CHARS]
        if cut:
            reason += f" (its strings cut to their first {MAX_CHARS:,} characters)"
        if cut or reason != entry.reason:
            entry = entry.model_copy(update={"value": value, "reason": reason})
        notes.append(entry)
    notes += [
        Dropped(
            field=path,
            value=start + "…",
            reason=f"{length:,} characters, more than the {MAX_CHARS:,} a string in a record "
            f"keeps: cut to its first {MAX_CHARS:,}",
        )
        for path, start, length in cuts
    ]
    return kept, notes
