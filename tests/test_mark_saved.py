"""The pipeline that records each saved article in the crawl state.

URLs here are only text (they name the article); nothing is fetched.
"""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.items import ArticleItem
from crawler.storage.crawl_state import SQLiteState
from pipelines.mark_saved import MarkSavedPipeline


def test_pipeline_marks_items_it_receives(tmp_path):
    crawler = get_crawler(
        settings_dict={
            "CRAWL_STATE_DIR": str(tmp_path),
            "CRAWL_STATE_CLASS": project.CRAWL_STATE_CLASS,
        }
    )
    crawler.stats.open_spider()
    pipeline = MarkSavedPipeline.from_crawler(crawler)
    item = ArticleItem(url="http://finance.sina.com.cn/a/doc-ihqfskcn2160999.shtml", title="T")
    assert pipeline.process_item(item) is item
    pipeline.mark(item)  # on item_scraped: after the export wrote the item's line
    pipeline.close()
    state = SQLiteState(tmp_path / "articles.sqlite3")
    assert state.is_saved("sina:ihqfskcn2160999")
    state.close()
    assert crawler.stats.get_value("state/marked") == 1


def test_pipeline_not_configured_without_state_dir():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        MarkSavedPipeline.from_crawler(get_crawler(settings_dict={"CRAWL_STATE_DIR": ""}))
