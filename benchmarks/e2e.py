"""End-to-end runs: `scrapy crawl sina` against the bare fetch of the same URLs, same stand-in.

Every crawl is its own process; its peak RSS comes from wait4() on that very process, its rate
from Scrapy's own closing stats (pages / elapsed_time_seconds, engine start to close).
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


@dataclass
class Run:
    kind: str  # full | bare | lxml
    articles: int  # URLs listed
    pages: int  # article pages fetched (full: items saved)
    elapsed: float  # seconds, Scrapy's elapsed_time_seconds
    peak_rss_mib: float
    log: Path
    peak_pss_mib: float = 0.0  # the whole process tree (crawl + worker process), sampled
    # CPU seconds (user + system) of the crawl process and the processes it waited for (its
    # extraction worker), start-up included; the stand-in's are not counted.
    cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.pages / self.elapsed if self.elapsed else 0.0


class BenchStandIn:
    """benchmarks.standin_many in its own process."""

    def __init__(self, articles: int, work: Path):
        self.work = work
        self.urls_file = work / f"urls-{articles}.txt"
        portfile = work / f"port-{articles}"
        self.proc = subprocess.Popen(
            [PY, "-m", "benchmarks.standin_many", "--articles", str(articles),
             "--portfile", str(portfile), "--urls-file", str(self.urls_file)],
            cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 30 + articles / 500  # 100,000 URLs take a while
        while not portfile.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("bench stand-in did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{portfile.read_text().strip()}"
        self.articles = articles

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def proxy_env(url: str) -> dict[str, str]:
    env = {**os.environ, "http_proxy": url, "HTTP_PROXY": url, "no_proxy": "", "NO_PROXY": ""}
    env.pop("https_proxy", None)
    env.pop("HTTPS_PROXY", None)
    return env


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:  # a process may exit between two reads
            tasks = list(Path(f"/proc/{current}/task").glob("*/children"))
        except OSError:
            continue
        for children in tasks:
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in children.read_text().split())
    return found


def tree_pss_kib(pid: int) -> int:
    """Proportional set size of ``pid`` and its descendants, KiB (shared pages counted once)."""
    total = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
    return total


@dataclass
class Measured:
    returncode: int
    peak_rss_mib: float  # the crawl process alone (wait4's ru_maxrss)
    peak_pss_mib: float  # the process tree, sampled every PSS_INTERVAL seconds
    cpu_s: float = 0.0  # user + system of the process and its reaped children


PSS_INTERVAL = 0.1


def run_measured(
    cmd: list[str], env: dict[str, str], log: Path, timeout: float, root: Path = ROOT
) -> Measured:
    """Run ``cmd`` in ``root``; return its exit status, peak RSS and process tree's peak PSS."""
    peak_pss = 0
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            peak_pss = max(peak_pss, tree_pss_kib(proc.pid))
            time.sleep(PSS_INTERVAL)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with log.open("a") as out:
        out.write(f"\nbench: cpu user {usage.ru_utime:.2f}s system {usage.ru_stime:.2f}s\n")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(proc.returncode, usage.ru_maxrss / 1024, peak_pss / 1024, cpu)  # Linux: KiB


def stat(log_text: str, name: str) -> object:
    match = re.search(rf"'{re.escape(name)}': ([^,\n}}]+)", log_text)
    return ast.literal_eval(match.group(1)) if match else None


def run_full(
    standin: BenchStandIn,
    work: Path,
    tag: str,
    timeout: float = 600,
    extra: tuple[str, ...] = (),
    root: Path = ROOT,
) -> Run:
    """`scrapy crawl sina` discovering every listed article from the roll: posts + JSON lines.

    ``root``: the project checkout to run (another commit's, for a before/after comparison).
    """
    out = work / tag
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    feed = out / "items.jsonl"
    pages = math.ceil(standin.articles / 50) + 1
    cmd = [
        PY, "-m", "scrapy", "crawl", "sina", "-a", f"pages={pages}",
        "-s", "LOG_LEVEL=INFO",
        "-s", "SINA_ROLL_API_URL=http://feed.mix.sina.com.cn/api/roll/get",
        "-s", f"CRAWL_STATE_DIR={out / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={out / 'posts'}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "FEEDS=" + json.dumps({str(feed): {"format": "jsonlines", "overwrite": True}}),
        *extra,
    ]  # fmt: skip
    log = out / "crawl.log"
    measured = run_measured(cmd, proxy_env(standin.url), log, timeout, root)
    text = log.read_text(encoding="utf-8", errors="replace")
    if measured.returncode != 0:
        raise RuntimeError(f"full crawl exited {measured.returncode}; see {log}")
    urls = {json.loads(line)["url"] for line in feed.read_text(encoding="utf-8").splitlines()}
    posts = sum(1 for _ in (out / "posts").rglob("*.md"))
    if len(urls) != standin.articles or posts != standin.articles:
        raise RuntimeError(
            f"full crawl saved {len(urls)} distinct URLs and {posts} posts of "
            f"{standin.articles} listed; see {log}"
        )
    items = int(stat(text, "item_scraped_count") or 0)
    elapsed = float(stat(text, "elapsed_time_seconds"))
    run = Run(
        "full",
        standin.articles,
        items,
        elapsed,
        measured.peak_rss_mib,
        log,
        measured.peak_pss_mib,
        measured.cpu_s,
    )
    # The posts and state are checked; only the log is kept.
    shutil.rmtree(out / "posts", ignore_errors=True)
    return run


