"""The chat page: what a patient on a phone or a support agent at a desk sees and does.

One shared, read-only QA object answers; everything a conversation holds (its questions, the
answers for the take-home copy, which answers were rated) is kept in that browser session's
state only. Nothing is written anywhere unless the app runs with --feedback-db."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from qa.engine import MAX_HISTORY, MAX_QUESTION_CHARS, QA
from qa.feedback import DOWN, UP, FeedbackStore
from qa.present import format_chat, format_question, link_numbers, save_link, ui_texts
from qa.records import INPUT_ERROR

if TYPE_CHECKING:
    import gradio as gr

HERE = Path(__file__).resolve().parent
KEPT_TURNS = 100  # questions and answers a conversation keeps for its take-home copy
JS = (HERE / "app.js").read_text(encoding="utf-8")


def page_js() -> str:
    """qa/app.js with the texts it shows."""
    texts = ui_texts()
    keys = ("limit", "counter", "counter_over", "question_speaker", "answer_speaker")
    values = {key: texts[key] for key in keys} | {"max_chars": MAX_QUESTION_CHARS}
    values["limit"] = values["limit"].replace("{max_chars}", f"{MAX_QUESTION_CHARS:,}")
    return JS.replace("__GIST_TEXTS__", json.dumps(values, ensure_ascii=False))


def _today() -> str:
    return date.today().isoformat()


def _limit_line() -> str:
    text = ui_texts()["limit"].format(max_chars=f"{MAX_QUESTION_CHARS:,}")
    return f'<p id="gist-count-text" class="gist-count">{html.escape(text)}</p>'


def _input_note(record) -> str:
    """Why a message was not asked; it stays in the box."""
    if record is None:
        return ""
    kept = html.escape(ui_texts()["too_long_kept"]) if record.reason == "too_long" else ""
    return f'<p class="gist-input-error" role="alert">{html.escape(record.notice)} {kept}</p>'


def _html(value: str = "", elem_id: str | None = None):
    """An HTML block of the app's own (escaped) markup: no click handler, no extra padding."""
    import gradio as gr

    return gr.HTML(value, elem_id=elem_id, js_on_load=None, apply_default_css=False)


def _status(text: str) -> str:
    return f'<p class="gist-feedback-note" role="status">{html.escape(text)}</p>' if text else ""


