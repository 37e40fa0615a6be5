"""The real Gradio app on a free local port: the page, the /ask API, input limits."""

from __future__ import annotations


def test_page_loads_with_title_and_disclaimer(server):
    import urllib.request

    with urllib.request.urlopen(server, timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    assert "GIST Answers" in page


def test_ask_api_returns_a_cited_record(client):
    record = client.predict("What are the side effects of Sutent?", api_name="/ask")
    assert not record["abstained"]
    first = record["citations"][0]
    assert first["url"].endswith("/treating/targeted-therapy.html")
    assert first["link"].startswith(first["url"] + "#:~:text=")
    assert "fatigue" in record["answer"]


def test_ask_api_abstains_out_of_scope(client):
    record = client.predict("How is breast cancer treated?", api_name="/ask")
    assert record["abstained"] and record["answer"] == ""
    assert "1-800-227-2345" in record["notice"]


def test_script_in_a_question_comes_back_inert(client):
    record = client.predict("<script>alert('x')</script>", api_name="/ask")
    assert "<script" not in record["answer"] and "<script" not in record["notice"]
    assert record["abstained"]


def test_over_long_and_empty_questions_get_a_message(client):
    long = client.predict("imatinib " * 200, api_name="/ask")
    assert long["category"] == "input_error" and "1000" in long["notice"]
    empty = client.predict("", api_name="/ask")
    assert empty["category"] == "input_error"


def test_analytics_are_off_in_code():
    import os

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
