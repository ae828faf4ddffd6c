"""Inputs to articles: text kept exactly, HTML made text, bad files named with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.io.articles import Unreadable, expand, html_to_text, parse, read


def test_text_is_kept_exactly_and_hashed() -> None:
    raw = b"Title line\r\n\r\nBody  with  spaces\n"
    article = parse("x.txt", raw)
    assert article.text == raw.decode()
    assert article.title == "Title line"
    assert article.id.startswith("sha256:") and len(article.id) == 7 + 64
    assert article.language == "und"  # four words: too few to tell


def test_russian_article_is_detected() -> None:
    assert parse("r.txt", "Гарантии безопасности для Украины".encode()).language == "ru"


def test_iso_date_near_the_top_is_the_published_date() -> None:
    assert parse("d.txt", b"Headline\n2022-03-30\nBody").published == "2022-03-30"
    assert parse("d.txt", b"Headline\nBody").published is None


def test_html_becomes_visible_text_with_its_title() -> None:
    html = (
        "<html><head><title>Talks &amp; guarantees</title><style>p{}</style></head>"
        "<body><script>alert(1)</script><p>First&nbsp;para.</p>"
        "<p>Second <b>para</b>.</p></body></html>"
    )
    text, title = html_to_text(html)
    assert title == "Talks & guarantees"
    assert text == "First\xa0para.\n\nSecond para."
    article = parse("page.html", html.encode())
    assert article.text == "First para.\nSecond para."
    assert article.title == "Talks & guarantees"


PAGE = """<!doctype html><html><head><title>Kyiv asks for guarantees | World</title>
<meta property="article:published_time" content="2022-03-29T10:00:00Z"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/subscribe">Subscribe</a></nav>
<article><h1>Kyiv asks for guarantees</h1>
<p>Ukraine asked the United States, Britain and Turkey to guarantee its security within 72
hours of an attack, a negotiator said on Tuesday in Istanbul after the talks.</p>
<p>Crimea and Donbas would be left out of the guarantees for fifteen years, he told reporters
at the end of the second day of the meeting.</p></article>
<footer>Cookie policy. Privacy. Terms of use.</footer></body></html>"""


def test_a_news_page_keeps_its_article_and_its_date_and_drops_the_furniture() -> None:
    article = parse("page.html", PAGE.encode())
    assert article.text.startswith("Kyiv asks for guarantees\nUkraine asked the United States")
    for furniture in ("Subscribe", "Cookie", "Privacy", "Home"):
        assert furniture not in article.text
    assert article.published == "2022-03-29"
    assert article.title == "Kyiv asks for guarantees"
    start = article.text.index("Crimea")
    assert article.text[start : start + 6] == "Crimea"  # offsets index the kept text


@pytest.mark.parametrize(
    ("head", "date"),
    [
        ("Москва, 29 марта 2022 года. Переговоры в Стамбуле", "2022-03-29"),
        ("Kyiv, March 29, 2022 - Talks went on", "2022-03-29"),
        ("Київ, 29 березня 2022 року. Переговори", "2022-03-29"),
        ("It happened a week ago today, in 2022 or so", None),
        ("The talks on Tuesday went on", None),
    ],
)
def test_a_written_date_near_the_top_is_the_published_date(head: str, date: str | None) -> None:
    assert parse("d.txt", f"{head}\nBody of the article.".encode()).published == date


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "holds no text"),
        (b"  \n\t ", "holds no text"),
        (b"\x00\x01\x02binary", "looks binary"),
        ("Привет".encode("cp1251"), "not valid UTF-8.*iconv"),
    ],
)
def test_bad_input_names_the_file_and_the_fix(raw: bytes, message: str) -> None:
    with pytest.raises(InputError, match=f"^bad.txt: .*{message}"):
        parse("bad.txt", raw)


def test_directories_expand_to_sorted_article_files(tmp_path: Path) -> None:
    for name in ("b.txt", "a.md", "c.html", "skip.json"):
        (tmp_path / name).write_text("x")
    assert [Path(p).name for p in expand([str(tmp_path)])] == ["a.md", "b.txt", "c.html"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no article files"):
        expand([str(empty)])


def test_unreadable_files_do_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("fine")
    (tmp_path / "bad.txt").write_bytes(b"")
    items = list(read([str(tmp_path / "bad.txt"), str(tmp_path / "good.txt")]))
    assert isinstance(items[0], Unreadable)
    assert not isinstance(items[1], Unreadable) and items[1].text == "fine"
