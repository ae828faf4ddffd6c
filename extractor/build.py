"""Turn a model's draft into grounded proposals (pure): locate quotes, check each value against
its quote, derive codes, hours and names.

Every value is a claim the article makes in the words its evidence spans: a name must be named
in its quote (or a name of the same state or organisation must: "Britain" in "the UK will"), a
response time must be the duration its quote gives, a territory must be named in its quote. A
value that fails, or whose quote cannot be located, goes to ``dropped`` with the reason; so does
a proposal whose own quote cannot be located, together with everything in it. Nothing is dropped
silently, and every evidence ``quote`` is the article's own text at its offsets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .grounding import Span, locate
from .normalize import (
    MARK_TABLE,
    actor_code,
    actor_kind,
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
from .schemas import (
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


def make_party(name: str, evidence: list[Evidence]) -> Party | None:
    """A proposer or beneficiary from a surface name, with the evidence naming it."""
    actor = make_actor(name)
    return None if actor is None else Party(**actor.model_dump(), evidence=evidence)


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


def response_time_of(text: str, evidence: Evidence) -> ResponseTime | str:
    """The response time ``text``, its hours derived in code and checked against its evidence,
    or why it cannot stand.

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
    return ResponseTime(text=text, hours=hours, evidence=[evidence])


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

    def party(self, path: str, name: str | None, quote: str, fallback: Evidence) -> Party | None:
        """Proposer or beneficiary: named in its own quote, or else in the proposal's. Of a
        list ("the UK and France") the first state or organisation named is the party; a
        proposal has one, so the others are recorded as left out."""
        if name is None or not name.strip():
            return None
        found = self.evidence(path, quote, name) if quote.strip() else fallback
        if found is None:
            return None
        # Only a list of states or organisations splits: "Ukraine's Zelensky and his team"
        # is one party and its person.
        listed = split_actors(name.strip(), coded=2)
        named = [part for part in listed if actor_problem(part, found.quote) is None]
        # The first state or organisation named, else the first name.
        chosen = next((part for part in named if actor_code(part)), named[0] if named else None)
        for part in listed:
            if part not in named:
                self.drop(path, part, actor_problem(part, found.quote) or "")
            elif part != chosen:
                reason = f"a proposal has one party here, {chosen!r}"
                self.drop(path, part, reason, fixable=False)
        return None if chosen is None else make_party(chosen, [found])

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
                problem = actor_problem(actor.name, found.quote)
                if problem is not None:
                    self.drop(path, value, problem)
                    continue
                key = actor_key(actor.name)
                if key in seen:
                    reason = f"duplicate of an earlier guarantor ({key})"
                    self.drop(path, value, reason, fixable=False)
                    continue
                seen.add(key)
                guarantors.append(Guarantor(actor=actor, position=item.position, evidence=[found]))

        response_time = None
        if draft.response_time is not None:
            rt = draft.response_time
            path = f"{base}.response_time"
            found = self.evidence(path, rt.quote, rt.model_dump())
            if found is not None:
                given = response_time_of(rt.text, found)
                if isinstance(given, str):
                    self.drop(path, rt.model_dump(), given)
                else:
                    response_time = given

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

        return Proposal(
            summary=draft.summary.strip(),
            proposer=self.party(
                f"{base}.proposer", draft.proposer, draft.proposer_quote, found_proposal
            ),
            beneficiary=self.party(
                f"{base}.beneficiary", draft.beneficiary, draft.beneficiary_quote, found_proposal
            ),
            guarantee_type=draft.guarantee_type,
            legally_binding=draft.legally_binding,
            guarantors=guarantors,
            response_time=response_time,
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
