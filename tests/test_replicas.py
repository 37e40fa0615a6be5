"""Two real app replicas behind a real nginx (`python -m serving.replicas`), on loopback only:
the page, /ask and /api/answer through nginx, sessions kept on one replica, bad bodies, the
per-client rate limit, a replica killed under service, and Ctrl-C stopping everything.

The tests run in file order on one deployment; the last two kill parts of it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from eval.serving import free_port
from serving.nginx import COOKIE, render_config
from serving.replicas import run_replicas

QUESTION = "What are the side effects of Sutent?"


def request(port: int, method: str, path: str, body=None, headers=None, timeout: float = 30):
    """(status, headers, body) of one HTTP request to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def answer(port: int, payload, client: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if client:
        headers["X-Forwarded-For"] = client  # who the client is, to nginx's rate limit
    return request(port, "POST", "/api/answer", body, headers)


@pytest.fixture(scope="module")
def supervisor_errors(tmp_path_factory) -> Path:
    """Where the supervisor's stderr goes (it reports stopped replicas there)."""
    return tmp_path_factory.mktemp("replicas") / "stderr.txt"


@pytest.fixture(scope="module")
def deployment(built_index, supervisor_errors):
    with supervisor_errors.open("w") as errors:
        try:
            running = run_replicas(built_index, 2, free_port(), stderr=errors)
        except RuntimeError as error:
            pytest.fail(f"{error}: {supervisor_errors.read_text()}")
    yield running
    running.stop()


def replica_of(deployment, cookie: str) -> int:
    """The pid of the replica that nginx sends this cookie's requests to."""
    status, _, body = request(deployment.port, "GET", "/healthz", headers={"Cookie": cookie})
    assert status == 200
    return json.loads(body)["pid"]


def new_cookie(deployment) -> str:
    """What a browser or gradio_client gets on its first response."""
    status, headers, _ = request(deployment.port, "GET", "/config")
    assert status == 200
    return headers["Set-Cookie"].split(";")[0]


def test_page_through_nginx_sets_the_cookie_and_keeps_the_public_address(deployment):
    status, headers, page = request(deployment.port, "GET", "/")
    assert status == 200 and b"GIST Answers" in page
    assert headers["Set-Cookie"].startswith(f"{COOKIE}=")
    assert "HttpOnly" in headers["Set-Cookie"]
    # Gradio builds the address its page calls back from X-Forwarded-Host: the port is kept.
    _, _, config = request(deployment.port, "GET", "/config")
    assert json.loads(config)["root"] == deployment.url.rstrip("/")


def test_ask_through_nginx_with_gradio_client(deployment):
    from gradio_client import Client

    client = Client(deployment.url, verbose=False, analytics_enabled=False, ssl_verify=False)
    try:
        assert COOKIE in client.cookies  # sent with every later request: one replica
        record = client.predict(QUESTION, api_name="/ask")
        assert "fatigue" in record["answer"]
        follow_up = client.predict(
            "What are its side effects?", ["What is regorafenib?"], api_name="/ask"
        )
        assert "regorafenib" in follow_up["query"]
    finally:
        client.close()


def ask_in_session(deployment, cookie: str, fn_index: int) -> dict:
    """Gradio's own protocol, as the page speaks it: join the queue with a session hash, then
    read the session's event stream. Both must reach the replica holding the session."""
    session = uuid.uuid4().hex
    body = {"data": [QUESTION, None], "fn_index": fn_index, "session_hash": session}
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    status, _, joined = request(
        deployment.port, "POST", "/gradio_api/queue/join", json.dumps(body), headers
    )
    assert status == 200, joined
    event_id = json.loads(joined)["event_id"]
    connection = http.client.HTTPConnection("127.0.0.1", deployment.port, timeout=30)
    try:
        path = f"/gradio_api/queue/data?session_hash={session}"
        connection.request("GET", path, headers={"Cookie": cookie})
        for line in connection.getresponse():
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if message["msg"] == "process_completed" and message["event_id"] == event_id:
                    return message["output"]["data"][0]
    finally:
        connection.close()
    raise AssertionError("the session's event stream ended without its answer")


def test_a_gradio_session_stays_on_one_replica(deployment):
    _, _, config = request(deployment.port, "GET", "/config")
    fn_index = next(d["id"] for d in json.loads(config)["dependencies"] if d["api_name"] == "ask")
    cookies = [new_cookie(deployment) for _ in range(16)]
    for cookie in cookies:
        assert "fatigue" in ask_in_session(deployment, cookie, fn_index)["answer"]
    # Sessions are spread over both replicas (all 16 on one: odds 1 in 30,000).
    assert {replica_of(deployment, c) for c in cookies} == set(deployment.replicas)


def test_plain_http_call_without_cookies_meets_its_result(deployment):
    """curl-style /gradio_api/call/ask then GET of its result, no cookie jar: nginx routes by
    the client's address, so both land on the same replica."""
    for n in range(6):
        client = {"X-Forwarded-For": f"127.0.2.{n}", "Content-Type": "application/json"}
        body = json.dumps({"data": [QUESTION, None]})
        status, _, started = request(deployment.port, "POST", "/gradio_api/call/ask", body, client)
        assert status == 200
        event_id = json.loads(started)["event_id"]
        status, _, result = request(
            deployment.port, "GET", f"/gradio_api/call/ask/{event_id}", headers=client
        )
        assert status == 200 and b"event: complete" in result


def test_api_answer_through_nginx(deployment):
    status, headers, body = answer(deployment.port, {"question": QUESTION, "history": []})
    assert status == 200 and headers["Content-Type"] == "application/json"
    record = json.loads(body)
    assert "fatigue" in record["answer"] and record["citations"]
    assert "Set-Cookie" not in headers  # stateless: no affinity


def test_api_answer_is_balanced_without_stickiness(tmp_path):
    config = render_config(tmp_path, "127.0.0.1", 8000, [9001, 9002])
    stateless = re.search(r"upstream gist_stateless \{(.*?)\}", config, re.S)[1]
    sessions = re.search(r"upstream gist_sessions \{(.*?)\}", config, re.S)[1]
    assert "hash" not in stateless and "hash $gist_route consistent" in sessions
    api = re.search(r"location = /api/answer \{(.*?)\}", config, re.S)[1]
    assert "proxy_pass http://gist_stateless" in api and "non_idempotent" in api


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"question": "imatinib', 400),  # broken JSON
        (b"\xff\xfe not utf-8", 400),
        (b"[" * 30_000, 400),  # nested deeper than a parser's recursion
        (b'["What is GIST?"]', 400),  # not an object
        (b'{"question": 42}', 400),
        (b'{"question": "What is GIST?", "history": "What is imatinib?"}', 400),
        (b'{"question": "What is GIST?", "history": [1, 2]}', 400),
        (b'{"question": "' + b"a" * 70_000 + b'"}', 413),  # over 64 KB
        (b"x" * 10_000_000, 413),  # 10 MB, refused by nginx
    ],
)
def test_bad_bodies_are_refused_and_the_server_keeps_serving(deployment, body, status):
    got, headers, reply = answer(deployment.port, body, client="127.0.3.1")
    assert got == status
    assert headers["Content-Type"] == "application/json" and "error" in json.loads(reply)
    got, _, reply = answer(deployment.port, {"question": QUESTION}, client="127.0.3.2")
    assert got == 200 and "fatigue" in json.loads(reply)["answer"]


