"""Render extraction records as one self-contained HTML page with the evidence highlighted (pure).

Everything that comes from an article or a model is escaped. The page needs no network: styles
and the small script are inline. Each article's section sits in a ``<template>`` and is put into
the page only when chosen, so a report of hundreds of articles opens as fast as one of five.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from ..config import masked
from ..schemas import Actor, Evidence, ExtractionRecord, ResponseTime

FIELDS = (
    "proposal",
    "party",
    "guarantor",
    "response_time",
    "territory",
    "condition",
    "stance",
)
COLORS = {
    "proposal": "#e8e1ff",
    "party": "#e0e0e0",
    "guarantor": "#c6f0c2",
    "response_time": "#ffe08a",
    "territory": "#ffc4c4",
    "condition": "#bfe3ff",
    "stance": "#f5c6ef",
}


@dataclass(frozen=True)
class Highlight:
    """One evidence span to mark: where, for which field, the value it supports, and how the
    model's quote was matched to it (``exact``, ``normalized``, ``widened``, ``fuzzy``)."""

    id: str
    start: int
    end: int
    field: str
    label: str
    match: str = "exact"


def _actor(actor: Actor | None) -> str:
    if actor is None:
        return "-"
    named = f"{actor.name} ({actor.code})" if actor.code else actor.name
    person = getattr(actor, "person", None)  # a party's
    return f"{named}, {person}" if person else named


def _deadline(rt: ResponseTime) -> str:
    hours = f" ({rt.hours:g} h)" if rt.hours else ""
    return f"{rt.text}{hours}" + (f": {rt.purpose}" if rt.purpose else "")


def highlights(record: ExtractionRecord) -> list[Highlight]:
    """Every evidence span of a record with the value it supports, ids unique in the record."""
    out: list[Highlight] = []

    def add(field: str, label: str, evidence: list[Evidence]) -> None:
        for item in evidence:
            how = item.match if item.match != "fuzzy" else f"fuzzy, score {item.score:g}"
            said = f"; the model quoted {item.model_quote!r}" if item.model_quote else ""
            label_with_match = f"{label} [{how} match{said}]"
            out.append(
                Highlight(f"e{len(out)}", item.start, item.end, field, label_with_match, item.match)
            )

    for n, proposal in enumerate(record.proposals, start=1):
        add("proposal", f"proposal {n}: {proposal.summary}", proposal.evidence)
        parties = [("proposer", proposal.proposer)]
        parties += [("co-proposer", party) for party in proposal.co_proposers]
        for role, party in [*parties, ("beneficiary", proposal.beneficiary)]:
            if party is not None:
                add("party", f"{role}: {_actor(party)}", party.evidence)
        for guarantor in proposal.guarantors:
            label = f"guarantor: {_actor(guarantor.actor)}, {guarantor.position}"
            add("guarantor", label, guarantor.evidence)
        for rt in proposal.response_times:
            hours = f" = {rt.hours:g} h" if rt.hours is not None else ""
            purpose = f" ({rt.purpose})" if rt.purpose else ""
            add("response_time", f"response time: {rt.text}{hours}{purpose}", rt.evidence)
        for territory in proposal.excluded_territories:
            add("territory", f"excluded territory: {territory.name}", territory.evidence)
        for condition in proposal.conditions:
            add("condition", f"condition: {condition.text}", condition.evidence)
        for stance in proposal.stances:
            label = f"stance: {_actor(stance.speaker)} {stance.stance}"
            add("stance", label, stance.evidence)
    return out


