"""End to end in Debian's Chromium, driven by Playwright: what a patient actually sees, on a
375 x 812 phone and a desktop, in light and dark, checked by axe-core (from npm)."""

from __future__ import annotations

import os
import sqlite3
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("GIST_TEST_OUTPUT", "test-output")) / "screenshots"
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
BOT = "#gist-chat [data-testid='bot']"
MEDICAL_EMERGENCY = "my husband collapsed and is not breathing"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, device: dict = DESKTOP, scheme: str = "light", **options):
    context = browser.new_context(**device, color_scheme=scheme, **options)
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(url)
    page.wait_for_selector("#gist-question textarea")
    page.wait_for_function("window.gistAnswers !== undefined")  # the page's script has run
    return page


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server)
    yield page
    page.context.close()


@pytest.fixture
def phone(browser, server):
    page = open_page(browser, server, PHONE)
    yield page
    page.context.close()


def ask(page, question: str) -> None:
    before = page.locator(BOT).count()
    box = page.locator("#gist-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#gist-chat [data-testid='bot']\").length > n",
        arg=before,
        timeout=20_000,
    )
    page.wait_for_timeout(250)  # the page's script scrolls on the next frame


def last_bot(page):
    return page.locator(BOT).last


def searched_for(page) -> str:
    """The last answer's search (in its folded sources)."""
    return last_bot(page).locator(".gist-query").evaluate("el => el.textContent")


def axe(page) -> list[dict]:
    """axe-core's critical and serious violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        assert AXE.exists(), "install axe-core: npm ci (make test does)"
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': '
                           + ((n.any[0] || n.all[0] || n.none[0] || {}).message || ''))}))"""
    )
    return [v for v in violations if v["impact"] in ("critical", "serious")]


def in_viewport(page, locator, *, lines: float = 1) -> bool:
    """The element's top (and `lines` lines of text) are inside the window."""
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + 24 * lines <= height


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_accessible_in_light_and_dark_on_phone_and_desktop(browser, server, device, scheme):
    page = open_page(browser, server, device, scheme)
    try:
        assert axe(page) == [], "start page"
        ask(page, "What are the side effects of Sutent?")  # sources, a related section
        if device is PHONE:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"phone-{scheme}.png"))
        ask(page, "How is breast cancer treated?")  # a notice
        ask(page, "I'm vomiting blood. What are the side effects of imatinib?")  # alert + answer
        last_bot(page).locator("summary").first.click()  # the passages unfolded too
        assert axe(page) == [], "after answers"
    finally:
        page.context.close()


def test_answer_with_sources_under_it_and_section_links(page):
    ask(page, "What are the side effects of Sutent?")
    answer = last_bot(page)
    assert "fatigue" in answer.inner_text()
    source = answer.locator(".gist-source-links a").first
    href = source.get_attribute("href")
    assert href.startswith("https://www.cancer.org/") and "#:~:text=" in href
    assert source.get_attribute("target") == "_blank"
    assert "noopener" in source.get_attribute("rel")
    assert "reviewed May 17, 2017" in answer.locator(".gist-provenance").inner_text()
    # The passages are folded under the answer, the quoted sentences marked.
    card = answer.locator(".gist-card").first
    assert not card.is_visible()
    answer.locator("summary").click()
    assert card.is_visible() and "Sunitinib (Sutent)" in card.inner_text()
    assert card.locator("mark").count() >= 1
    answer.locator("summary").click()
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"))
    # The long disclaimer is said once, at the top, not under every answer.
    ask(page, "What is embolization?")
    assert page.get_by_text("Talk with your cancer care team about your situation").count() == 1


def test_new_answer_starts_in_view_on_a_phone(phone):
    for question in ("What is sunitinib used for?", "What is embolization?"):
        ask(phone, question)
        first_line = last_bot(phone).locator("p").first
        assert in_viewport(phone, first_line), f"the answer to {question!r} starts off screen"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"page scrolls sideways on a phone ({width} px)"
    outside = {urlparse(u).hostname for u in phone.requests} - {"127.0.0.1", "localhost", None}
    assert outside == set(), f"the page fetched from the internet: {outside}"


