"""`python -m indexer`: build the index folder and print a one-line summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.build import build_index
from indexer.embed import default_model
from indexer.errors import ModelUnavailable
from indexer.store import DEFAULT_INDEX_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m indexer", description="Build the GIST Answers search index."
    )
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="index folder")
    parser.add_argument(
        "--model", default=default_model(), help="sentence-transformers model name or path"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        manifest = build_index(args.index, args.model, progress=not args.quiet)
    except ModelUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = manifest["counts"]
    print(
        f"Built {args.index}/: {counts['pages']} pages, {counts['sections']} sections, "
        f"{counts['chunks']} chunks, {counts['sentences']} sentences "
        f"in {manifest['build_seconds']:.1f} s (model {manifest['model']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
