"""Shared fixtures: one real index built once per test session, from the real corpus and model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.parse import parse_corpus
from indexer.sources import load_sources
from indexer.store import load_index


@pytest.fixture(scope="session")
def sources():
    return load_sources()


@pytest.fixture(scope="session")
def pages(sources):
    return parse_corpus(sources.read_text(), sources)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """A freshly built index folder (never the developer's own index/)."""
    directory = tmp_path_factory.mktemp("index") / "index"
    build_index(directory, progress=False)
    return directory


@pytest.fixture
def index_copy(built_index, tmp_path) -> Path:
    """A private copy a test may damage."""
    target = tmp_path / "index"
    shutil.copytree(built_index, target)
    return target


@pytest.fixture(scope="session")
def qa(built_index):
    from qa.engine import QA

    return QA(load_index(built_index))


@pytest.fixture(scope="session")
def served(built_index):
    """The app as `python app.py` sets it up (batched embedding, queue and launch settings),
    in-process on 127.0.0.1, over the session's index: (its address, its Blocks)."""
    import app as gist_app

    demo = gist_app.enable_queue(gist_app.build_app(gist_app.load_qa(built_index)))
    from eval.serving import free_port

    port = free_port()
    gist_app.launch(demo, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/", demo
    demo.close()


@pytest.fixture(scope="session")
def server(served) -> str:
    return served[0]


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False, analytics_enabled=False)  # no telemetry from tests
