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


def test_per_event_work_does_not_grow_with_past_requests(served):
    """Hundreds of plain HTTP calls to /ask: the queue keeps a bounded window of past events,
    summarises it rarely, and the sessions kept stay within the app's capacity."""
    import json
    import urllib.request

    import app as gist_app

    url, demo = served
    queue = demo._queue
    summaries = []
    original = queue.compute_analytics_summary

    def counting(records):
        summaries.append(len(records))
        return original(records)

    queue.compute_analytics_summary = counting
    try:
        for n in range(300):
            body = json.dumps({"data": [f"what is ablation {n}", None]}).encode()
            start = urllib.request.Request(
                f"{url}gradio_api/call/ask", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(start, timeout=30) as response:
                event_id = json.loads(response.read())["event_id"]
            with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event_id}", timeout=30) as r:
                assert b"event: complete" in r.read()
    finally:
        queue.compute_analytics_summary = original
    assert len(queue.event_analytics) <= 100
    # Gradio asks for a summary after each event; it is computed only every 100,000 events, and
    # then over at most the 100 events kept.
    assert queue.events_recorded - queue.event_count_at_last_cache >= 300
    assert max(summaries, default=0) <= 100
    assert demo.state_session_capacity == gist_app.STATE_SESSIONS
    # Finished plain-HTTP sessions are forgotten (serving/steady.py): Gradio's result route
    # scans this dict on every call, so it must not grow with the requests served.
    from serving.steady import PRUNE_EVERY

    assert len(queue.pending_event_ids_session) < PRUNE_EVERY + 2 * gist_app.CONCURRENCY
