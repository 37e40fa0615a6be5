"""The eval report's figures (matplotlib, no screen): hit@3 by page, latency, refusal curve."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no screen here or in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_curve(directory: Path, curve: dict) -> Path:
    plt = _pyplot()
    xs = [p["out_of_scope_answered"] for p in curve["curve"]]
    ys = [p["answerable_refused"] for p in curve["curve"]]
    chosen = curve["chosen"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(xs, ys, marker=".", color="#3b6ea5", label="thresholds (cross-validated)")
    ax.scatter(
        [chosen["out_of_scope_answered"]],
        [chosen["answerable_refused"]],
        s=90,
        color="#c0392b",
        zorder=3,
        label=f"chosen threshold {curve['threshold']:.2f}",
    )
    ax.annotate(
        f"{curve['threshold']:.2f}",
        (chosen["out_of_scope_answered"], chosen["answerable_refused"]),
        textcoords="offset points",
        xytext=(8, 8),
    )
    ax.set_xlabel("out-of-scope questions answered (share)")
    ax.set_ylabel("answerable questions refused (share)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("When to answer: the refusal curve")
    ax.legend(loc="upper right")
    return _save(fig, directory / "refusal_curve.png")


def write_plots(directory: Path, per_page: dict, latencies: list[float]) -> list[Path]:
    import numpy as np

    plt = _pyplot()

    pages = list(per_page["ours"])
    names = list(per_page)
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, name in enumerate(names):
        values = [per_page[name].get(p, 0.0) for p in pages]
        ax.bar(np.arange(len(pages)) + i * width, values, width, label=name)
    ax.set_xticks(np.arange(len(pages)) + width * (len(names) - 1) / 2, pages, rotation=20)
    ax.set_ylabel("hit@3")
    ax.set_ylim(0, 1.05)
    ax.set_title("Evidence in the top 3 citations, by page")
    ax.legend(loc="lower right")
    page_plot = _save(fig, directory / "per_page_hit3.png")

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(latencies, bins=30, color="#3b6ea5")
    ax.set_xlabel("latency per question (ms, index loaded)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    return [page_plot, _save(fig, directory / "latency_hist.png")]