def test_start_page_on_a_phone_shows_the_introduction(phone):
    assert phone.evaluate("window.scrollY") == 0
    assert in_viewport(phone, phone.locator("#gist-intro h1"))
    assert in_viewport(phone, phone.locator("#gist-question textarea"))
    focused = phone.evaluate("document.activeElement.tagName")
    assert focused != "TEXTAREA", "autofocus would scroll a phone past the introduction"


def test_emergency_alert_with_a_number_to_tap_in_the_first_viewport(phone):
    for before in ([], ["What is embolization?"]):  # as the first message, and later on
        for question in before:
            ask(phone, question)
        ask(phone, MEDICAL_EMERGENCY)
        alert = last_bot(phone).locator("[role='alert']")
        assert alert.count() == 1 and "911" in alert.inner_text()
        assert alert.evaluate("el => el.parentElement.firstElementChild === el"), "not first"
        call = alert.locator("a[href='tel:911']")
        assert call.is_visible() and in_viewport(phone, call, lines=1.5)
        assert in_viewport(phone, alert)
        if not before:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            phone.screenshot(path=str(SCREENSHOTS / "emergency.png"))


def test_self_harm_gets_988_to_call_or_text(phone):
    ask(phone, "I want to kill myself")
    alert = last_bot(phone).locator("[role='alert']")
    assert "988" in alert.inner_text()
    assert alert.locator("a[href='tel:988']").is_visible()
    assert alert.locator("a[href='sms:988']").is_visible()
    assert in_viewport(phone, alert.locator("a[href='tel:988']"), lines=1.5)


def test_helpline_is_a_number_to_tap(page):
    disclaimer = page.locator("#gist-disclaimer")
    assert disclaimer.locator("a[href='tel:+18002272345']").is_visible()
    text = disclaimer.inner_text()
    assert "not medical advice" in text and "May 17, 2017" in text and "1-800-227-2345" in text
    ask(page, "How is breast cancer treated?")
    assert last_bot(page).locator("a[href='tel:+18002272345']").count() == 1


