"""Turn a model's draft into grounded proposals (pure): locate quotes, derive codes, hours, names.

A value whose quote cannot be located in the article goes to ``dropped`` with the reason; so does
a proposal whose own quote cannot be located, together with everything in it. Nothing is dropped
silently, and no evidence in the output points at text that is not in the article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .grounding import locate
from .normalize import actor_code, actor_kind, canonical_territory, parse_hours
from .schemas import (
    Actor,
    ActorKind,
    ArticleDraft,
    Condition,
    Dropped,
    Evidence,
    ExcludedTerritory,
    Guarantor,
    Proposal,
    ProposalDraft,
    ResponseTime,
    Stance,
)


def make_actor(name: str | None, fallback: ActorKind = "other") -> Actor | None:
    """An actor from a surface name: code and kind derived in code, ``fallback`` when unknown."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    return Actor(name=name, kind=actor_kind(name) or fallback, code=actor_code(name))


@dataclass
class _Builder:
    text: str
    dropped: list[Dropped] = field(default_factory=list)

    def evidence(self, path: str, quote: str, value: Any) -> list[Evidence] | None:
        """Evidence for ``quote``, or None after recording the value as dropped."""
        if not quote.strip():
            self.dropped.append(Dropped(field=path, value=value, reason="no quote was given"))
            return None
        span = locate(quote, self.text)
        if span is None:
            self.dropped.append(
                Dropped(field=path, value=value, reason="quote not found in the article")
            )
            return None
        return [Evidence(quote=quote, start=span.start, end=span.end, match=span.match)]

    def proposal(self, index: int, draft: ProposalDraft) -> Proposal | None:
        base = f"proposals[{index}]"
        evidence = self.evidence(base, draft.quote, draft.model_dump())
        if evidence is None:
            return None

        guarantors: list[Guarantor] = []
        seen: set[str] = set()
        for j, item in enumerate(draft.guarantors):
            actor = make_actor(item.name)
            found = self.evidence(f"{base}.guarantors[{j}]", item.quote, item.model_dump())
            if actor is None or found is None:
                continue
            key = actor.code or actor.name.casefold()
            if key in seen:
                self.dropped.append(
                    Dropped(
                        field=f"{base}.guarantors[{j}]",
                        value=item.model_dump(),
                        reason=f"duplicate of an earlier guarantor ({key})",
                    )
                )
                continue
            seen.add(key)
            guarantors.append(Guarantor(actor=actor, position=item.position, evidence=found))

        response_time = None
        if draft.response_time is not None:
            rt = draft.response_time
            found = self.evidence(f"{base}.response_time", rt.quote, rt.model_dump())
            if found is not None:
                hours = parse_hours(rt.text)
                if hours is None:
                    hours = parse_hours(rt.quote)
                response_time = ResponseTime(text=rt.text, hours=hours, evidence=found)

        territories: list[ExcludedTerritory] = []
        names: set[str] = set()
        for j, territory in enumerate(draft.excluded_territories):
            found = self.evidence(
                f"{base}.excluded_territories[{j}]", territory.quote, territory.model_dump()
            )
            name = canonical_territory(territory.name)
            if found is None or not name or name.casefold() in names:
                continue
            names.add(name.casefold())
            territories.append(ExcludedTerritory(name=name, text=territory.name, evidence=found))

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
                        evidence=found,
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
                        evidence=found,
                    )
                )

        return Proposal(
            summary=draft.summary.strip(),
            proposer=make_actor(draft.proposer),
            beneficiary=make_actor(draft.beneficiary),
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
    builder = _Builder(text)
    proposals = [
        proposal
        for i, item in enumerate(draft.proposals)
        if (proposal := builder.proposal(i, item)) is not None
    ]
    return proposals, builder.dropped
