"""A `pip install .` copy (not editable) crawls from any folder and writes there, not into itself."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.e2e.as_user import ARTICLES, copy_project, crawl_here, proxy_env, read_lines

pytestmark = pytest.mark.e2e


def installed_venv(tmp_path: Path) -> Path:
    """A fresh venv holding a non-editable install of the project; its python.

    The dependencies come from the test venv through a .pth path line (offline, no download):
    a path line adds the folder without running its .pth files, so the test venv's editable
    install of this project stays out and `crawler` can only come from the fresh install.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (purelib / "test-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = copy_project(tmp_path / "source")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-build-isolation", "--no-index", str(source)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    return python


def test_installed_copy_writes_where_it_runs(standin, tmp_path):
    python = installed_venv(tmp_path)
    show = "import crawler, sysconfig; print(crawler.__file__, sysconfig.get_paths()['purelib'])"
    where = subprocess.run(
        [python, "-c", show], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    package, site_packages = Path(where[0]), Path(where[1])
    assert package.is_relative_to(site_packages)  # the installed copy, not the sources

    home = tmp_path / "my crawls"  # a space, as user folders have
    urls = ARTICLES[:2]
    result = crawl_here(standin, home, "-a", "urls=" + ",".join(urls), python=str(python))
    assert result.returncode == 0, result.stderr
    posts = sorted((home / "output" / "posts").glob("*.md"))
    assert len(posts) == 2
    assert (home / "output" / "state").is_dir()
    assert {item["url"] for item in read_lines(home / "output" / "articles.jsonl")} == set(urls)
    # Nothing written into the installed package or anywhere in its site-packages.
    assert not (site_packages / "output").exists()
    assert sorted(p.name for p in site_packages.rglob("*.md")) == []
    assert sorted(p.name for p in site_packages.rglob("*.jsonl")) == []

    # SINA_OUTPUT_DIR moves the whole output root, wherever the crawl runs.
    elsewhere = tmp_path / "elsewhere"
    env = proxy_env(standin, SINA_OUTPUT_DIR=str(elsewhere))
    result = crawl_here(
        standin, tmp_path / "cwd", "-a", f"urls={ARTICLES[2]}", python=str(python), env=env
    )
    assert result.returncode == 0, result.stderr
    assert len(list((elsewhere / "posts").glob("*.md"))) == 1
    assert (elsewhere / "state").is_dir()
    assert [item["url"] for item in read_lines(elsewhere / "articles.jsonl")] == [ARTICLES[2]]
    assert not (tmp_path / "cwd" / "output").exists()