def run_bare(
    standin: BenchStandIn, work: Path, tag: str, parse: str = "none", timeout: float = 600
) -> Run:
    """The bare spider fetching the same URLs (no discovery, no pipelines)."""
    out = work / tag
    out.mkdir(parents=True, exist_ok=True)
    log = out / "crawl.log"
    cmd = [PY, "-m", "benchmarks.bare", "--urls-file", str(standin.urls_file), "--parse", parse]
    measured = run_measured(cmd, proxy_env(standin.url), log, timeout)
    text = log.read_text(encoding="utf-8", errors="replace")
    if measured.returncode != 0:
        raise RuntimeError(f"bare crawl exited {measured.returncode}; see {log}")
    fetched = int(stat(text, "response_received_count") or 0)
    if fetched != standin.articles:
        raise RuntimeError(f"bare crawl fetched {fetched} of {standin.articles}; see {log}")
    kind = "bare" if parse == "none" else parse
    elapsed = float(stat(text, "elapsed_time_seconds"))
    return Run(
        kind,
        standin.articles,
        fetched,
        elapsed,
        measured.peak_rss_mib,
        log,
        measured.peak_pss_mib,
        measured.cpu_s,
    )


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sina-bench-"))


def throughput(articles: int = 1000, repeats: int = 3, work: Path | None = None) -> list[Run]:
    """Interleaved bare / lxml-parse / full runs over one stand-in, ``repeats`` times."""
    work = work or workdir()
    runs: list[Run] = []
    with BenchStandIn(articles, work) as standin:
        run_bare(standin, work, "warmup")  # first fetch warms the stand-in and the page cache
        for i in range(repeats):
            runs.append(run_bare(standin, work, f"bare-{i}"))
            runs.append(run_full(standin, work, f"full-{i}"))
            runs.append(run_bare(standin, work, f"lxml-{i}", parse="lxml"))
            print(
                "  throughput rep", i + 1, *(f"{r.kind}={r.rate:.0f}/s" for r in runs[-3:]),
                flush=True,
            )  # fmt: skip
    return runs


def checkout(ref: str, work: Path) -> Path:
    """Export commit ``ref`` of this repository into ``work`` (git archive; no worktree)."""
    target = work / f"checkout-{ref.replace('/', '_')}"
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def memory(
    sizes: tuple[int, ...] = (1000, 10000, 100000),
    work: Path | None = None,
    baseline: Path | None = None,
) -> list[Run]:
    """Peak tree PSS of the full crawl at each size, next to the bare fetch of the same URLs.

    With ``baseline`` (another checkout), its full crawl runs right after ours on the same
    stand-in (kind "baseline").
    """
    work = work or workdir()
    runs: list[Run] = []
    for size in sizes:
        timeout = max(600.0, size / 10)
        with BenchStandIn(size, work) as standin:
            runs.append(run_bare(standin, work, f"mem-bare-{size}", timeout=timeout))
            runs.append(run_full(standin, work, f"mem-full-{size}", timeout=timeout))
            if baseline is not None:
                before = run_full(
                    standin, work, f"mem-baseline-{size}", timeout=timeout, root=baseline
                )
                before.kind = "baseline"
                runs.append(before)
            print(
                f"  memory {size}:",
                *(f"{r.kind} {r.peak_pss_mib:.0f} MiB {r.rate:.0f}/s" for r in runs if r.articles == size),
                flush=True,
            )  # fmt: skip
    return runs


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
        reps = int(sys.argv[2]) if len(sys.argv) > 2 else 1
        for r in throughput(n, reps):
            print(
                r.kind, r.pages, f"{r.elapsed:.2f}s", f"{r.rate:.1f}/s", f"{r.peak_rss_mib:.0f}MiB"
            )
