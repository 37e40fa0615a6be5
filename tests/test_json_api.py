"""POST /api/answer and GET /healthz (serving/json_api.py) over the real QA, in process."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.json_api import MAX_BODY_BYTES, http_routes


@pytest.fixture(scope="module")
def api(qa):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    with TestClient(Starlette(routes=http_routes(qa))) as client:
        yield client


def post(api, body: bytes, **headers):
    return api.post("/api/answer", content=body, headers=headers)


def test_answer_is_the_contract_3_record(api, qa):
    reply = api.post("/api/answer", json={"question": "What are the side effects of Sutent?"})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    record = reply.json()
    expected = qa.answer("What are the side effects of Sutent?").to_dict()
    for key in ("answer", "notice", "abstained", "query", "category"):
        assert record[key] == expected[key]
    assert [c["link"] for c in record["citations"]] == [c["link"] for c in expected["citations"]]
    assert isinstance(record["latency_ms"], float)


def test_history_resolves_a_follow_up(api):
    body = {"question": "What are its side effects?", "history": ["What is regorafenib?"]}
    record = api.post("/api/answer", json=body).json()
    assert "regorafenib" in record["query"] and not record["abstained"]


def test_empty_and_over_long_questions_get_the_input_error_record(api):
    assert api.post("/api/answer", json={"question": ""}).json()["category"] == "input_error"
    long = api.post("/api/answer", json={"question": "imatinib " * 2000}).json()
    assert long["category"] == "input_error" and long["reason"] == "too_long"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "JSON"),
        (b'{"question": "imatinib', "JSON"),
        (b"\xff\xfe\x00", "JSON"),
        (b"[" * 50_000, "JSON"),  # deeper than the parser's recursion limit
        (b"null", "object"),
        (b'["What is GIST?"]', "object"),
        (b"{}", '"question"'),
        (b'{"question": null}', '"question"'),
        (b'{"question": ["What is GIST?"]}', '"question"'),
        (b'{"question": "What is GIST?", "history": "What is imatinib?"}', '"history"'),
        (b'{"question": "What is GIST?", "history": [null]}', '"history"'),
        (b'{"question": "What is GIST?", "history": {"0": "x"}}', '"history"'),
    ],
)
def test_malformed_bodies_get_400_naming_the_problem(api, body, says):
    reply = post(api, body)
    assert reply.status_code == 400 and says in reply.json()["error"]


def test_a_body_over_64_kb_gets_413_before_it_is_read(api):
    question = "a" * MAX_BODY_BYTES
    reply = post(api, json.dumps({"question": question}).encode())
    assert reply.status_code == 413 and "64 KB" in reply.json()["error"]
    # A body sent in chunks, without Content-Length, is cut off once over the limit.
    chunks = (b"x" * 8192 for _ in range(1300))  # 10 MB
    reply = api.post("/api/answer", content=chunks)
    assert reply.status_code == 413
    at_limit = json.dumps({"question": "b" * (MAX_BODY_BYTES - 20)}).encode()
    assert len(at_limit) <= MAX_BODY_BYTES and post(api, at_limit).status_code == 200


def test_only_post_answers_and_health_says_which_process(api):
    import os

    assert api.get("/api/answer").status_code == 405
    health = api.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "pid": os.getpid()}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=300)
    | JSON.map(lambda value: json.dumps(value).encode())
    | st.fixed_dictionaries({"question": JSON}, optional={"history": JSON}).map(
        lambda value: json.dumps(value).encode()
    )
)
def test_any_body_gets_an_answer_or_a_400_never_a_server_error(api, body):
    reply = post(api, body)
    assert reply.status_code in (200, 400)
    assert ("error" in reply.json()) == (reply.status_code == 400)
