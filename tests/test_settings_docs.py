"""The docs cannot drift from the code: settings, links, the code map and the names they cite.

- docs/settings.md lists every module-level setting of crawler/settings.py exactly once, one
  table row each: `| `NAME` | default | meaning |`.
- Every relative link in README.md, docs/*.md and benchmarks/README.md names an existing file
  (and an existing heading, for `file.md#anchor`).
- docs/architecture.md's code map lists every module of crawler/, spiders/ and pipelines/.
- Repository paths, `crawler.…` dotted names and `test_…` names the docs cite in code spans
  exist.

Each checker is a pure function over text, tried below on a broken sample too, so these tests
can fail.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PY = ROOT / "crawler" / "settings.py"
SETTINGS_MD = ROOT / "docs" / "settings.md"
ARCHITECTURE_MD = ROOT / "docs" / "architecture.md"
PRODUCT_PACKAGES = ("crawler", "spiders", "pipelines")

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
SETTING_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)
CODE_MAP_ROW = re.compile(r"^\|\s*`([\w/]+\.py)`\s*\|[^|\n]*\|([^\n]*)\|\s*$", re.MULTILINE)
REPO_PATH = re.compile(r"^(?:crawler|spiders|pipelines|tests|benchmarks|hexo|docs)/[\w./-]*$")
DOTTED_NAME = re.compile(r"\b(?:crawler|spiders|pipelines)(?:\.\w+)+")
TEST_NAME = re.compile(r"^test_\w+$")


def markdown_files() -> list[Path]:
    """The documentation: README.md, every page in docs/, benchmarks/README.md."""
    return [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "benchmarks" / "README.md",
    ]


def without_code_blocks(text: str) -> str:
    return FENCE.sub("", text)


def code_spans(text: str) -> list[str]:
    """The inline code spans of a Markdown text, fenced blocks left out."""
    return CODE_SPAN.findall(without_code_blocks(text))


# --- settings ------------------------------------------------------------------------------
def defined_settings(source: str) -> set[str]:
    """Module-level UPPERCASE names assigned in a settings module (what Scrapy reads)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names.update(t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper())
    return names


def settings_doc_problems(doc: str, source: str) -> list[str]:
    """Say how the settings page and the settings module disagree; [] when they agree."""
    rows = Counter(SETTING_ROW.findall(without_code_blocks(doc)))
    defined = defined_settings(source)
    problems = [
        f"listed {n} times in docs/settings.md: {name}" for name, n in rows.items() if n > 1
    ]
    if missing := sorted(defined - rows.keys()):
        problems.append(f"in crawler/settings.py, missing from docs/settings.md: {missing}")
    if extra := sorted(rows.keys() - defined):
        problems.append(f"in docs/settings.md, not in crawler/settings.py: {extra}")
    return problems


def test_settings_page_lists_every_setting_once():
    doc = SETTINGS_MD.read_text(encoding="utf-8")
    assert settings_doc_problems(doc, SETTINGS_PY.read_text(encoding="utf-8")) == []


def test_settings_check_names_missing_extra_and_repeated_settings():
    source = (
        "import os\nBOT_NAME = 'x'\nMARKDOWN_EXTRA_KEYS: list[str] = []\n_private = 1\nlower = 2\n"
    )
    assert defined_settings(source) == {"BOT_NAME", "MARKDOWN_EXTRA_KEYS"}
    doc = (
        "| setting | default |\n|---|---|\n| `BOT_NAME` | x |\n| `BOT_NAME` | x |\n| `GONE` | 1 |\n"
    )
    assert settings_doc_problems(doc, source) == [
        "listed 2 times in docs/settings.md: BOT_NAME",
        "in crawler/settings.py, missing from docs/settings.md: ['MARKDOWN_EXTRA_KEYS']",
        "in docs/settings.md, not in crawler/settings.py: ['GONE']",
    ]


