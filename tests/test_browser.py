"""The report of the seed output in headless Chromium: highlights counted, one clicked, screenshot.

Needs Debian's chromium and chromium-driver (.ci/run installs them); skipped without them except
under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_report import golden_records

from extractor.outputs.report import highlights, render

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI"):
            raise AssertionError("chromium and chromium-driver are needed: apt-get install them")
        pytest.skip("chromium / chromium-driver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_shows_every_evidence_span_and_the_value_behind_a_click(
    browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)
    records = golden_records()
    page = tmp_path / "report.html"
    page.write_text(render(records), encoding="utf-8")
    browser.get(page.as_uri())

    rows = browser.find_elements(By.CSS_SELECTOR, "nav tr[data-n]")
    assert len(rows) == len(records)
    for n, record in enumerate(records):
        rows[n].click()
        ids = browser.execute_script(
            "return [...document.querySelectorAll('main mark[data-ev]')]"
            ".flatMap(m => m.dataset.ev.split(' '))"
        )
        assert set(ids) == {h.id for h in highlights(record)}, record.article.source
        heading = browser.find_element(By.CSS_SELECTOR, "main h2").text
        assert heading.split() == (record.article.title or record.article.source).split()

    rows[2].click()  # seed 002: the 72-hour response time
    mark = next(
        m
        for m in browser.find_elements(By.CSS_SELECTOR, "main mark.f-response_time")
        if m.text == "72 hours"
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", mark)
    mark.click()
    detail = browser.find_element(By.ID, "detail").text
    assert "response time: 72 hours = 72 h [exact match]" in detail.splitlines()
    assert "selected" in (mark.get_attribute("class") or "")

    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "report.png"))
    (ARTIFACTS / "report-counts.json").write_text(
        json.dumps({r.article.source: len(highlights(r)) for r in records}, indent=2)
    )


def test_events_page_draws_each_timeline_and_a_dot_shows_its_highlighted_evidence(
    browser: object, tmp_path: Path
) -> None:
    from eventrecords import istanbul_records
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    from extractor.outputs import eventpage, grouping

    assert isinstance(browser, WebDriver)
    found = grouping.grouped(istanbul_records())
    page = tmp_path / "events.html"
    page.write_text(eventpage.render(found), encoding="utf-8")
    browser.get(page.as_uri())

    rows = browser.find_elements(By.CSS_SELECTOR, "nav tr[data-n]")
    assert len(rows) == len(found)
    for n, (event, _) in enumerate(found):
        rows[n].click()
        dots = browser.find_elements(By.CSS_SELECTOR, "main svg.timeline circle")
        expected = {
            (g["key"], p["published"], p["position"])
            for g in event["guarantors"]
            for p in g["positions"]
        }
        assert len(dots) == len(expected), event["summary"]
        assert browser.find_element(By.CSS_SELECTOR, "main h2").text == event["summary"]

    rows[0].click()  # the Istanbul proposal: GBR declined in one report, willing in two
    istanbul = found[0][0]
    declined = browser.find_element(By.CSS_SELECTOR, "main circle[data-position='declined']")
    assert declined.get_attribute("fill") == eventpage.POSITION_COLORS["declined"]
    willing = browser.find_elements(By.CSS_SELECTOR, "main circle[data-position='willing']")
    assert {w.get_attribute("data-reports") for w in willing} == {"1"}
    declined.click()
    selected = browser.find_elements(By.CSS_SELECTOR, "#article mark.selected")
    refusal = istanbul["disagreements"][0]["declined"]["evidence"]["quote"]
    assert [m.text for m in selected] == [refusal]

    # Each claim of the disagreement is one click from its own evidence.
    for link in browser.find_elements(By.CSS_SELECTOR, "main li.disagreement a.claim"):
        link.click()
        marks = browser.find_elements(By.CSS_SELECTOR, "#article mark.selected")
        assert marks and all(m.text in link.text for m in marks)

    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "events.png"))
