"""End to end in Debian's Chromium, driven by Playwright: what a patient actually sees."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
SCREENSHOTS = Path(os.environ.get("GIST_TEST_OUTPUT", "test-output")) / "screenshots"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(server)
    page.wait_for_selector("#gist-question textarea")
    yield page
    context.close()


def ask(page, question: str) -> None:
    before = page.locator("#gist-chat [data-testid='bot']").count()
    box = page.locator("#gist-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#gist-chat [data-testid='bot']\").length > n",
        arg=before,
        timeout=20_000,
    )
    page.wait_for_timeout(300)


def last_bot_text(page) -> str:
    return page.locator("#gist-chat [data-testid='bot']").last.inner_text()


def test_answer_with_source_card_and_section_link(page):
    ask(page, "What are the side effects of Sutent?")
    assert "fatigue" in last_bot_text(page)
    card = page.locator("#gist-sources .gist-card").first
    assert "Sunitinib (Sutent)" in card.inner_text()
    assert card.locator("mark").count() >= 1  # the quoted sentence is highlighted
    link = card.locator("a", has_text="Read this section on cancer.org")
    href = link.get_attribute("href")
    assert href.startswith("https://www.cancer.org/") and "#:~:text=" in href
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"), full_page=True)


def test_follow_up_uses_the_conversation(page):
    ask(page, "What is sunitinib used for?")
    ask(page, "What are its side effects?")
    assert "fatigue" in last_bot_text(page)
    assert "sunitinib" in page.locator("#gist-sources .gist-query").inner_text()
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("!document.querySelector('#gist-sources .gist-card')")
    assert page.locator("#gist-chat [data-testid='bot']").count() == 0


def test_disclaimer_is_visible(page):
    disclaimer = page.locator("#gist-disclaimer")
    assert disclaimer.is_visible()
    text = disclaimer.inner_text()
    assert "not medical advice" in text and "May 17, 2017" in text and "1-800-227-2345" in text


def test_xss_payload_creates_no_element_and_runs_no_script(page):
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    ask(page, payload)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#gist-chat img[src='x']").count() == 0
    assert page.locator("#gist-chat script").count() == 0
    assert "<img src=x" in page.locator("#gist-chat [data-testid='user']").last.inner_text()


def test_emergency_notice_is_unmistakable(page):
    ask(page, "I'm vomiting blood")
    assert "911" in last_bot_text(page)
    alert = page.locator("#gist-sources [role='alert']")
    assert alert.is_visible() and "911" in alert.inner_text()


def test_phone_layout_and_no_outside_requests(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server)
    page.wait_for_selector("#gist-question textarea")
    ask(page, "Can they freeze the tumor?")
    assert page.locator("#gist-sources .gist-card").first.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"page scrolls sideways on a phone ({width} px)"
    for label in ("Your question",):
        assert page.get_by_label(label).is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone.png"), full_page=True)
    outside = {urlparse(u).hostname for u in requests} - {"127.0.0.1", "localhost", None}
    assert outside == set(), f"the page fetched from the internet: {outside}"
    context.close()


def test_rapid_repeated_clicks_leave_the_app_serving(page):
    box = page.locator("#gist-question textarea")
    box.fill("What is ablation?")
    button = page.get_by_role("button", name="Ask", exact=True)
    for _ in range(8):
        button.click(no_wait_after=True)
    page.wait_for_timeout(1500)
    ask(page, "What is embolization?")
    assert "Embolization is a procedure" in last_bot_text(page)
    assert page.locator("#gist-chat [data-testid='bot']").count() >= 2