# --- links ---------------------------------------------------------------------------------
def heading_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> heading_anchor("What a `kill -9` costs"), heading_anchor("scrapy-redis 0.9.1 on Scrapy 2.19")
    ('what-a-kill--9-costs', 'scrapy-redis-091-on-scrapy-219')
    """
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Anchors of every heading of a Markdown text (repeated headings get -1, -2, ...)."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(without_code_blocks(text)):
        anchor = heading_anchor(heading)
        found.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
        seen[anchor] += 1
    return found


def link_problems(page: Path, text: str) -> list[str]:
    """Name every relative link of `page` whose file (or heading) does not exist."""
    prose = CODE_SPAN.sub("", without_code_blocks(text))
    problems = []
    for target in LINK.findall(prose):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
            continue
        path_part, _, anchor = target.partition("#")
        path = (page.parent / path_part).resolve() if path_part else page
        if not path.exists():
            problems.append(f"{page.name}: link to a missing file: {target}")
        elif (
            anchor
            and path.suffix == ".md"
            and anchor not in anchors(path.read_text(encoding="utf-8"))
        ):
            problems.append(f"{page.name}: link to a missing heading: {target}")
    return problems


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert page.exists()
    assert link_problems(page, page.read_text(encoding="utf-8")) == []


def test_link_check_catches_missing_files_and_headings(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Exit status\n", encoding="utf-8")
    page = tmp_path / "page.md"
    text = (
        "# Page\n[ok](other.md) [ok](other.md#exit-status) [ok](#page) [web](https://x.example/)\n"
        "[gone](missing.md) [no heading](other.md#exit-codes) [no self](#nowhere)\n"
        "`[in code](ignored.md)`\n```\n[in a block](ignored.md)\n```\n"
    )
    page.write_text(text, encoding="utf-8")
    assert link_problems(page, text) == [
        "page.md: link to a missing file: missing.md",
        "page.md: link to a missing heading: other.md#exit-codes",
        "page.md: link to a missing heading: #nowhere",
    ]


# --- code map ------------------------------------------------------------------------------
def product_modules() -> set[str]:
    """Every module of the product packages, as a path from the project root."""
    return {
        str(path.relative_to(ROOT))
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    }


def code_map_problems(text: str, modules: set[str]) -> list[str]:
    """Say which modules the code map leaves out or invents, and which test files are missing."""
    rows = CODE_MAP_ROW.findall(text)
    listed = Counter(module for module, _ in rows)
    problems = [f"listed {n} times in the code map: {m}" for m, n in listed.items() if n > 1]
    if missing := sorted(modules - listed.keys()):
        problems.append(f"modules missing from the code map: {missing}")
    if extra := sorted(listed.keys() - modules):
        problems.append(f"code map rows for modules that do not exist: {extra}")
    for module, tests in rows:
        for test_file in re.findall(r"`(tests/[\w/]+\.py)`", tests):
            if not (ROOT / test_file).exists():
                problems.append(f"{module}: its test file does not exist: {test_file}")
    return problems


def test_code_map_lists_every_module_and_existing_tests():
    assert code_map_problems(ARCHITECTURE_MD.read_text(encoding="utf-8"), product_modules()) == []


def test_code_map_check_catches_missing_and_invented_modules():
    text = (
        "| module | part | tests |\n|---|---|---|\n"
        "| `crawler/a.py` | x | `tests/test_settings_docs.py` |\n"
        "| `crawler/gone.py` | x | `tests/test_gone.py` |\n"
    )
    assert code_map_problems(text, {"crawler/a.py", "crawler/b.py"}) == [
        "modules missing from the code map: ['crawler/b.py']",
        "code map rows for modules that do not exist: ['crawler/gone.py']",
        "crawler/gone.py: its test file does not exist: tests/test_gone.py",
    ]


# --- names cited in code spans -------------------------------------------------------------
def top_level_names(module: Path) -> dict[str, set[str]]:
    """Names defined at the top of a module, each with the names defined in it (for classes)."""
    names: dict[str, set[str]] = {}
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = set()
        elif isinstance(node, ast.ClassDef):
            names[node.name] = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update({t.id: set() for t in targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.ImportFrom):
            names.update({alias.asname or alias.name: set() for alias in node.names})
    return names


def dotted_name_problem(name: str) -> str | None:
    """Check `package.module[.Name[.method]]` against the source; say what is missing."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:split])
        module = (
            base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        )
        if module.exists():
            break
    else:
        return f"no such module: {name}"
    rest = parts[split:]
    if not rest:
        return None
    defined = top_level_names(module)
    if rest[0] not in defined and not (base / f"{rest[0]}.py").exists():
        return f"{name}: {rest[0]} is not defined in {module.relative_to(ROOT)}"
    if len(rest) > 1 and defined.get(rest[0]) and rest[1] not in defined[rest[0]]:
        return f"{name}: {rest[0]} has no {rest[1]}"
    return None


@functools.cache
def defined_test_names() -> frozenset[str]:
    return frozenset(
        node.name
        for path in (ROOT / "tests").rglob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def cited_name_problems(page: Path, text: str, test_names: frozenset[str]) -> list[str]:
    """Name the repository paths, dotted names and test names cited in code spans that do not exist."""
    problems = []
    for span in code_spans(text):
        if REPO_PATH.match(span) and "<" not in span and not (ROOT / span).exists():
            problems.append(f"{page.name}: no such file: {span}")
        for dotted in DOTTED_NAME.findall(span):
            if problem := dotted_name_problem(dotted):
                problems.append(f"{page.name}: {problem}")
        if TEST_NAME.match(span) and span not in test_names:
            problems.append(f"{page.name}: no test named {span}")
    return problems


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_files_names_and_tests_exist(page):
    text = page.read_text(encoding="utf-8")
    assert cited_name_problems(page, text, defined_test_names()) == []


def test_cited_name_check_catches_what_does_not_exist():
    text = (
        "`crawler/settings.py` `crawler/gone.py` `tests/fixtures/sina/<case>/page.html`\n"
        "`crawler.site.posts.render_post(item)` `crawler.site.posts.no_such_function`\n"
        "`crawler.extensions.lock.CrawlLockExtension.spider_opened` "
        "`crawler.extensions.lock.CrawlLockExtension.no_such_method` `crawler.nowhere.x`\n"
        "`test_link_check_catches_missing_files_and_headings` `test_that_was_never_written`\n"
    )
    assert cited_name_problems(ROOT / "page.md", text, defined_test_names()) == [
        "page.md: no such file: crawler/gone.py",
        (
            "page.md: crawler.site.posts.no_such_function: no_such_function is not defined in "
            "crawler/site/posts.py"
        ),
        (
            "page.md: crawler.extensions.lock.CrawlLockExtension.no_such_method: "
            "CrawlLockExtension has no no_such_method"
        ),
        "page.md: crawler.nowhere.x: nowhere is not defined in crawler/__init__.py",
        "page.md: no test named test_that_was_never_written",
    ]
