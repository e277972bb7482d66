"""Scrapy settings for the Sina Finance crawler, plus the project's own (prefixed) settings.

Every project setting can be overridden with ``-s NAME=VALUE``; docs/settings.md lists them
all. This is the one home of every default: code reads settings without restating a fallback.
Each setting also has a rule in crawler/settings_check.py, checked before the crawl starts.
"""

from __future__ import annotations

import os
from pathlib import Path

BOT_NAME = "sina_finance_crawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Generated files go where the user runs the crawl, never into the installed package: the
# SINA_OUTPUT_DIR environment variable, else ./output in the working directory at start-up
# (cron: `cd` first; Scrapyd: the folder Scrapyd runs in). Fixed here, when settings load.
OUTPUT_DIR = Path(os.environ.get("SINA_OUTPUT_DIR") or "output").resolve()

# --- Being a polite guest -------------------------------------------------------------------
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6",
}
ROBOTSTXT_OBEY = False
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# Each article page yields one item: Scrapy starts this many tasks per response (default 100).
CONCURRENT_ITEMS = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Each give-up is logged once, by the spider ("Dropped <url>: <why> (after N retries)").
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"
# Seconds before the first retry; doubles per retry (0: no wait). RETRY_BACKOFF_START, its old
# name, still works with a deprecation warning.
SINA_RETRY_BACKOFF_START = 0.5
DOWNLOAD_TIMEOUT = 30
# Sina article pages are 50-500 kB; anything near these sizes is not an article.
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's RemoteControl runs Python sent to it over HTTP on 127.0.0.1: nothing listens unless
# asked (`-s REMOTE_CONTROL_ENABLED=True`, docs: operations).
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# --- Scrapy core ------------------------------------------------------------------------------
DOWNLOAD_HANDLERS = {
    # Keeps idle connections for every request in flight (see crawler/connections.py).
    "http": "crawler.downloader.handler.PooledHTTP11DownloadHandler",
    "https": "crawler.downloader.handler.PooledHTTP11DownloadHandler",
    # Local feeds: regular files only, at most DOWNLOAD_MAXSIZE (not /dev/zero, not a pipe).
    "file": "crawler.downloader.local_files.LocalFileDownloadHandler",
}
# A dropped item is logged as one line (its URL and why), not whole with its body.
LOG_FORMATTER = "crawler.log_formatter.OneLineLogFormatter"
# Scrapy reads and parses a generator callback's source on every response to warn about a
# `return value` in it: its cache holds the bound method weakly and loses it at once (3% of the
# reactor thread's time). tests/test_sina.py makes the same check of our callbacks once.
WARN_ON_GENERATOR_RETURN_VALUE = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# --- Output -----------------------------------------------------------------------------------
MARKDOWN_POSTS_DIR = str(OUTPUT_DIR / "posts")
# Post pipelines, with room between them; the crawl-state pipeline sits at 800, after these.
ITEM_PIPELINES = {
    # Bodies are cleaned at extraction (CLEANING_ENABLED), in the extraction worker; rendering
    # and fsync run off the reactor thread (crawler.extensions.offload).
    "pipelines.post_images.PostImagesPipeline": 400,
    "pipelines.markdown_posts.MarkdownPostPipeline": 500,
    "pipelines.mark_saved.MarkSavedPipeline": 800,  # marks an article done once its post is on disk
}
CLEANING_ENABLED = True  # at extraction: strip scripts, ads, widgets, comments from the body
MARKDOWN_CATEGORY_ROOT = "金融"  # first category level; empty to start at the site
MARKDOWN_SITE_NAME = "新浪财经"  # second category level, and author when the page names none
MARKDOWN_CHANNEL_SEPARATOR = "－"  # third level is site + this + channel: 新浪财经－国内
# headimg/thumbnail when the article has no image (the example post's).
MARKDOWN_DEFAULT_IMAGE = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
MARKDOWN_COMMENTS = False  # front-matter `comments`
MARKDOWN_DATE_FORMAT = "gmt"  # gmt (stock Hexo) | local (Hexo with `timezone:` set) | iso
MARKDOWN_TIMEZONE = "Asia/Shanghai"  # zone of `local` dates and of the date in file names
MARKDOWN_BODY_FORMAT = "html"  # html (as the example post) | markdown (markdownify)
MARKDOWN_EXTRA_KEYS: list[str] = []  # extra front-matter keys: tags, source_url, editor
MARKDOWN_TITLE_SLUG = False  # append a title slug to post file names
MARKDOWN_LOCAL_IMAGES = False  # download images and point posts at the local copies
MARKDOWN_IMAGES_STORE = str(OUTPUT_DIR / "images")  # where local copies go (FilesPipeline store)
MARKDOWN_IMAGES_URL = "/images/sina/"  # URL prefix of MARKDOWN_IMAGES_STORE on the blog
CRAWL_STATE_DIR = str(OUTPUT_DIR / "state")
# The articles this run saved (replaced per run, so refresh=1 never doubles a line); `-o`/`-O`
# on the command line replace this export for that run (crawler/commands/crawl.py).
FEEDS = {
    str(OUTPUT_DIR / "articles.jsonl"): {
        "format": "jsonlines",
        "encoding": "utf-8",
        "overwrite": True,
    },
}
# Local export files hand each line to the OS before its article is marked saved: a killed run
# loses none (crawler/storage/export.py).
FEED_STORAGES = {
    "": "crawler.storage.export.SyncedFileFeedStorage",
    "file": "crawler.storage.export.SyncedFileFeedStorage",
}
SINA_EXPORT_FSYNC = False  # also fsync each export line (survives a power cut; ~3-7 ms an item)

