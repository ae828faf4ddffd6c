"""Render events as one self-contained HTML page: each event's timeline of who was named
guarantor when (by how many reports, positions coloured), its sources, its claims, and the
reports' articles with their evidence highlighted one click away (pure).

Like the report (``extractor.outputs.report``, whose highlighting it reuses), everything from an
article or a model is escaped, nothing is fetched, and each event and each article sits in a
``<template>`` put into the page only when chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from ..schemas import ExtractionRecord
from .grouping import Report
from .report import COLORS, highlights, render_text

# Position colours (ColorBrewer Paired, ordered from putting the guarantee forward to refusing).
POSITION_COLORS = {
    "proposed": "#6a3d9a",
    "willing": "#33a02c",
    "conditional": "#b2df8a",
    "undecided": "#fdbf6f",
    "unknown": "#bbbbbb",
    "opposed": "#fb9a99",
    "declined": "#e31a1c",
}

_LEFT, _WIDTH, _ROW, _TOP, _UNDATED = 150, 560, 24, 28, 70


@dataclass(frozen=True)
class _Articles:
    """The articles of the page, numbered, with the highlight ids of each evidence span."""

    numbers: dict[str, int]  # article id -> template number
    records: list[ExtractionRecord]
    spans: list[dict[tuple[int, int], list[str]]]

    @classmethod
    def of(cls, found: Sequence[tuple[dict[str, Any], list[Report]]]) -> _Articles:
        numbers: dict[str, int] = {}
        records: list[ExtractionRecord] = []
        spans: list[dict[tuple[int, int], list[str]]] = []
        for _, reports in found:
            for report in reports:
                record = report.record
                if record.article.id in numbers:
                    continue
                numbers[record.article.id] = len(records)
                records.append(record)
                by_span: dict[tuple[int, int], list[str]] = {}
                for h in highlights(record):
                    by_span.setdefault((h.start, h.end), []).append(h.id)
                spans.append(by_span)
        return cls(numbers, records, spans)

    def link(self, article_id: str, evidence: dict[str, Any] | None, label: str, body: str) -> str:
        """``body`` as a link that shows the article with ``evidence`` selected."""
        number = self.numbers[article_id]
        ids: list[str] = []
        if evidence is not None:
            ids = self.spans[number].get((evidence["start"], evidence["end"]), [])
        return (
            f'<a href="#" class="claim" data-art="{number}" data-ev="{" ".join(ids)}" '
            f'title="{escape(label)}">{body}</a>'
        )


def _reports_by_id(reports: Sequence[Report]) -> dict[str, Report]:
    return {r.id: r for r in reports}


def _timeline(event: dict[str, Any], reports: Sequence[Report], articles: _Articles) -> str:
    """The SVG timeline: one row per guarantor, a dot per date and position it was named with,
    sized by the reports that name it so, coloured by the position; undated reports at the
    right."""
    by_id = _reports_by_id(reports)
    guarantors = event["guarantors"]
    days = sorted({date.fromisoformat(r.published) for r in reports if r.published})
    first, last = (days[0], days[-1]) if days else (None, None)
    span = max((last - first).days, 1) if first and last else 1

    def x(published: str | None) -> float:
        if published is None or first is None:
            return _LEFT + _WIDTH + _UNDATED / 2
        if len(days) == 1:
            return _LEFT + _WIDTH / 2
        return _LEFT + _WIDTH * (date.fromisoformat(published) - first).days / span

    height = _TOP + _ROW * max(len(guarantors), 1) + 10
    width = _LEFT + _WIDTH + _UNDATED + 20
    parts = [
        f'<svg class="timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="guarantors named over time">'
    ]
    if first and last:
        parts.append(f'<text x="{_LEFT}" y="14" class="axis">{first.isoformat()}</text>')
        if last != first:
            parts.append(
                f'<text x="{_LEFT + _WIDTH}" y="14" class="axis" text-anchor="end">'
                f"{last.isoformat()}</text>"
            )
    if any(r.published is None for r in reports):
        parts.append(
            f'<text x="{_LEFT + _WIDTH + _UNDATED / 2}" y="14" class="axis" '
            'text-anchor="middle">undated</text>'
        )
    for row, g in enumerate(guarantors):
        y = _TOP + _ROW * row + _ROW / 2
        label = g["code"] or g["name"]
        parts.append(
            f'<text x="{_LEFT - 8}" y="{y + 4}" text-anchor="end" class="who">'
            f"{escape(label)} ({g['report_count']})</text>"
            f'<line x1="{_LEFT}" x2="{_LEFT + _WIDTH + _UNDATED}" y1="{y}" y2="{y}" '
            'class="row"/>'
        )
        points: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        for p in g["positions"]:
            points.setdefault((p["published"], p["position"]), []).append(p)
        for (published, position), named in points.items():
            count = len({p["report"] for p in named})
            radius = 4 + 2.5 * (count - 1) ** 0.5 if count > 1 else 4
            first_named = named[0]
            report = by_id[first_named["report"]]
            tip = (
                f"{label}: {position}, {published or 'undated'}, named so by {count} "
                f"report{'s' if count != 1 else ''}"
            )
            dot = (
                f'<circle cx="{x(published):.1f}" cy="{y}" r="{radius:.1f}" '
                f'fill="{POSITION_COLORS.get(position, "#888")}" data-position="{position}" '
                f'data-reports="{count}"><title>{escape(tip)}</title></circle>'
            )
            parts.append(
                articles.link(report.record.article.id, first_named["evidence"], tip, dot).replace(
                    '<a href="#"', "<a", 1
                )
            )
    parts.append("</svg>")
    return "".join(parts)


def _color(position: str) -> str:
    return POSITION_COLORS.get(position, "#888")


def _hours(hours: float | None) -> str:
    return "-" if hours is None else f"{hours:g}"


def _cell(text: str | None) -> str:
    return escape(text) if text else "-"


def _event_html(event: dict[str, Any], reports: Sequence[Report], articles: _Articles) -> str:
    by_id = _reports_by_id(reports)

    def claim(report_id: str, evidence: dict[str, Any] | None, body: str) -> str:
        report = by_id[report_id]
        quote = evidence["quote"] if evidence else report.proposal.summary
        return articles.link(report.record.article.id, evidence, quote, body)

    proposer = event["proposer"] or {}
    beneficiary = event["beneficiary"] or {}
    types = ", ".join(f"{k} ({v})" for k, v in event["guarantee_types"].items())
    head = (
        f"<h2>{escape(event['summary'])}</h2>"
        f'<p class="facts"><code>{escape(event["id"])}</code> · proposer '
        f"{_cell(proposer.get('code') or proposer.get('name'))} · for "
        f"{_cell(beneficiary.get('code') or beneficiary.get('name'))} · {escape(types)} · "
        f"{event['report_count']} reports in {event['article_count']} articles, "
        f"{_cell(event['first_seen'])} to {_cell(event['last_seen'])}</p>"
    )
    sources = "".join(
        "<tr>"
        f"<td>{_cell(s['published'])}</td><td>{_cell(s['outlet'])}</td>"
        f"<td>{_source_link(s)}</td><td>{escape(s['language'])}</td>"
        f"<td>{claim(s['report'], s['evidence'], escape(s['summary']))}</td></tr>"
        for s in event["reports"]
    )
    guarantors = "".join(
        "<tr>"
        f"<td>{escape(g['code'] or '-')}</td><td>{escape(g['name'])}</td>"
        f"<td>{g['report_count']}</td><td>{_cell(g['first_named'])}</td>"
        f"<td>{_cell(g['last_named'])}</td><td>"
        + " ".join(
            claim(
                p["report"],
                p["evidence"],
                f'<span class="pos" style="background:{_color(p["position"])}">'
                f"{escape(p['position'])}</span> {_cell(p['published'])}",
            )
            for p in g["positions"]
        )
        + "</td></tr>"
        for g in event["guarantors"]
    )
    deadlines = "".join(
        f"<tr><td>{escape(c['text'])}</td><td>{_hours(c['hours'])}</td><td>"
        + " ".join(claim(r["report"], r["evidence"], escape(r["text"])) for r in c["reports"])
        + "</td></tr>"
        for c in event["response_times"]
    )
    exclusions = "".join(
        f"<tr><td>{escape(c['name'])}</td><td>{_cell(c['code'])}</td><td>"
        + " ".join(claim(r["report"], r["evidence"], escape(r["text"])) for r in c["reports"])
        + "</td></tr>"
        for c in event["exclusions"]
    )
    disagreements = "".join(
        f"<li class=disagreement><b>{escape(d['code'] or d['guarantor'])}</b>: named "
        f"{escape(d['named']['position'])} by "
        + claim(
            d["named"]["report"],
            d["named"]["evidence"],
            f"“{escape((d['named']['evidence'] or {}).get('quote', ''))}”",
        )
        + f" but {escape(d['declined']['position'])} in "
        + claim(
            d["declined"]["report"],
            d["declined"]["evidence"],
            f"“{escape((d['declined']['evidence'] or {}).get('quote', ''))}”",
        )
        + "</li>"
        for d in event["disagreements"]
    )

    def table(headers: str, rows: str, title: str) -> str:
        if not rows:
            return ""
        return (
            f"<h3>{title}</h3><table><thead><tr>{headers}</tr></thead><tbody>{rows}</tbody></table>"
        )

    return (
        head
        + _timeline(event, reports, articles)
        + table(
            "<th>date</th><th>outlet</th><th>source</th><th>lang</th><th>proposal</th>",
            sources,
            "Sources",
        )
        + table(
            "<th>code</th><th>guarantor</th><th>reports</th><th>first named</th>"
            "<th>last named</th><th>positions</th>",
            guarantors,
            "Guarantors",
        )
        + table("<th>response time</th><th>hours</th><th>reports</th>", deadlines, "Response times")
        + table("<th>excluded</th><th>code</th><th>reports</th>", exclusions, "Exclusions")
        + (f"<h3>Disagreements</h3><ul>{disagreements}</ul>" if disagreements else "")
    )


def _source_link(source: dict[str, Any]) -> str:
    name = escape((source["title"] or source["source"])[:120])
    url = source["url"]
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{escape(url)}" rel="noreferrer">{name}</a>'
    return name


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222}
header{padding:.6em 1em;background:#223;color:#fff}
nav{padding:.5em 1em;max-height:28vh;overflow:auto;border-bottom:1px solid #ccc}
nav table,main table{border-collapse:collapse}
nav td,nav th{padding:.15em .5em;border-bottom:1px solid #eee;text-align:left}
nav tr.current{background:#eef}
.cols{display:flex;gap:1.5em;align-items:flex-start;padding:0 1em 3em}
main{flex:3;min-width:0}
#article{flex:2;position:sticky;top:0;max-height:100vh;overflow:auto;white-space:pre-wrap;
font-size:13px;border-left:1px solid #ddd;padding-left:1em}
main td,main th{border:1px solid #ddd;padding:.1em .4em;vertical-align:top;font-size:13px}
svg.timeline .axis,svg.timeline .who{font-size:12px;fill:#333}
svg.timeline .row{stroke:#eee}
svg.timeline circle{stroke:#333;stroke-width:.5;cursor:pointer}
.pos{padding:0 .3em;border-radius:2px}
a.claim{color:inherit}
mark.ev{border-radius:2px;padding:0 1px}
mark.ev.selected{outline:2px solid #d00}
.legend span{padding:0 .4em;margin-right:.3em;border-radius:2px;color:#222}
header a.report{color:#fff;margin-left:1em}
""" + "".join(f"mark.f-{field}{{background:{color}}}" for field, color in COLORS.items())

