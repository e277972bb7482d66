"""`make site`: build a ready Hexo 7 blog (Volantis theme) from the crawled posts.

    python hexo/site.py [--posts output/posts] [--site output/site]

The site folder gets the config in hexo/site/ (Hexo's, the theme's, a no-Referer injector),
the posts, and source/_data/author.yml made from the posts' authors; `hexo generate` then
writes the blog into <site>/public/. The npm packages (hexo/site/package-lock.json) are
installed once into a cache folder keyed by the lockfile's hash and linked into the site.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

TEMPLATE = Path(__file__).resolve().parent / "site"
# Copied into the site folder as they are; the rest of the site is generated.
TEMPLATE_FILES = ("package.json", "package-lock.json", "_config.yml", "_config.volantis.yml")
AUTHOR_AVATAR = "/images/author.svg"


class SiteError(Exception):
    """The site cannot be built (npm or hexo failed, no posts): one line for the user."""


def npm_cache_dir() -> Path:
    """Where the site's node_modules live: SINA_SITE_NPM_CACHE, else ~/.cache/... by lock hash."""
    lock = (TEMPLATE / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock).hexdigest()[:16]
    root = os.environ.get("SINA_SITE_NPM_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "sina-finance-crawler"
    )
    return Path(root) / f"hexo-site-{key}"


def run(cmd: list[str], cwd: Path, timezone: str | None = None) -> str:
    # Hexo and the theme show dates in the process's time zone, whatever `timezone:` says.
    env = {**os.environ, "TZ": timezone} if timezone else None
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SiteError(f"{' '.join(cmd)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def install_packages() -> Path:
    """Return a node_modules folder holding exactly the lockfile's packages (npm ci, once)."""
    cache = npm_cache_dir()
    modules = cache / "node_modules"
    if (modules / "hexo" / "package.json").exists():
        return modules
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Installed beside the cache and renamed into place: an interrupted install leaves no
    # half-filled cache behind.
    staging = Path(tempfile.mkdtemp(prefix=f".{cache.name}-", dir=cache.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(TEMPLATE / name, staging / name)
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], staging)
        try:
            staging.rename(cache)
        except OSError:
            if not (modules / "hexo" / "package.json").exists():
                raise  # not a concurrent install that finished first
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return modules


def post_authors(posts: list[Path]) -> list[str]:
    """Every distinct `author` in the posts' front matter, in name order."""
    authors = set()
    for post in posts:
        text = post.read_text(encoding="utf-8")
        if not text.startswith("---\n"):
            continue
        matter = yaml.safe_load(text.split("---\n", 2)[1]) or {}
        if matter.get("author"):
            authors.add(str(matter["author"]))
    return sorted(authors)


def author_data(authors: list[str]) -> str:
    """source/_data/author.yml: Volantis looks a post's `author` up here for the name it shows."""
    cards = {name: {"name": name, "avatar": AUTHOR_AVATAR, "url": "/"} for name in authors}
    return yaml.safe_dump(cards, allow_unicode=True, sort_keys=False)


def build_site(posts_dir: Path, site: Path, timezone: str = "Asia/Shanghai") -> Path:
    """Build the blog from `posts_dir` into `site`, dates on `timezone`; return its public/."""
    posts = sorted(posts_dir.glob("*.md"))
    if not posts:
        raise SiteError(f"no posts (*.md) in {posts_dir}: crawl first (make demo, scrapy crawl)")
    modules = install_packages()
    site.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_FILES:
        shutil.copy(TEMPLATE / name, site / name)
    shutil.copytree(TEMPLATE / "scripts", site / "scripts", dirs_exist_ok=True)
    source = site / "source"
    shutil.copytree(TEMPLATE / "source", source, dirs_exist_ok=True)
    link = site / "node_modules"
    if link.is_symlink() or not link.exists():
        link.unlink(missing_ok=True)
        link.symlink_to(modules, target_is_directory=True)
    # The posts folder is the truth: a post gone from it goes from the blog.
    shutil.rmtree(source / "_posts", ignore_errors=True)
    (source / "_posts").mkdir(parents=True)
    for post in posts:
        shutil.copy2(post, source / "_posts" / post.name)
    (source / "_data").mkdir(exist_ok=True)
    (source / "_data" / "author.yml").write_text(author_data(post_authors(posts)), encoding="utf-8")
    hexo = [str(modules / "hexo" / "bin" / "hexo")]
    run([*hexo, "clean"], site)
    log = run([*hexo, "generate"], site, timezone=timezone)
    if not (site / "public" / "index.html").exists():  # hexo-cli exits 0 when it finds no site
        raise SiteError(f"hexo generate wrote no {site / 'public' / 'index.html'}:\n{log}")
    return site / "public"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=Path, default=Path("output/posts"))
    parser.add_argument("--site", type=Path, default=Path("output/site"))
    parser.add_argument("--timezone", default="Asia/Shanghai", help="zone dates are shown in")
    args = parser.parse_args()
    try:
        public = build_site(args.posts.resolve(), args.site.resolve(), args.timezone)
    except SiteError as exc:
        sys.exit(f"make site: {exc}")
    print(f"Blog built in {public} (serve it: python3 -m http.server -d {public})")


if __name__ == "__main__":
    main()
