"""PostImagesPipeline: keep local copies of article images and point the post at them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import lxml.html
from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.pipelines.files import FilesPipeline

from crawler.url_faults import url_problem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.pipelines.media import MediaPipeline


def image_urls(body: str) -> list[str]:
    """List the distinct http(s) image URLs of a cleaned body, in document order.

    >>> image_urls('<div><img src="https://a/1.jpg"><img src="https://a/1.jpg"><img src="x"></div>')
    ['https://a/1.jpg']
    """
    if not body:
        return []
    root = lxml.html.fragment_fromstring(body, create_parent="div")
    urls = (img.get("src", "") for img in root.iter("img"))
    return list(dict.fromkeys(u for u in urls if u.startswith(("http://", "https://"))))


def rewrite_images(body: str, local: dict[str, str]) -> str:
    """Point each ``<img>`` whose URL was saved at its local copy.

    >>> rewrite_images('<div><img src="https://a/1.jpg"></div>', {"https://a/1.jpg": "/i/1.jpg"})
    '<div><img src="/i/1.jpg"></div>'
    """
    root = lxml.html.fragment_fromstring(body, create_parent="div")
    for img in root.iter("img"):
        src = img.get("src")
        if src in local:
            img.set("src", local[src])
    (div,) = root  # clean_bodies are one <div>
    return lxml.html.tostring(div, encoding="unicode")


class PostImagesPipeline(FilesPipeline):
    """Scrapy's FilesPipeline fed from the body's ``<img>`` and ``headimg``, no extra item field.

    Files land under MARKDOWN_IMAGES_STORE as ``full/<sha1>.<ext>``; the body and ``headimg``
    then say MARKDOWN_IMAGES_URL + that path. Images that fail to download keep their URL.
    """

    def __init__(self, store_uri: str, *, crawler: Crawler, url_prefix: str):
        super().__init__(store_uri, crawler=crawler)
        self.url_prefix = url_prefix
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("MARKDOWN_LOCAL_IMAGES"):
            raise NotConfigured("MARKDOWN_LOCAL_IMAGES is off: posts link to Sina's images")
        store = settings.get("MARKDOWN_IMAGES_STORE")
        if not store:
            raise NotConfigured("MARKDOWN_LOCAL_IMAGES needs MARKDOWN_IMAGES_STORE")
        prefix = settings.get("MARKDOWN_IMAGES_URL")
        return cls(str(store), crawler=crawler, url_prefix=prefix.rstrip("/") + "/")

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        adapter = ItemAdapter(item)
        urls = image_urls(adapter.get("body") or "")
        headimg = adapter.get("headimg")
        if headimg and headimg.startswith(("http://", "https://")) and headimg not in urls:
            urls.append(headimg)
        # A malformed image URL (bad host or port) is left as it is, not a failed article.
        return [Request(url) for url in urls if not url_problem(url)]

    def item_completed(
        self, results: list[tuple[bool, Any]], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        local = {}
        for ok, value in results:
            if ok:
                local[value["url"]] = self.url_prefix + value["path"]
                self.stats.inc_value("images/saved")
            else:
                self.stats.inc_value("images/failed")
        if local:
            adapter = ItemAdapter(item)
            if adapter.get("body"):
                adapter["body"] = rewrite_images(adapter["body"], local)
            if adapter.get("headimg") in local:
                adapter["headimg"] = local[adapter["headimg"]]
        return item