# --- Discovery --------------------------------------------------------------------------------
SINA_ROLL_API_URL = "https://feed.mix.sina.com.cn/api/roll/get"
SINA_ROLL_PAGE_SIZE = 50  # entries asked per roll page (`num=`); Sina serves at most 50
# Requests waiting in the scheduler stay at or below this: the next roll page or feed is asked
# for only when what it lists fits (0: no limit). Keeps a backfill of any size in flat memory.
SINA_DISCOVERY_BACKLOG = 100
# First in, first out: listed articles are fetched in the roll's order, newest first (Scrapy's
# default, LIFO, would leave a page's first entries waiting while later pages arrive).
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
# Scrapy's duplicate filter with its fingerprints on disk (memory stays flat in a backfill).
DUPEFILTER_CLASS = "crawler.storage.seen_keys.SeenKeysDupeFilter"
CRAWL_STATE_CLASS = (
    "crawler.storage.crawl_state.SQLiteState"  # saved-article store: from_settings(settings)
)

# --- Unattended runs ---------------------------------------------------------------------------
COMMANDS_MODULE = "crawler.commands"  # our `crawl`: one-line usage errors, exit 1 on failed crawls
EXTENSIONS = {
    "crawler.extensions.lock.CrawlLockExtension": 100,  # one crawl at a time per state dir
    "crawler.extensions.health.CrawlHealthExtension": 500,  # close-time summary and verdict
    # Scrapy's LogStats plus a progress line (listed, saved, skipped, failed) per interval.
    "scrapy.extensions.logstats.LogStats": None,
    "crawler.extensions.health.ProgressLogStats": 0,
    "crawler.extensions.offload.OffloadExtension": 0,  # worker process(es) for CPU work
    # Stops at start-up when this Scrapy lacks a private name the crawler uses.
    "crawler.scrapy_internals.ScrapyInternalsCheck": 50,
    # Counts an item the exporter could not write, so it is failed, not marked saved.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "crawler.storage.export.CountingFeedExporter": 0,
}
# Processes for extraction, cleaning and rendering beside the reactor (0: one thread instead).
SINA_WORKER_PROCESSES = 1
CRAWL_LOCK_ENABLED = True  # off for several workers sharing one CRAWL_STATE_DIR on purpose
CRAWL_LOCK_FILE = ""  # default <CRAWL_STATE_DIR>/crawl.lock
CRAWL_HEALTH_ENABLED = True  # log the summary and fail the exit status on a bad crawl
CRAWL_FAILURE_RATIO = 0.5  # the crawl failed when more than this share of articles failed
# Runs a listed article may fail page-side (HTTP error, error page) before it is parked: then
# reported once and not fetched again (0: never park).
SINA_PAGE_FAILURE_RUNS = 3
DOWNLOADER_MIDDLEWARES = {
    # Before RetryMiddleware (550) on the way back, so block answers get a slower retry.
    "crawler.downloader.slowdown.SlowDownMiddleware": 560,
    # Holds back retried requests (0.5 s, 1 s, 2 s, ...) before they go out again.
    "crawler.downloader.backoff.RetryBackoffMiddleware": 555,
    # Scrapy's offsite filter, with the allowed hosts taken from the run (redirects included).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.downloader.offsite.SinaOffsiteMiddleware": 50,
    # Scrapy's meta-refresh redirect, in its place, without decoding pages that have no refresh.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.downloader.meta_refresh.MetaRefreshPrecheckMiddleware": 580,
}
# Hosts (and their subdomains) requests may go to, besides the roll API's, feeds' and -a urls'.
SINA_ALLOWED_DOMAINS = ["sina.com.cn", "sina.cn", "sinaimg.cn"]
SLOWDOWN_HTTP_CODES = [403, 456, 429]  # Sina's "too fast" answers: back off, retry, never hammer
SLOWDOWN_RETRY_TIMES = 3  # retries of a blocked request before giving up on it
SLOWDOWN_START_DELAY = 2.0  # seconds; the site's delay doubles from here on each block answer

# --- Distributed mode (scrapy-redis); empty means single-machine mode -------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# The add-on does nothing without REDIS_URL; with it, queue, dupefilter and state live in Redis.
ADDONS = {"crawler.distributed.addon.DistributedAddon": 0}
SINA_REDIS_KEY_PREFIX = "sina"  # every Redis key of the crawl starts with this and a colon
SINA_REDIS_IDLE_TIMEOUT = 30.0  # seconds with nothing queued or in flight before a worker exits
SINA_REDIS_WORKER_TTL = 30  # seconds a silent worker keeps its in-flight requests (then requeued)
SINA_REDIS_OUTAGE_TIMEOUT = 300.0  # seconds a worker waits for a lost Redis before it gives up
SINA_REDIS_WORKER_ID = ""  # worker name in Redis keys; empty: <hostname>-<pid>-<random>