_SCRIPT = """
const main = document.querySelector('main');
const pane = document.getElementById('article');
function show(n) {
  const t = document.getElementById('ev' + n);
  if (!t) return;
  main.replaceChildren(t.content.cloneNode(true));
  pane.textContent = 'Click a dot, a source or a claim to see its evidence.';
  document.querySelectorAll('nav tr')
    .forEach(r => r.classList.toggle('current', r.dataset.n === String(n)));
}
function evidence(link) {
  const t = document.getElementById('art' + link.dataset.art);
  pane.replaceChildren(t.content.cloneNode(true));
  const ids = (link.dataset.ev || '').split(' ').filter(Boolean);
  const marks = [...pane.querySelectorAll('mark[data-ev]')]
    .filter(m => m.dataset.ev.split(' ').some(id => ids.includes(id)));
  marks.forEach(m => m.classList.add('selected'));
  if (marks.length) marks[0].scrollIntoView({block: 'center'});
}
document.addEventListener('click', e => {
  const row = e.target.closest('nav tr[data-n]');
  if (row) { e.preventDefault(); show(row.dataset.n); location.hash = 'e' + row.dataset.n; return; }
  const link = e.target.closest('[data-art]');
  if (link) { e.preventDefault(); evidence(link); }
});
show(location.hash.startsWith('#e') ? location.hash.slice(2) : 0);
"""


