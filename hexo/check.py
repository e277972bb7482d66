"""`make hexo`: build our posts in a stock Hexo 7 site (clock on Beijing time) and check the pages.

Needs node/npm and the npm registry; not part of `make test`.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scrapy.settings import Settings

from crawler.items import ArticleItem
from crawler.site.cleaning import clean_body
from crawler.site.posts import PostOptions, post_filename, render_post

SEED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seed" / "example-post.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def sample_items() -> list[tuple[ArticleItem, PostOptions]]:
    raw_body = SEED.read_text(encoding="utf-8").split("---\n", 2)[2]
    example = ArticleItem(
        url="https://finance.sina.com.cn/money/bank/2022-08-01/doc-imizmscv4373413.shtml",
        doc_id="imizmscv4373413",
        title="上海银保监局局长王俊寿：支持地方政府做好_保交楼_工作",
        author="新浪财经",
        date=datetime(2022, 8, 1, 11, 23, 57, tzinfo=SHANGHAI),
        body=clean_body(raw_body, "https://finance.sina.com.cn/"),
        channel="国內",
    )
    hostile = ArticleItem(
        url="https://finance.sina.com.cn/stock/2024-05-10/doc-inausehc2630922.shtml",
        doc_id="inausehc2630922",
        title='It\'s a "test": #1 --- {{ x }} {% raw %}',
        author="上海证券报",
        date=datetime(2024, 5, 10, 0, 5, 0, tzinfo=SHANGHAI),  # 16:05 UTC the day before
        body=clean_body(
            "<div><p>　　正文 {{ not a tag }}</p></div>", "https://finance.sina.com.cn/"
        ),
        channel="美股",
    )
    settings = Settings()
    settings.setmodule("crawler.settings")
    options = PostOptions.from_settings(settings)
    return [(example, options), (hostile, replace(options, body_format="markdown"))]


def run(cmd: list[str], cwd: Path) -> str:
    env = {**os.environ, "TZ": "Asia/Shanghai"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="hexo-check-"))
    run(["npx", "--yes", "hexo-cli@4", "init", "site"], work)
    site = work / "site"
    posts = site / "source" / "_posts"
    shutil.rmtree(posts)
    posts.mkdir()
    items = sample_items()
    for item, options in items:
        (posts / post_filename(item, options)).write_text(
            render_post(item, options), encoding="utf-8"
        )
    log = run(["npx", "hexo", "generate"], site)
    problems = [line for line in log.splitlines() if re.search(r"WARN|ERROR", line)]
    for item, options in items:
        day = item.date.astimezone(SHANGHAI)
        stem = post_filename(item, options).removesuffix(".md")
        page = site / "public" / day.strftime("%Y/%m/%d") / stem / "index.html"
        if not page.exists():
            problems.append(f"missing page {page}")
            continue
        text = html.unescape(page.read_text(encoding="utf-8"))
        if item.title not in text:
            problems.append(f"{page}: title not found")
        # The theme writes the instant in UTC (`2022-08-01T03:23:57.000Z`): compare instants.
        shown = {
            datetime.fromisoformat(value).replace(second=0, microsecond=0)
            for value in re.findall(r'datetime="([^"]+)"', text)
        }
        if item.date.replace(second=0) not in shown:
            problems.append(f"{page}: publish minute {day:%Y-%m-%d %H:%M} not in {shown}")
        first_para = html.unescape(re.search(r"<p>(.*?)</p>", item.body).group(1))[:12]
        if first_para not in text:
            problems.append(f"{page}: body not found")
        if item.channel:
            leaf = f"新浪财经－{item.channel}"
            category = site / "public" / "categories" / "金融" / "新浪财经" / leaf / "index.html"
            if not category.exists():
                problems.append(f"missing category page {category}")
    if problems:
        sys.exit("hexo check FAILED:\n" + "\n".join(problems) + f"\n(site left in {work})")
    print(f"hexo check passed: {len(items)} posts built by stock Hexo in {work}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