def test_keyboard_only(page):
    """Tab to the box, type, Enter, then reach the answer's source links and unfold them."""
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#gist-question') !== null"):
            break
    else:
        pytest.fail("Tab never reached the question box")
    page.keyboard.type("What is embolization?")
    before = page.locator(BOT).count()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#gist-chat [data-testid='bot']\").length > n",
        arg=before,
    )
    reached = set()
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement;
                 const bot = el.closest("[data-testid='bot']");
                 return bot ? {tag: el.tagName, href: el.getAttribute('href') || ''} : null }"""
        )
        if focused and focused["tag"] == "A" and "cancer.org" in focused["href"]:
            reached.add(focused["href"])
        if focused and focused["tag"] == "SUMMARY":
            page.keyboard.press("Enter")  # unfold the passages
            assert last_bot(page).locator(".gist-card").first.is_visible()
        if len(reached) >= 1 and focused is None:
            break
    assert reached, "no source link of the answer was reached with the keyboard"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused control shows no focus ring"


def test_a_long_paste_stays_in_the_box_with_the_reason(page):
    text = ("My father has GIST and takes imatinib every day. " * 70)[:3000]
    box = page.locator("#gist-question textarea")
    box.fill(text)
    counter = page.locator("#gist-count-text")
    assert "3,000 of 1,000" in counter.inner_text() and "too many" in counter.inner_text()
    assert box.get_attribute("aria-describedby") == "gist-count-text"
    box.press("Enter")
    reason = page.locator("#gist-input-note [role='alert']")
    reason.wait_for(timeout=20_000)
    assert "1000" in reason.inner_text() and "still in the box" in reason.inner_text()
    assert box.input_value() == text
    assert page.locator(BOT).count() == 0
    box.fill("What is embolization?")  # shortened: asked, and the reason goes
    box.press("Enter")
    page.wait_for_selector(BOT)
    assert page.locator("#gist-input-note [role='alert']").count() == 0


def test_sizes_targets_and_text_in_rem(browser, server):
    page = open_page(browser, server, PHONE)
    try:
        ask(page, "What is embolization?")
        sizes = page.evaluate(
            """() => {
              const px = (el) => parseFloat(getComputedStyle(el).fontSize);
              const box = (el) => el.getBoundingClientRect();
              const q = (s) => [...document.querySelectorAll(s)].filter(e => box(e).width > 0);
              return {
                box: px(document.querySelector('#gist-question textarea')),
                answer: px(document.querySelector("#gist-chat [data-testid='bot'] p")),
                targets: q('#gist-ask, #gist-new, a.gist-save, #gist-chat button, summary')
                  .map(e => [e.id || e.getAttribute('aria-label') || e.textContent.trim(),
                             Math.round(box(e).width), Math.round(box(e).height)]),
              };
            }"""
        )
        assert sizes["box"] >= 16 and sizes["answer"] >= 16, sizes
        small = [t for t in sizes["targets"] if t[2] < 44 or t[1] < 44]
        assert small == [], f"touch targets under 44 px: {small}"
        # Text follows the browser's text size (rem): a 20 px default makes answers larger.
        page.evaluate("document.documentElement.style.fontSize = '20px'")
        larger = page.evaluate(
            """parseFloat(getComputedStyle(
                 document.querySelector("#gist-chat [data-testid='bot'] p")).fontSize)"""
        )
        assert larger >= sizes["answer"] * 1.2
    finally:
        page.context.close()


def test_trash_icon_and_new_conversation_forget_the_follow_up_context(page):
    ask(page, "What is sunitinib used for?")
    ask(page, "What are its side effects?")
    assert "sunitinib" in searched_for(page)  # a follow-up is read with the conversation
    for clear in (
        lambda: page.locator("#gist-chat button[aria-label='Clear']").click(),
        lambda: page.get_by_role("button", name="New conversation").click(),
    ):
        clear()
        page.wait_for_function(f'document.querySelectorAll("{BOT}").length === 0')
        page.wait_for_function("!document.querySelector('#gist-save a')")  # the server's part
        ask(page, "What are its side effects?")
        assert "sunitinib" not in searched_for(page)
        ask(page, "What is sunitinib used for?")  # context for the next clearing


def test_saved_conversation_holds_every_question_answer_and_source(page, tmp_path):
    questions = ["What are the side effects of Sutent?", "What is embolization?"]
    for question in questions:
        ask(page, question)
    with page.expect_download() as download:
        page.locator("#gist-save a").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".txt"
    text = saved.read_text(encoding="utf-8")
    for number, question in enumerate(questions, start=1):
        assert f"Question {number}: {question}" in text
    for answer in page.locator(BOT).all():
        first = answer.locator(".gist-answer p, .gist-answer li").first.inner_text()
        assert first.split(" [")[0] in text
        for link in answer.locator(".gist-card a").all():
            assert link.get_attribute("href") in text
    assert "May 17, 2017" in text and "not medical advice" in text and "1-800-227-2345" in text


def test_printing_prints_the_whole_conversation(page):
    for question in ("What are the side effects of Sutent?", "What is embolization?"):
        ask(page, question)
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.emulate_media(media="print")
    chat = page.locator("#gist-chat")
    assert chat.evaluate("el => el.scrollHeight <= el.clientHeight + 1"), "the chat is clipped"
    assert page.locator(BOT).count() == 2
    assert all(card.is_visible() for card in page.locator("#gist-chat .gist-card").all())
    assert not page.locator("#gist-question").is_visible()
    page.emulate_media(media="screen")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert not page.locator("#gist-chat .gist-card").first.is_visible()


def test_title_and_link_preview_name_the_product(page, server):
    with urllib.request.urlopen(server, timeout=10) as response:
        html = response.read().decode()
    head = html.split("</head>")[0]
    assert "<title>GIST Answers</title>" in head
    assert 'property="og:title" content="GIST Answers"' in head
    assert 'content="Gradio"' not in head and "@Gradio" not in head and "gradio.app" not in head
    assert page.title() == "GIST Answers"
    assert page.get_by_text("Use via API").count() == 0
    assert page.locator("h1").count() == 1 and page.locator("h3").count() == 0


def test_xss_payload_creates_no_element_and_runs_no_script(page):
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    ask(page, payload)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#gist-chat img[src='x']").count() == 0
    assert page.locator("#gist-chat script").count() == 0
    assert "<img src=x" in page.locator("#gist-chat [data-testid='user']").last.inner_text()


def test_speakers_are_named_in_words(page):
    ask(page, "What is **ablation**?")
    labels = page.locator("#gist-chat [data-testid='user'], #gist-chat [data-testid='bot']")
    labels = labels.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels == ["Your question", "Answer"]


def test_rapid_repeated_clicks_leave_the_app_serving(page):
    box = page.locator("#gist-question textarea")
    box.fill("What is ablation?")
    button = page.get_by_role("button", name="Ask", exact=True)
    for _ in range(8):
        button.click(no_wait_after=True)
    page.wait_for_timeout(1500)
    ask(page, "What is embolization?")
    assert "Embolization is a procedure" in last_bot(page).inner_text()
    assert page.locator(BOT).count() >= 2


# Opt-in feedback ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feedback_server(built_index, tmp_path_factory):
    """The app as `python app.py --feedback-db PATH` sets it up: (address, PATH)."""
    import app as gist_app
    from eval.serving import free_port

    path = tmp_path_factory.mktemp("feedback") / "ratings.sqlite"
    demo = gist_app.enable_queue(gist_app.build_app(gist_app.load_qa(built_index), path))
    port = free_port()
    gist_app.launch(demo, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/", path
    demo.close()


def test_with_feedback_db_a_rating_and_comment_land_in_sqlite(browser, feedback_server):
    url, path = feedback_server
    page = open_page(browser, url, PHONE)
    try:
        ask(page, "What is embolization?")
        ask(page, "What are the side effects of Sutent?")
        page.locator("#gist-chat button[aria-label='Dislike']").last.click()
        page.locator("#gist-comment textarea").wait_for()
        page.wait_for_timeout(300)
        rows = sqlite3.connect(path).execute("SELECT question, rating, record FROM feedback")
        rows = rows.fetchall()
        assert [(q, r) for q, r, _ in rows] == [("What are the side effects of Sutent?", "down")]
        assert '"category": "answer"' in rows[0][2] and "cancer.org" in rows[0][2]
        assert axe(page) == []
        page.locator("#gist-comment textarea").fill("It should say how long the fatigue lasts.")
        page.get_by_role("button", name="Send comment").click()
        page.get_by_text("your comment was saved").wait_for()
        comment = sqlite3.connect(path).execute("SELECT comment FROM feedback").fetchone()[0]
        assert comment == "It should say how long the fatigue lasts."
    finally:
        page.context.close()


def data_files() -> set[Path]:
    """Database-like files in the project (outside .venv, node_modules, .git, index)."""
    found = set()
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in {".venv", "node_modules", ".git"}]
        found |= {Path(folder, f) for f in files if f.endswith((".db", ".sqlite", "-journal"))}
    return found


def test_without_feedback_db_no_control_and_no_file(page, monkeypatch):
    connects = []
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connects.append(a))
    before = data_files()
    ask(page, "What is embolization?")
    assert page.locator("#gist-chat button[aria-label='Like']").count() == 0
    assert page.locator("#gist-comment").count() == 0
    assert connects == [] and data_files() == before