def render_text(text: str, spans: Iterable[Highlight]) -> str:
    """``text`` as HTML with every span marked; overlapping and nested spans are split into
    segments, each ``<mark>`` listing every span that covers it (``data-ev``), coloured by the
    innermost one. Spans outside the text or empty are left out."""
    valid = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in valid), *(s.end for s in valid)})
    parts: list[str] = []
    for left, right in itertools.pairwise(cuts):
        piece = escape(text[left:right])
        active = [s for s in valid if s.start <= left and right <= s.end]
        if not active:
            parts.append(piece)
            continue
        # The innermost span colours the segment; on a tie a value beats the proposal it is part of.
        inner = min(active, key=lambda s: (s.end - s.start, s.field == "proposal", s.id))
        ids = " ".join(s.id for s in active)
        title = "\n".join(s.label for s in active)
        # A fuzzy span is the article's words closest to what the model quoted, not its quote.
        # A segment is marked fuzzy when any span covering it is (its data-match says so too).
        fuzzy = any(s.match == "fuzzy" for s in active)
        match = "fuzzy" if fuzzy else inner.match
        parts.append(
            f'<mark class="ev f-{inner.field}{" fuzzy" if fuzzy else ""}" data-ev="{ids}" '
            f'data-match="{match}"'
            f' title="{escape(title)}">{piece}</mark>'
        )
    return "".join(parts)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _proposal_html(n: int, proposal: Any) -> str:
    facts = [["proposer", _actor(proposal.proposer)]]
    if proposal.co_proposers:  # a joint proposal's further proposers, beside the first
        facts.append(["co-proposers", "; ".join(map(_actor, proposal.co_proposers))])
    facts += [
        ["beneficiary", _actor(proposal.beneficiary)],
        ["type", proposal.guarantee_type],
        [
            "legally binding",
            "-" if proposal.legally_binding is None else str(proposal.legally_binding),
        ],
        ["response time", "; ".join(map(_deadline, proposal.response_times)) or "-"],
    ]
    parts = [
        f"<h3>Proposal {n}</h3><p class=summary>{escape(proposal.summary)}</p>",
        _table(["", ""], facts),
        _table(
            ["guarantor", "code", "position"],
            [[g.actor.name, g.actor.code or "-", g.position] for g in proposal.guarantors],
        ),
        _table(
            ["excluded territory", "ISO 3166-2", "as written"],
            [[x.name, x.code or "-", x.text] for x in proposal.excluded_territories],
        ),
        _table(
            # the term itself, then the sentence that states it
            ["condition", "bound party", "stated in"],
            [
                [c.text, _actor(c.bound_party), " ".join(e.quote for e in c.evidence)]
                for c in proposal.conditions
            ],
        ),
        _table(
            ["speaker", "for", "stance"],
            [[_actor(s.speaker), _actor(s.actor), s.stance] for s in proposal.stances],
        ),
    ]
    return "".join(parts)


def _article_html(index: int, record: ExtractionRecord) -> str:
    article, provenance = record.article, record.provenance
    usage = provenance.usage
    error = (
        f"<p class=error>{escape(record.error.type)}: {escape(masked(record.error.message))}</p>"
        if record.error
        else ""
    )
    proposals = "".join(_proposal_html(n, p) for n, p in enumerate(record.proposals, start=1))
    dropped = _table(
        ["field", "value", "reason"],
        [
            [d.field or "(answer)", json.dumps(d.value, ensure_ascii=False)[:300], d.reason]
            for d in record.dropped
        ],
    )
    meta = _table(
        ["", ""],
        [
            ["source", article.source],
            ["language", article.language],
            ["model", f"{provenance.model} ({provenance.mode}) at {masked(provenance.base_url)}"],
            ["strategy", f"{provenance.strategy}, prompt {provenance.prompt_version}"],
            ["extracted", f"{provenance.extracted_at} by extractor {provenance.extractor_version}"],
            [
                "usage",
                f"{usage.requests} requests, {usage.prompt_tokens:,} prompt + "
                f"{usage.completion_tokens:,} completion = {usage.total_tokens:,} tokens",
            ],
        ],
    )
    return (
        f'<h2>{escape(article.title or article.source)}</h2>{error}<div class="cols">'
        f'<div class="text" lang="{escape(article.language)}">'
        f"{render_text(article.text, highlights(record))}</div>"
        f'<div class="side">{proposals or "<p>No proposal.</p>"}'
        f"<h3>Dropped ({len(record.dropped)})</h3>{dropped or '<p>None.</p>'}"
        f"<h3>Provenance</h3>{meta}</div></div>"
    )


def fragment(record: ExtractionRecord) -> str:
    """One record as an HTML fragment (for Jupyter's ``_repr_html_``): the article with its
    evidence highlighted, the proposals, what was dropped and where it came from. Its styles are
    scoped to the fragment, so they leave the rest of a notebook alone."""
    body = _article_html(0, record)
    return (
        f'<div class="gx-record"><style>{_FRAGMENT_STYLE}</style>'
        f'<p class="legend">{_legend()}</p>{body}</div>'
    )


