"""The article item as JSON lines: the default feed is UTF-8 and keeps the date's offset."""

import json

from scrapy.exporters import JsonLinesItemExporter

from crawler import settings as project_settings
from tests.conftest import make_item


def test_default_feed_is_readable_utf8_with_offset_dates(tmp_path):
    ((uri, options),) = project_settings.FEEDS.items()
    assert project_settings.FEED_EXPORT_ENCODING == "utf-8"
    assert uri.endswith("output/articles.jsonl")
    assert options["format"] == "jsonlines"
    assert options["encoding"] == "utf-8"
    out = tmp_path / "a.jsonl"
    with out.open("wb") as f:
        exporter = JsonLinesItemExporter(f, encoding="utf-8")
        exporter.start_exporting()
        exporter.export_item(make_item())
        exporter.finish_exporting()
    line = out.read_text(encoding="utf-8")
    assert '"title": "标题：一"' in line
    assert json.loads(line)["date"] == "2022-08-01T11:23:57+08:00"
