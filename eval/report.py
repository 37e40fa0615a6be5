"""Write the eval report: report.json (flat metrics), report.md (one-minute read) and plots."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eval.plots import plot_curve, write_plots

SUMMARY_KEYS = (
    "hit@1", "hit@3", "hit@5", "mrr", "fact_recall", "median_answer_words", "grounding",
    "citation_precision", "refusal_rate", "false_refusal_rate", "emergencies_handled",
    "latency_p50_ms", "latency_p95_ms",
    "paraphrase_consistency", "medical_recall", "self_harm_recall", "personal_advice_handled",
    "calm_answered", "anxious_answered", "false_alarm_rate", "answer_grade", "source_grade",
)  # fmt: skip
GRADE_KEYS = ("answer_grade", "source_grade")
# Written by `python -m eval.fit_abstain`: the abstain model's threshold and its refusal curve.
ABSTAIN_PATH = Path(__file__).resolve().parent.parent / "corpus" / "abstain.json"


def _fmt(value, key: str = "") -> str:
    if value is None:
        return "n/a"  # the question file has nothing this metric counts
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 and key not in GRADE_KEYS else f"{value:.1f}"
    return str(value)


def summary_table(metrics: dict, baselines: dict[str, dict]) -> str:
    names = ["GIST Answers", *baselines]
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in SUMMARY_KEYS:
        cells = [_fmt(metrics.get(key), key)]
        cells += [_fmt(b.get(key, ""), key) for b in baselines.values()]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_curve(path: Path = ABSTAIN_PATH) -> dict | None:
    """The fitted threshold and refusal curve from abstain.json, or None if there is none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        threshold = float(data["threshold"])
        curve = [
            {k: float(p[k]) for k in ("threshold", "answerable_refused", "out_of_scope_answered")}
            for p in data["curve"]
        ]
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as error:
        print(f"warning: {path}: no usable refusal curve ({error!r})", file=sys.stderr)
        return None
    if not curve:
        return None
    chosen = min(curve, key=lambda p: abs(p["threshold"] - threshold))
    return {
        "threshold": threshold,
        "curve": curve,
        "chosen": chosen,
        "operating_point": data.get("operating_point"),
    }