def _legend() -> str:
    """What each highlight colour stands for, and the fuzzy match's underline."""
    legend = "".join(f'<span class="f-{f}">{f.replace("_", " ")}</span>' for f in FIELDS)
    return legend + '<span class="fuzzy">fuzzy match</span>'


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#222}
header{padding:.6em 1em;background:#223;color:#fff}
nav{padding:.5em 1em;max-height:30vh;overflow:auto;border-bottom:1px solid #ccc}
nav table{border-collapse:collapse;width:100%}
nav td,nav th{padding:.15em .5em;border-bottom:1px solid #eee;text-align:left}
nav tr.current{background:#eef}
main{padding:0 1em 2em}
.cols{display:flex;gap:1.5em;align-items:flex-start}
.text{flex:3;white-space:pre-wrap;max-width:70ch}
.side{flex:2;position:sticky;top:0;max-height:100vh;overflow:auto}
.side table{border-collapse:collapse;margin:.3em 0 .8em;font-size:13px}
.side td,.side th{border:1px solid #ddd;padding:.1em .4em;vertical-align:top}
mark.ev{cursor:pointer;border-radius:2px;padding:0 1px}
mark.ev.selected{outline:2px solid #d00}
mark.ev.fuzzy{text-decoration:underline wavy #a60;text-underline-offset:3px}
.error{color:#b00;font-weight:bold}
#detail{position:fixed;bottom:0;left:0;right:0;background:#ffd;border-top:1px solid #cc9;
padding:.4em 1em;white-space:pre-wrap;min-height:1.5em}
.legend span{padding:0 .4em;margin-right:.4em;border-radius:2px;color:#222}
.legend .fuzzy{background:#fff;text-decoration:underline wavy #a60}
header a.events{color:#fff;margin-left:1em}
""" + "".join(
    f"mark.f-{field},.legend .f-{field}{{background:{color}}}" for field, color in COLORS.items()
)


def _scoped(style: str, scope: str, keep: tuple[str, ...]) -> str:
    """The rules of ``style`` whose selectors start with one of ``keep``, each selector put under
    ``scope``."""
    rules = []
    for rule in style.split("}"):
        selectors, _, body = rule.strip().partition("{")
        kept = [s.strip() for s in selectors.split(",") if s.strip().startswith(keep)]
        if kept and body:
            rules.append(",".join(f"{scope} {s}" for s in kept) + "{" + body + "}")
    return "".join(rules)


# The report's styles for one article, scoped to the fragment's own element.
_FRAGMENT_STYLE = _scoped(
    _STYLE, ".gx-record", (".cols", ".text", ".side", "mark", ".error", ".legend")
)

_SCRIPT = """
const main = document.querySelector('main');
const detail = document.getElementById('detail');
function show(n) {
  const t = document.getElementById('t' + n);
  if (!t) return;
  main.replaceChildren(t.content.cloneNode(true));
  document.querySelectorAll('nav tr')
    .forEach(r => r.classList.toggle('current', r.dataset.n === String(n)));
  detail.textContent = 'Click a highlight to see the value it supports.';
}
document.addEventListener('click', e => {
  const row = e.target.closest('nav tr[data-n]');
  if (row) { e.preventDefault(); show(row.dataset.n); location.hash = 'a' + row.dataset.n; return; }
  const mark = e.target.closest('mark.ev');
  if (!mark) return;
  document.querySelectorAll('mark.selected').forEach(m => m.classList.remove('selected'));
  mark.classList.add('selected');
  detail.textContent = mark.title;
});
show(location.hash.startsWith('#a') ? location.hash.slice(2) : 0);
"""


def render(
    records: list[ExtractionRecord],
    title: str = "Extraction report",
    events_href: str | None = None,
) -> str:
    """The whole report page for ``records``, in their order; ``events_href`` links its
    header to the events page of the same records."""
    rows = []
    for n, record in enumerate(records):
        codes = sorted(
            {g.actor.code or g.actor.name for p in record.proposals for g in p.guarantors}
        )
        rows.append(
            f'<tr data-n="{n}"><td><a href="#a{n}">{escape(record.article.title or "-")}</a></td>'
            f"<td>{escape(record.article.source)}</td><td>{len(record.proposals)}</td>"
            f"<td>{escape(', '.join(codes))}</td>"
            f"<td>{escape(record.error.type) if record.error else ''}</td></tr>"
        )
    templates = "".join(
        f'<template id="t{n}">{_article_html(n, record)}</template>'
        for n, record in enumerate(records)
    )
    tokens = sum(r.provenance.usage.total_tokens for r in records)
    failed = sum(r.error is not None for r in records)
    legend = _legend()
    events_link = (
        f' <a class="events" href="{escape(events_href)}">Events</a>' if events_href else ""
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><b>{escape(title)}</b>: {len(records)} articles, {failed} failed, "
        f'{tokens:,} tokens <span class="legend">{legend}</span>{events_link}</header>'
        "<nav><table><thead><tr><th>title</th><th>source</th><th>proposals</th>"
        f"<th>guarantors</th><th>error</th></tr></thead><tbody>{''.join(rows)}</tbody></table></nav>"
        f'<main></main><div id="detail"></div>{templates}<script>{_SCRIPT}</script></body></html>'
    )