def render(
    found: Sequence[tuple[dict[str, Any], list[Report]]],
    title: str = "Events",
    report_href: str | None = None,
) -> str:
    """The events page for events as ``extractor.outputs.grouping.grouped`` gives them;
    ``report_href`` links its header to the report of the same records."""
    articles = _Articles.of(found)
    rows = "".join(
        f'<tr data-n="{n}"><td><a href="#e{n}">{escape(event["summary"][:140])}</a></td>'
        f"<td>{_cell(event['first_seen'])}</td><td>{_cell(event['last_seen'])}</td>"
        f"<td>{event['report_count']}</td><td>{event['article_count']}</td>"
        f"<td>{escape(', '.join(g['code'] or g['name'] for g in event['guarantors'][:8]))}</td>"
        f"<td>{len(event['disagreements']) or ''}</td></tr>"
        for n, (event, _) in enumerate(found)
    )
    templates = "".join(
        f'<template id="ev{n}">{_event_html(event, reports, articles)}</template>'
        for n, (event, reports) in enumerate(found)
    )
    texts = "".join(
        f'<template id="art{n}"><h3>{escape(r.article.title or r.article.source)}</h3>'
        f'<div lang="{escape(r.article.language)}">'
        f"{render_text(r.article.text, highlights(r))}</div></template>"
        for n, r in enumerate(articles.records)
    )
    legend = "".join(
        f'<span style="background:{color}">{name}</span>' for name, color in POSITION_COLORS.items()
    )
    several = sum(event["article_count"] > 1 for event, _ in found)
    back = f' <a class="report" href="{escape(report_href)}">Articles</a>' if report_href else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><b>{escape(title)}</b>: {len(found)} events, {several} reported by more than "
        f'one article, from {len(articles.records)} articles <span class="legend">{legend}'
        f"</span>{back}</header>"
        "<nav><table><thead><tr><th>event</th><th>first seen</th><th>last seen</th>"
        "<th>reports</th><th>articles</th><th>guarantors</th><th>disagreements</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></nav>"
        '<div class="cols"><main></main><div id="article"></div></div>'
        f"{templates}{texts}<script>{_SCRIPT}</script></body></html>"
    )