def build_chat(qa: QA, feedback_db: Path | None = None) -> gr.Blocks:
    """The chat page. With `feedback_db`, each answer gets a thumbs up/down and a comment box,
    stored in SQLite there (qa/feedback.py); without it there is neither."""
    import gradio as gr

    texts = ui_texts()
    store = FeedbackStore(feedback_db) if feedback_db is not None else None

    def respond(question: str, chat: list, asked: list, turns: list):
        question = question or ""
        if not question.strip():
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        record = qa.answer(question, asked[-MAX_HISTORY:])
        if record.category == INPUT_ERROR:
            # The message stays in the box, with the reason under it; the chat is unchanged.
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), _input_note(record)
        chat = [
            *chat,
            {"role": "user", "content": format_question(question)},
            {"role": "assistant", "content": format_chat(record)},
        ]
        asked = [*asked, question][-MAX_HISTORY:]
        turns = [*turns, {"question": question, "record": record.to_dict()}][-KEPT_TURNS:]
        return "", chat, asked, turns, save_link(turns, _today()), ""

    def clear():
        """New conversation (the button or the chat's trash icon): everything goes, the
        earlier questions a follow-up would be read with included."""
        cleared = ["", [], [], [], save_link([], _today()), ""]
        if store is not None:
            cleared += [{}, gr.Column(visible=False), None, ""]
        return cleared

    with gr.Blocks(analytics_enabled=False, title=texts["title"], fill_width=False) as demo:
        gr.Markdown(f"# {texts['title']}\n\n{texts['description']}", elem_id="gist-intro")
        disclaimer = link_numbers(html.escape(texts["disclaimer"]))
        heading = html.escape(texts["conversation_heading"])  # for screen readers' heading list
        _html(
            f'<p class="gist-disclaimer-text">{disclaimer}</p><h2 class="gist-sr">{heading}</h2>',
            "gist-disclaimer",
        )
        chat = gr.Chatbot(
            label=texts["conversation_heading"],
            show_label=False,
            height=None,
            autoscroll=False,
            sanitize_html=True,
            render_markdown=True,
            layout="bubble",
            elem_id="gist-chat",
            buttons=[],
            feedback_options=("Like", "Dislike") if store else None,
        )
        if store is not None:
            with gr.Column(visible=False, elem_id="gist-feedback") as feedback_box:
                comment = gr.Textbox(
                    label=texts["feedback_label"],
                    placeholder=texts["feedback_placeholder"],
                    lines=2,
                    max_lines=6,
                    elem_id="gist-comment",
                )
                with gr.Row(elem_classes="gist-controls"):
                    send = gr.Button(texts["feedback_send"], elem_id="gist-send-comment")
                _html(f'<p class="gist-count">{html.escape(texts["feedback_privacy"])}</p>')
            feedback_note = _html("", "gist-feedback-note")
        with gr.Row(equal_height=True, elem_id="gist-ask-row"):
            question = gr.Textbox(
                label=texts["question_label"],
                placeholder=texts["question_placeholder"],
                lines=1,  # Enter asks (a box of 2+ lines takes Enter as a new line)
                max_lines=6,
                scale=5,
                elem_id="gist-question",
            )
            ask_button = gr.Button(
                texts["ask_button"], variant="primary", scale=1, min_width=72, elem_id="gist-ask"
            )
        _html(_limit_line(), "gist-count")
        input_note = _html("", "gist-input-note")
        with gr.Row(elem_classes="gist-controls"):
            new_button = gr.Button(
                texts["new_conversation_button"], elem_id="gist-new", scale=0, min_width=160
            )
            save = _html(save_link([], _today()), "gist-save")
        gr.Examples(
            texts["examples"],
            inputs=question,
            label=texts["examples_label"],
            elem_id="gist-examples",
        )
        asked = gr.State([])
        turns = gr.State([])
        rated = gr.State({})  # chat message index -> feedback row
        last_row = gr.State(None)

        outputs = [question, chat, asked, turns, save, input_note]
        for trigger in (question.submit, ask_button.click):
            trigger(
                respond,
                [question, chat, asked, turns],
                outputs,
                api_visibility="private",
                show_progress="minimal",
            )
        cleared = outputs
        if store is not None:
            cleared = [*outputs, rated, feedback_box, last_row, feedback_note]
        new_button.click(clear, None, cleared, api_visibility="private")
        chat.clear(clear, None, cleared, api_visibility="private")
        demo.load(None, None, None, js=page_js(), api_visibility="private")

        if store is not None:

            def rate(turns: list, rated: dict, like: gr.LikeData):
                index = like.index[0] if isinstance(like.index, list | tuple) else like.index
                turn = int(index) // 2  # every turn adds a question and an answer
                if not 0 <= turn < len(turns):
                    return gr.skip(), gr.skip(), gr.skip(), gr.skip()
                rated = dict(rated)
                row = rated.get(index)
                if like.liked is True or like.liked is False:
                    rating = UP if like.liked else DOWN
                    if row is None:
                        row = rated[index] = store.rate(
                            turns[turn]["question"], turns[turn]["record"], rating
                        )
                    else:
                        store.change(row, rating)
                    return rated, gr.Column(visible=True), row, _status(texts["feedback_thanks"])
                if row is not None:  # the thumb was clicked again: the rating is taken back
                    store.withdraw(row)
                    rated.pop(index)
                return rated, gr.Column(visible=False), None, _status(texts["feedback_withdrawn"])

            def add_comment(text: str, row):
                if row is None or not (text or "").strip():
                    return gr.skip(), gr.skip(), gr.skip()
                store.comment(row, re.sub(r"\s+\n", "\n", text.strip()))
                note = _status(texts["feedback_comment_saved"])
                return "", gr.Column(visible=False), note

            rate.__annotations__["like"] = gr.LikeData  # a string under `annotations`
            chat.like(
                rate,
                [turns, rated],
                [rated, feedback_box, last_row, feedback_note],
                api_visibility="private",
            )
            for trigger in (send.click, comment.submit):
                trigger(
                    add_comment,
                    [comment, last_row],
                    [comment, feedback_box, feedback_note],
                    api_visibility="private",
                )
    return demo


# The page's link preview ---------------------------------------------------------------------