def curve_points(curve: dict, count: int = 6) -> list[dict]:
    """A few points spread along the curve, and the chosen one, in threshold order."""
    points = curve["curve"]
    step = max(1, len(points) // (count - 1))
    picked = {id(p): p for p in [*points[::step], points[-1], curve["chosen"]]}
    return sorted(picked.values(), key=lambda p: p["threshold"])


def curve_markdown(curve: dict) -> list[str]:
    chosen = curve["chosen"]
    parts = [
        "## When to answer: the fitted operating point",
        "",
        f"The abstain model (`corpus/abstain.json`, from `python -m eval.fit_abstain`) answers "
        f"when its probability reaches {curve['threshold']:.2f}. Each threshold trades "
        "refused answerable questions against answered out-of-scope ones "
        "(cross-validated; plot: `refusal_curve.png`).",
        "",
        "| threshold | answerable refused | out of scope answered |",
        "|---|---|---|",
    ]
    for point in curve_points(curve):
        mark = " (chosen)" if point is chosen else ""
        parts.append(
            f"| {point['threshold']:.2f}{mark} | {point['answerable_refused']:.3f} "
            f"| {point['out_of_scope_answered']:.3f} |"
        )
    op = curve.get("operating_point")
    if isinstance(op, dict) and {"answerable_refused", "out_of_scope_answered"} <= set(op):
        parts += [
            "",
            f"Fitted on all the data, at the threshold: answerable refused "
            f"{float(op['answerable_refused']):.3f}, out of scope answered "
            f"{float(op['out_of_scope_answered']):.3f}.",
        ]
    return parts


def write_markdown(
    path: Path,
    metrics,
    baselines,
    per_page,
    rows,
    question_file,
    missing=(),
    curve: dict | None = None,
    answers_file=None,
) -> None:
    failing = [r for r in rows if r["problems"]]
    graded = f"Answers read from `{answers_file}`, not produced here. " if answers_file else ""
    parts = [
        "# GIST Answers evaluation",
        "",
        f"{graded}{metrics['questions']} questions from `{question_file}`: {metrics['answerable']} "
        f"answerable, {metrics['out_of_scope']} out of scope, "
        f"{metrics['emergencies']} emergencies. "
        + (
            "Baselines: fixed 1000-character chunks, top chunk as the answer, no abstention; "
            "their text is raw source, so their grounding is trivially 1 and, having no [n] "
            "markers, their citation precision 0."
            if baselines
            else "No baselines in this run."
        ),
        "",
        summary_table(metrics, baselines),
        "",
        "## hit@3 by page",
        "",
        "| " + " | ".join(["page", "GIST Answers", *baselines]) + " |",
        "|---" * (len(baselines) + 2) + "|",
    ]
    for page, value in per_page["ours"].items():
        others = [_fmt(per_page[name].get(page, 0.0)) for name in baselines]
        parts.append("| " + " | ".join([page, _fmt(value), *others]) + " |")
    if metrics.get("paraphrase_consistency") is not None:
        inconsistent = metrics.get("inconsistent_groups", [])
        parts += [
            "",
            "## Paraphrase consistency",
            "",
            f"{_fmt(metrics['paraphrase_consistency'])} of the paraphrase groups are all "
            "refused or all answered from the same first cited section. "
            f"Inconsistent groups ({len(inconsistent)}): "
            + (", ".join(f"`{g}`" for g in inconsistent) or "none")
            + ".",
        ]
    if metrics.get("source_grade") is not None:
        parts += [
            "",
            "## Reading grade",
            "",
            f"Median Flesch-Kincaid grade of the answers given: "
            f"{_fmt(metrics.get('answer_grade'), 'answer_grade')}; "
            f"of the whole source: {_fmt(metrics['source_grade'], 'source_grade')}.",
        ]
    if curve:
        parts += ["", *curve_markdown(curve)]
    if missing:
        parts += [
            "",
            f"## Questions with no answer record ({len(missing)})",
            "",
            "Graded as refused with an empty answer: " + ", ".join(f"`{m}`" for m in missing) + ".",
        ]
    parts += ["", f"## Questions with a problem ({len(failing)})", ""]
    parts += [f"- `{r['id']}` {r['question'][:80]!r}: {'; '.join(r['problems'])}" for r in failing]
    if metrics["ungrounded_sentences"]:
        parts += ["", "## Ungrounded sentences", ""]
        parts += [f"- {s}" for s in metrics["ungrounded_sentences"]]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def write_report(
    directory: Path,
    metrics,
    baselines,
    per_page,
    rows,
    question_file,
    missing=(),
    answers_file=None,
    abstain_path: Path = ABSTAIN_PATH,
) -> list[Path]:
    """Write every report file; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    flat = dict(metrics)
    for name, values in baselines.items():
        for key in SUMMARY_KEYS:
            flat[f"{name}.{key}"] = values.get(key)
    flat["per_page_hit@3"] = per_page
    if answers_file is not None:
        flat["answers_file"] = str(answers_file)
        flat["missing_answers"] = list(missing)
    flat["rows"] = rows
    curve = load_curve(abstain_path)
    if curve:
        flat["refusal_curve"] = {"threshold": curve["threshold"], "chosen": curve["chosen"]}
    report_json = directory / "report.json"
    report_json.write_text(json.dumps(flat, indent=2), encoding="utf-8")
    write_markdown(
        directory / "report.md",
        metrics,
        baselines,
        per_page,
        rows,
        question_file,
        missing,
        curve,
        answers_file,
    )
    written = [report_json, directory / "report.md"]
    written += write_plots(directory, per_page, [r["latency_ms"] for r in rows])
    if curve:
        written.append(plot_curve(directory, curve))
    return written


def classifier_table(heads: dict) -> str:
    """The message classifiers' held-out figures (index/heads.json): the team's own split."""
    lines = ["| classifier | class | threshold | positives | out-of-fold recall | precision |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for head, report in heads.items():
        for label, figures in report["classes"].items():
            rows = [(label, figures)]
            if "sure" in figures:  # the crisis notice's own bar (indexer/train_heads.SURE)
                rows.append((f"{label} (sure: the full notice)", figures["sure"]))
            lines += [
                f"| {head} | {name} | {row['threshold']:.3f} | {row['positives']} | "
                f"{row['recall']:.3f} | {row['precision']:.3f} |"
                for name, row in rows
            ]
    return "\n".join(lines)


def add_classifiers(directory: Path, heads: dict) -> None:
    """Append the classifiers' held-out figures to report.md and report.json."""
    report_json = directory / "report.json"
    flat = json.loads(report_json.read_text(encoding="utf-8"))
    flat["classifiers_held_out"] = heads
    report_json.write_text(json.dumps(flat, indent=2), encoding="utf-8")
    with (directory / "report.md").open("a", encoding="utf-8") as out:
        out.write(
            "\n## Safety and scope classifiers: the team's sets, out-of-fold\n\n"
            "Fitted at index build on corpus/training/; each threshold chosen on out-of-fold "
            "probabilities (4 stable folds; recall first for emergencies).\n\n"
            + classifier_table(heads)
            + "\n"
        )
