"""Write the eval report: report.json (flat metrics), report.md (one-minute read) and plots."""

from __future__ import annotations

import json
from pathlib import Path

SUMMARY_KEYS = (
    "hit@1", "hit@3", "hit@5", "mrr", "fact_recall", "median_answer_words", "grounding",
    "citation_precision", "refusal_rate", "false_refusal_rate", "emergencies_handled",
    "latency_p50_ms", "latency_p95_ms",
)  # fmt: skip


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)


def summary_table(metrics: dict, baselines: dict[str, dict]) -> str:
    names = ["GIST Answers", *baselines]
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in SUMMARY_KEYS:
        cells = [_fmt(metrics.get(key))] + [_fmt(b.get(key, "")) for b in baselines.values()]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_markdown(path: Path, metrics, baselines, per_page, rows, question_file) -> None:
    failing = [r for r in rows if r["problems"]]
    parts = [
        "# GIST Answers evaluation",
        "",
        f"{metrics['questions']} questions from `{question_file}`: {metrics['answerable']} "
        f"answerable, {metrics['out_of_scope']} out of scope, "
        f"{metrics['emergencies']} emergencies. "
        "Baselines: fixed 1000-character chunks, top chunk as the answer, no abstention; "
        "their text is raw source, so their grounding is trivially 1 and, having no [n] "
        "markers, their citation precision 0.",
        "",
        summary_table(metrics, baselines),
        "",
        "## hit@3 by page",
        "",
        "| page | GIST Answers | " + " | ".join(baselines) + " |",
        "|---" * (len(baselines) + 2) + "|",
    ]
    for page, value in per_page["ours"].items():
        others = " | ".join(_fmt(per_page[name].get(page, 0.0)) for name in baselines)
        parts.append(f"| {page} | {_fmt(value)} | {others} |")
    parts += ["", f"## Questions with a problem ({len(failing)})", ""]
    parts += [f"- `{r['id']}` {r['question'][:80]!r}: {'; '.join(r['problems'])}" for r in failing]
    if metrics["ungrounded_sentences"]:
        parts += ["", "## Ungrounded sentences", ""]
        parts += [f"- {s}" for s in metrics["ungrounded_sentences"]]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def write_plots(directory: Path, per_page: dict, latencies: list[float]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no screen here or in CI
    import matplotlib.pyplot as plt
    import numpy as np

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
    fig.tight_layout()
    page_plot = directory / "per_page_hit3.png"
    fig.savefig(page_plot, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(latencies, bins=30, color="#3b6ea5")
    ax.set_xlabel("latency per question (ms, index loaded)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    fig.tight_layout()
    latency_plot = directory / "latency_hist.png"
    fig.savefig(latency_plot, dpi=110)
    plt.close(fig)
    return [page_plot, latency_plot]


def write_report(directory: Path, metrics, baselines, per_page, rows, question_file) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    flat = dict(metrics)
    for name, values in baselines.items():
        for key in SUMMARY_KEYS:
            flat[f"{name}.{key}"] = values.get(key)
    flat["per_page_hit@3"] = per_page
    flat["rows"] = rows
    (directory / "report.json").write_text(json.dumps(flat, indent=2), encoding="utf-8")
    write_markdown(directory / "report.md", metrics, baselines, per_page, rows, question_file)
    write_plots(directory, per_page, [r["latency_ms"] for r in rows])