def test_a_burst_from_one_client_is_limited_while_another_is_served(deployment):
    gradio_call = (
        "POST",
        "/gradio_api/call/ask",
        json.dumps({"data": [QUESTION, None]}),
        {"Content-Type": "application/json", "X-Forwarded-For": "127.0.4.1"},
    )

    def one(n: int):  # every fourth through Gradio: answering routes share one budget
        if n % 4 == 3:
            return "gradio", *request(deployment.port, *gradio_call)
        return "api", *answer(deployment.port, {"question": QUESTION}, "127.0.4.1")

    with ThreadPoolExecutor(max_workers=8) as pool:
        burst = list(pool.map(one, range(80)))
    statuses = [status for _, status, _, _ in burst]
    assert statuses.count(200) >= 20 and statuses.count(429) >= 20
    assert any(route == "gradio" and status == 429 for route, status, _, _ in burst)
    limited = next(reply for reply in burst if reply[0] == "api" and reply[1] == 429)
    assert limited[2]["Retry-After"] == "1" and "too many" in json.loads(limited[3])["error"]
    status, _, body = answer(deployment.port, {"question": QUESTION}, "127.0.4.2")
    assert status == 200 and "fatigue" in json.loads(body)["answer"]


def test_killing_a_replica_leaves_the_service_answering(deployment, supervisor_errors):
    from gradio_client import Client

    cookies = [new_cookie(deployment) for _ in range(16)]
    victim = next(iter(deployment.replicas))
    on_victim = [c for c in cookies if replica_of(deployment, c) == victim]
    os.kill(victim, signal.SIGKILL)
    for n in range(8):
        status, _, body = answer(deployment.port, {"question": QUESTION}, f"127.0.5.{n}")
        assert status == 200 and "fatigue" in json.loads(body)["answer"]
    survivor = next(pid for pid in deployment.replicas if pid != victim)
    assert {replica_of(deployment, c) for c in on_victim} <= {survivor}
    client = Client(deployment.url, verbose=False, analytics_enabled=False, ssl_verify=False)
    try:
        assert "fatigue" in client.predict(QUESTION, api_name="/ask")["answer"]
    finally:
        client.close()
    deadline = time.time() + 10
    while f"pid {victim}) stopped" not in supervisor_errors.read_text():
        assert time.time() < deadline, "the supervisor did not report the stopped replica"
        time.sleep(0.2)
    assert "killed by SIGKILL; 1 of 2 still serving" in supervisor_errors.read_text()


def test_ctrl_c_stops_everything_it_started(deployment):
    started = [*deployment.replicas, deployment.nginx_pid]
    assert deployment.stop() == 0  # SIGINT, as Ctrl-C sends
    for pid in started:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"pid {pid} still runs"
    assert not deployment.prefix.exists()  # nginx's config, pid and temp files removed


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
