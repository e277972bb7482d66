"""The body-cleaning pipeline: counts, drops empty bodies by URL, can be switched off."""

import pytest
from scrapy.exceptions import DropItem, NotConfigured

from pipelines.clean_body import BodyCleaningPipeline
from tests.conftest import build, make_item, process

RAW_BODY = (
    '<div class="article" id="artibody"><!-- 秒拍begin --><p>　　正文第一段。</p>'
    '<script>var a = 1;</script><div class="appendQr_wrap"><img src="https://n.sinaimg.cn/q.png"></div>'
    '<p class="article-editor">责任编辑：王蒙 </p></div>'
)


def test_cleaning_pipeline_cleans_body_and_counts():
    pipe, stats = build(BodyCleaningPipeline)
    item = process(pipe, make_item(body=RAW_BODY))
    assert item.body == "<div><p>　　正文第一段。</p><p>责任编辑：王蒙 </p></div>"
    assert stats.get_value("cleaning/cleaned") == 1


def test_cleaning_pipeline_drops_empty_body_naming_url():
    pipe, stats = build(BodyCleaningPipeline)
    with pytest.raises(DropItem, match=r"doc-imizmscv4373413\.shtml"):
        process(pipe, make_item(body="<div><script>x</script></div>"))
    assert stats.get_value("cleaning/dropped_empty") == 1


def test_cleaning_pipeline_can_be_disabled():
    with pytest.raises(NotConfigured):
        build(BodyCleaningPipeline, CLEANING_ENABLED=False)
