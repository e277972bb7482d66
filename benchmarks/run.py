"""`make bench`: run every benchmark on this machine and write benchmarks/RESULTS.md.

    python -m benchmarks.run [--articles 300] [--repeats 5] [--memory 1000,10000,100000]
                             [--baseline-ref REF]

Each figure is printed next to a baseline measured in the same run (absolute times drift on a
shared machine); repeats show the spread.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import e2e, extraction_cost, quality

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"load average at start {load}"
    )


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    return (
        f"{fmt.format(statistics.median(values))} "
        f"({fmt.format(min(values))}–{fmt.format(max(values))})"
    )


def throughput_table(runs: list[e2e.Run]) -> list[str]:
    by_kind: dict[str, list[e2e.Run]] = {}
    for run in runs:
        by_kind.setdefault(run.kind, []).append(run)
    bare = by_kind["bare"]
    ratios = {
        kind: [r.rate / b.rate for r, b in zip(group, bare, strict=True)]
        for kind, group in by_kind.items()
    }
    label = {
        "bare": "bare no-op spider (baseline)",
        "lxml": "bare spider + lxml parse of each page",
        "full": "`scrapy crawl sina` (roll discovery, extraction, cleaning, posts, JSON lines)",
    }
    lines = [
        (
            "| run | pages | pages/s, median (min–max) | ratio to bare, median (min–max) "
            "| CPU s, median (min–max) | peak RSS MiB, median (min–max) |"
        ),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in ("bare", "lxml", "full"):
        group = by_kind[kind]
        lines.append(
            f"| {label[kind]} | {group[0].pages} | {spread([r.rate for r in group])} | "
            f"{spread(ratios[kind], '{:.2f}')} | {spread([r.cpu_s for r in group], '{:.2f}')} | "
            f"{spread([r.peak_rss_mib for r in group])} |"
        )
    lines += [
        "",
        (
            "Ratios are taken per repeat (each full run against the bare run just before it). "
            "Target: full pipeline at 0.6× the bare fetch or better. CPU s: user + system "
            "seconds of the crawl process and its extraction worker, start-up included (not the "
            "stand-in's); less swayed by the machine's other load than the rates are."
        ),
    ]
    return lines


def memory_table(runs: list[e2e.Run], baseline_ref: str | None = None) -> list[str]:
    by_size: dict[int, dict[str, e2e.Run]] = {}
    for run in runs:
        by_size.setdefault(run.articles, {})[run.kind] = run
    head = (
        "| listed articles | bare fetch peak PSS MiB (baseline) | full crawl peak PSS MiB "
        "| full crawl peak RSS MiB (crawl process) | full crawl pages/s | bare pages/s |"
    )
    rule = "|---:|---:|---:|---:|---:|---:|"
    if baseline_ref:
        head += f" `{baseline_ref}` full crawl peak PSS MiB | `{baseline_ref}` pages/s |"
        rule += "---:|---:|"
    lines = [head, rule]
    for size, kinds in by_size.items():
        bare, full = kinds["bare"], kinds["full"]
        row = (
            f"| {size} | {bare.peak_pss_mib:.0f} | {full.peak_pss_mib:.0f} | "
            f"{full.peak_rss_mib:.0f} | {full.rate:.0f} | {bare.rate:.0f} |"
        )
        if baseline_ref and "baseline" in kinds:
            before = kinds["baseline"]
            row += f" {before.peak_pss_mib:.0f} | {before.rate:.0f} |"
        lines.append(row)
    sizes = sorted(by_size)
    if len(sizes) > 1:
        small, large = by_size[sizes[0]]["full"], by_size[sizes[-1]]["full"]
        lines += [
            "",
            (
                f"Growth of the full crawl from {small.articles} to {large.articles} listed "
                f"articles: {large.peak_pss_mib - small.peak_pss_mib:+.0f} MiB (peak PSS of the "
                "process tree: crawl process + extraction worker, sampled every "
                f"{e2e.PSS_INTERVAL} s). Target: within 15 MiB, and at most 150 MiB."
            ),
        ]
    return lines


def cost_table(by_schedule: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """One row per tool, the two schedules of extraction_cost side by side."""
    schedules = list(by_schedule)
    first = next(iter(by_schedule[schedules[0]].values()))
    lines = [
        (
            f"{first['pages']} fixture article pages × {first['n'] // first['pages']} repeats, "
            "raw page bytes in; each schedule measured in the same run (see "
            "benchmarks/extraction_cost.py: tool by tool is how a crawl runs an extractor, page "
            "by page starts every call with the other tools' caches)."
        ),
        "",
        "| tool | "
        + " | ".join(f"median ms/page, {s} | p95, {s} | median ÷ ours, {s}" for s in schedules)
        + " |",
        "|---|" + "---:|---:|---:|" * len(schedules),
    ]
    for name in by_schedule[schedules[0]]:
        cells = []
        for schedule in schedules:
            rows = by_schedule[schedule]
            ours = rows["ours (extract + clean + render)"]["median"]
            row = rows[name]
            cells.append(f"{row['median']:.2f} | {row['p95']:.2f} | {row['median'] / ours:.1f}×")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    ratios = []
    for schedule in schedules:
        rows = by_schedule[schedule]
        ours = rows["ours (extract + clean + render)"]["median"]
        ratios.append(f"{rows['trafilatura.extract']['median'] / ours:.1f}× ({schedule})")
    lines += [
        "",
        (
            f"Ours is {' and '.join(ratios)} faster than trafilatura. Targets: 17× or more, and "
            "at most 3 ms a page."
        ),
    ]
    return lines


def quality_table(results: dict[str, list[quality.Score]]) -> list[str]:
    n = len(next(iter(results.values())))
    lines = [
        (
            f"{n} fixture article pages. title/author exact; date exact to the minute (and the "
            "day alone); body: character F1 against benchmarks/quality/<case>.txt."
        ),
        "",
        (
            "| tool | title | date (minute) | date (day) | author | body F1 min | body F1 mean "
            "| pages with F1 ≥ 0.98 |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, scores in results.items():
        f1s = [s.f1 for s in scores]
        lines.append(
            f"| {name} | {sum(s.title for s in scores)}/{n} | {sum(s.date for s in scores)}/{n} "
            f"| {sum(s.day for s in scores)}/{n} | {sum(s.author for s in scores)}/{n} "
            f"| {min(f1s):.3f} | {statistics.mean(f1s):.3f} | {sum(f >= 0.98 for f in f1s)}/{n} |"
        )
    lines += ["", "Body F1 per page:", ""]
    names = list(results)
    lines.append("| page | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for i, score in enumerate(results[names[0]]):
        cells = " | ".join(f"{results[name][i].f1:.3f}" for name in names)
        lines.append(f"| {score.case} | {cells} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 300 roll-listed articles against the bare fetch is issue 13's end-to-end check; five
    # repeats, since the bare fetch's own rate swings by a third from run to run.
    parser.add_argument("--articles", type=int, default=300, help="articles per throughput run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--memory", default="1000,10000,100000", help="listed articles for the backfill runs"
    )
    parser.add_argument(
        "--baseline-ref", help="also run each backfill's full crawl from this commit (before/after)"
    )
    parser.add_argument("--cost-repeats", type=int, default=10)
    parser.add_argument("--output", type=Path, default=RESULTS)
    opts = parser.parse_args(argv)
    started = time.monotonic()
    command = "make bench (" + shlex.join(["python", "-m", "benchmarks.run", *sys.argv[1:]]) + ")"
    header = [
        "# Benchmark results",
        "",
        f"- Command: `{command}`",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Commit: {git_head()}",
        "",
        (
            "Every crawl runs in its own process against the stand-in (benchmarks/standin_many.py, "
            "also its own process) on 127.0.0.1, AutoThrottle off, the project's concurrency "
            "(CONCURRENT_REQUESTS 16, 8 per domain). pages/s = pages ÷ Scrapy's "
            "elapsed_time_seconds; peak RSS = ru_maxrss of the crawl process (wait4); peak PSS = "
            "the largest sum of Pss over the crawl process and its children "
            "(/proc/<pid>/smaps_rollup), sampled every 0.1 s."
        ),
        "",
    ]
    print("1/4 throughput", flush=True)
    runs = e2e.throughput(opts.articles, opts.repeats)
    print("2/4 extraction cost", flush=True)
    cost = {
        schedule: extraction_cost.measure(opts.cost_repeats, schedule)
        for schedule in extraction_cost.SCHEDULES
    }
    print("3/4 memory", flush=True)
    sizes = tuple(int(x) for x in opts.memory.split(",") if x)
    baseline = e2e.checkout(opts.baseline_ref, e2e.workdir()) if opts.baseline_ref else None
    mem = e2e.memory(sizes, baseline=baseline)
    print("4/4 quality", flush=True)
    scores = quality.evaluate()
    body = [
        *header,
        f"## 1. End to end: {opts.articles} roll-listed articles, {opts.repeats} repeats",
        "",
        *throughput_table(runs),
        "",
        "## 2. Extraction cost per page",
        "",
        *cost_table(cost),
        "",
        "## 3. Backfill: peak memory of the process tree by listed articles",
        "",
        *memory_table(mem, opts.baseline_ref),
        "",
        "## 4. Quality per field",
        "",
        *quality_table(scores),
        "",
        f"Total bench time: {time.monotonic() - started:.0f} s.",
        "",
    ]
    opts.output.write_text("\n".join(body), encoding="utf-8")
    print(f"wrote {opts.output}", flush=True)
    return 0


def git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=RESULTS.parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
        cwd=RESULTS.parent,
    ).stdout.strip()
    return out + (" (with uncommitted changes)" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
