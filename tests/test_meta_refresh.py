"""MetaRefreshPrecheckMiddleware: Scrapy's meta-refresh redirect, minus the decode of every page."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.downloader.meta_refresh import MetaRefreshPrecheckMiddleware

URL = "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml"
MOVED = "https://finance.sina.com.cn/moved.shtml"


def project_settings() -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings")
    return settings


@pytest.fixture
def middleware() -> MetaRefreshPrecheckMiddleware:
    return MetaRefreshPrecheckMiddleware.from_crawler(get_crawler(settings_dict={}))


def answer(body: bytes, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(URL, body=body, encoding=encoding, request=Request(URL))


REFRESH = f'<meta http-equiv="refresh" content="0; url={MOVED}">'
PAGES = [
    (f"<html><head>{REFRESH.replace('refresh', 'Refresh')}</head></html>", "utf-8"),
    (f"<html><head>{REFRESH}<title>新浪</title></head></html>", "gb18030"),
    (f"<html><head>{REFRESH}</head></html>", "utf-16"),
    (f"<html><head>{REFRESH.replace('refresh', '&#114;efresh')}</head></html>", "utf-8"),
    (f"<html><head><script>{REFRESH}</script></head></html>", "utf-8"),
    (f"<html><head>{REFRESH.replace('0;', '900;')}</head></html>", "utf-8"),
    ("<html><head><title>新浪财经</title></head><body>正文</body></html>", "utf-8"),
    ("<html><head><title>新浪财经</title></head><body>正文</body></html>", "utf-16"),
    # Mode escapes inside the word, and 8 bytes a character: only a decode finds it.
    ("<html><head>" + REFRESH.replace("refresh", "ref\x1b(Bresh") + "</head></html>", "iso2022_jp"),
    (f"<html><head><title>{'aア' * 2000}</title>{REFRESH}</head></html>", "iso2022_jp"),
]


@pytest.mark.parametrize(("body", "encoding"), PAGES)
def test_it_answers_as_scrapys_middleware(middleware, body, encoding):
    scrapys = MetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={}))
    ours = middleware.process_response(Request(URL), answer(body.encode(encoding), encoding))
    theirs = scrapys.process_response(Request(URL), answer(body.encode(encoding), encoding))
    assert type(ours) is type(theirs)
    assert ours.url == theirs.url


def test_a_refresh_in_the_head_redirects(middleware):
    redirected = middleware.process_response(Request(URL), answer(PAGES[0][0].encode()))
    assert isinstance(redirected, Request)
    assert redirected.url == MOVED


def test_a_page_without_refresh_is_passed_on_undecoded(middleware):
    response = answer(
        ("<html><head><title>新浪财经</title></head><body>" + "正文" * 50_000).encode()
    )
    assert middleware.process_response(response.request, response) is response
    assert response._cached_ubody is None  # Scrapy's cache of response.text: never filled


def test_it_replaces_scrapys_middleware_in_the_project():
    enabled = project_settings().getwithbase("DOWNLOADER_MIDDLEWARES")
    assert enabled["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert enabled["crawler.downloader.meta_refresh.MetaRefreshPrecheckMiddleware"] == 580
