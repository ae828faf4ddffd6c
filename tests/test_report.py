"""The HTML report: span rendering, escaping, self-containment (pure, no browser)."""

from __future__ import annotations

import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from extractor.outputs.report import Highlight, highlights, render, render_text
from extractor.schemas import Evidence, ExtractionRecord, Party

HERE = Path(__file__).resolve().parent


def golden_records() -> list[ExtractionRecord]:
    records = []
    for path in sorted((HERE / "golden").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["provenance"].update(
            base_url="http://x/v1", extracted_at="2026-01-01T00:00:00+00:00", extractor_version="1"
        )
        records.append(ExtractionRecord.model_validate(data))
    return records


def h(id: str, start: int, end: int, field: str = "guarantor", label: str = "v") -> Highlight:
    return Highlight(id, start, end, field, label)


class _Marks(HTMLParser):
    """Collects (data-ev ids, text) of every <mark> and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._ids: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mark":
            self._ids = dict(attrs)["data-ev"]
            self.marks.append((self._ids or "", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._ids = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._ids is not None:
            ids, before = self.marks[-1]
            self.marks[-1] = (ids, before + data)


def parse(html: str) -> _Marks:
    parser = _Marks()
    parser.feed(html)
    return parser


def test_plain_span_is_marked_and_text_kept() -> None:
    out = parse(render_text("the US and UK", [h("e0", 4, 6)]))
    assert out.marks == [("e0", "US")]
    assert "".join(out.text) == "the US and UK"


def test_nested_spans_split_into_segments_listing_every_span() -> None:
    text = "security guaranteed by the US"
    out = parse(render_text(text, [h("e0", 0, len(text), "proposal"), h("e1", 27, 29)]))
    assert out.marks == [("e0", "security guaranteed by the "), ("e0 e1", "US")]
    assert "".join(out.text) == text
    assert 'class="ev f-guarantor" data-ev="e0 e1"' in render_text(
        text, [h("e0", 0, len(text), "proposal"), h("e1", 27, 29)]
    )


def test_overlapping_spans() -> None:
    out = parse(render_text("abcdef", [h("e0", 0, 4), h("e1", 2, 6)]))
    assert out.marks == [("e0", "ab"), ("e0 e1", "cd"), ("e1", "ef")]


def test_spans_at_the_ends_and_invalid_spans() -> None:
    out = parse(render_text("abc", [h("e0", 0, 1), h("e1", 2, 3), h("e2", 2, 2), h("e3", 1, 9)]))
    assert out.marks == [("e0", "a"), ("e1", "c")]


def test_non_ascii_text() -> None:
    text = "Крым и Донбасс — «исключены»"
    out = parse(render_text(text, [h("e0", 0, 4, "territory"), h("e1", 7, 14, "territory")]))
    assert out.marks == [("e0", "Крым"), ("e1", "Донбасс")]
    assert "".join(out.text) == text


def test_hostile_html_in_the_article_and_the_label_renders_as_text() -> None:
    text = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    html = render_text(text, [h("e0", 8, 18, label='"><script>alert(2)</script>')])
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "".join(parse(html).text) == text


def test_every_evidence_of_the_seed_records_gets_a_highlight() -> None:
    for record in golden_records():
        spans = highlights(record)
        evidence = sum(
            len(item.evidence)
            for p in record.proposals
            for item in [
                p,
                *p.guarantors,
                *p.excluded_territories,
                *p.conditions,
                *p.stances,
                *p.response_times,
                *([p.proposer] if p.proposer else []),
                *p.co_proposers,
                *([p.beneficiary] if p.beneficiary else []),
            ]
        )
        assert len(spans) == evidence
        for span in spans:
            assert f"[{span.match}" in span.label
        marked = {
            i
            for ids, _ in parse(render_text(record.article.text, spans)).marks
            for i in ids.split()
        }
        assert marked == {s.id for s in spans}


def test_report_is_self_contained_and_escapes_records() -> None:
    records = golden_records()
    data = records[0].model_dump()
    data["article"]["title"] = "<b>bold</b> & </template><script>alert(3)</script>"
    records[0] = ExtractionRecord.model_validate(data)
    html = render(records)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count("<script>") == 1  # the report's own
    assert "&lt;/template&gt;&lt;script&gt;" in html
    assert html.count("<template id=") == len(records)


def test_a_hundred_articles_stay_lazy() -> None:
    records = golden_records() * 20
    html = render(records)
    assert html.count("<template id=") == 100
    # Only the chosen article is put into the page; the others wait in their templates.
    assert "<main></main>" in html
    assert len(html) < 2_000_000


def test_each_highlight_says_how_it_matched_and_fuzzy_ones_are_marked() -> None:
    record = golden_records()[0]
    evidence = record.proposals[0].evidence[0]
    fuzzy = evidence.model_copy(
        update={"match": "fuzzy", "score": 93.5, "model_quote": "the modell's words"}
    )
    proposal = record.proposals[0].model_copy(update={"evidence": [fuzzy]})
    record = record.model_copy(update={"proposals": [proposal]})
    [first, *_] = highlights(record)
    assert first.match == "fuzzy"
    said = 'the model quoted "the modell\'s words"'
    assert first.label.endswith(f"[fuzzy, score 93.5 match; {said}]")
    page = render([record])
    # Every segment the fuzzy proposal span covers is marked fuzzy, whichever value colours it.
    covering = re.findall(
        rf'<mark class="ev f-(\w+)( fuzzy)?" data-ev="([^"]*\b{first.id}\b[^"]*)" '
        r'data-match="(\w+)"',
        page,
    )
    assert covering
    assert all(fuzzy and match == "fuzzy" for _, fuzzy, _, match in covering)


def test_a_value_whose_span_equals_its_proposals_takes_the_colour() -> None:
    html = render_text("72 hours", [h("e0", 0, 8, "proposal"), h("e1", 0, 8, "response_time")])
    assert 'class="ev f-response_time"' in html
    assert 'data-ev="e0 e1"' in html


def test_a_condition_shows_its_term_and_the_sentence_that_states_it() -> None:
    record = next(r for r in golden_records() if any(p.conditions for p in r.proposals))
    condition = next(c for p in record.proposals for c in p.conditions)
    # the golden records' conditions are terms, shorter than the sentence that is their evidence
    assert condition.text != condition.evidence[0].quote
    assert condition.text in condition.evidence[0].quote
    html = render([record])
    assert "<th>stated in</th>" in html
    row = f"<tr><td>{escape(condition.text)}</td><td>-</td><td>"
    assert row + escape(condition.evidence[0].quote) + "</td></tr>" in html


def test_a_joint_proposals_co_proposers_are_shown_beside_the_proposer() -> None:
    record = next(r for r in golden_records() if "France" in r.article.text)
    text = record.article.text
    start = text.index("France")
    span = Evidence(quote="France", start=start, end=start + 6, match="exact")
    # Hand-built: the goldens' proposals have no co-proposers.
    france = Party(name="France", kind="state", code="FRA", person="Macron", evidence=[span])
    alone = render([record])
    assert "co-proposer" not in alone
    joint = record.proposals[0].model_copy(update={"co_proposers": [france]})
    record = record.model_copy(update={"proposals": [joint]})
    labels = [s.label for s in highlights(record) if s.field == "party"]
    assert "co-proposer: France (FRA), Macron [exact match]" in labels
    html = render([record])
    proposer = escape(f"{joint.proposer.name} ({joint.proposer.code})") if joint.proposer else "-"
    assert (
        f"<tr><td>proposer</td><td>{proposer}</td></tr>"
        "<tr><td>co-proposers</td><td>France (FRA), Macron</td></tr>"
    ) in html
