"""Samples the end-to-end tests share: ten served fixture pages with known titles, the roll's clock."""

from __future__ import annotations

from tests.standin import page_key

TITLES = {
    "finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml": (
        '60万"12306账号"外泄? 中铁总辟谣称消息不实'
    ),
    "news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml": "城市有轨电车之困：一边争相上马，一边接连叫停",
    "news.sina.com.cn/o/2024-05-16/doc-inavmmfi1968342.shtml": (
        "被控受贿超5.26亿 山东省青岛市政协原主席汲斌昌受审"
    ),
    "news.sina.com.cn/c/2019-10-23/doc-iicezuev4202091.shtml": "陈同佳刑满出狱 向潘晓颖家人鞠躬致歉",
    "news.sina.com.cn/c/2019-09-07/doc-iicezzrq4076655.shtml": "最强“中国芯”本月商用 华为抢跑5G芯片大战",
    "news.sina.com.cn/c/2019-11-25/doc-iihnzahi3275702.shtml": "中国人习以为常的地方 为何老外却说“了不得”？",
    "chanye.finance.sina.com.cn/sm/2005-03-21/244339.shtml": "四年前中500万现穷困潦倒 一夜暴富后如何经营",
    "tech.sina.com.cn/t/2019-09-11/doc-iicezzrq4972166.shtml": (
        "苹果发布新iPhone 11：64GB售5499元 256GB售6799元"
    ),
    "ent.sina.com.cn/y/2009-11-09/13562762964.shtml": "阿里郎全新力作《兰花指》单曲成红歌(图)",
    "finance.sina.com.cn/money/forex/forexroll/2016-05-25/doc-ifxsktkp9337164.shtml": (
        "人民币中间价创逾五年新低 做市商称符合预期"
    ),
}
# Ten sample pages whose titles are known, as http:// (the stand-in speaks no TLS).
URLS = [f"http://{key}" for key in TITLES]
# 2024-05-10 10:40:00 Beijing time; roll entry i is listed i minutes earlier.
T0 = 1715308800


def titles_by_key(items: list[dict]) -> dict[str, str]:
    return {page_key(item["url"]): item["title"] for item in items}


def expected(urls: list[str]) -> dict[str, str]:
    return {page_key(u): TITLES[page_key(u)] for u in urls}
