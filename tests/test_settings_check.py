"""The settings table: every setting has a rule, the defaults pass, bad values get one line."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from crawler import settings as project
from crawler.settings_check import RULES, UNCHECKED, SettingError, check_settings


def project_settings(**overrides: object) -> Settings:
    settings = Settings()
    settings.setmodule(project, priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_every_project_setting_has_a_rule_or_is_wiring():
    names = {name for name in dir(project) if name.isupper()}
    assert sorted(names - set(RULES) - UNCHECKED) == []
    assert sorted(UNCHECKED - names) == []  # no stale entries


def test_the_defaults_pass():
    check_settings(project_settings())


def test_the_common_scrapy_settings_have_rules():
    for name in (
        "CONCURRENT_REQUESTS",
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        "CONCURRENT_ITEMS",
        "JOBDIR",
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE",
        "SCHEDULER",
        "DUPEFILTER_CLASS",
        "DOWNLOAD_DELAY",
        "DOWNLOAD_TIMEOUT",
        "RETRY_TIMES",
        "AUTOTHROTTLE_MAX_DELAY",
        "LOG_LEVEL",
        "FEEDS",
    ):
        assert name in RULES


def _file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return str(path)


# (setting, value; "{file}" is a regular file under tmp_path, the one line expected)
BAD = [
    (
        "MARKDOWN_DATE_FORMAT",
        "foo",
        "MARKDOWN_DATE_FORMAT must be one of gmt, iso, local, got 'foo'",
    ),
    (
        "MARKDOWN_BODY_FORMAT",
        "pdf",
        "MARKDOWN_BODY_FORMAT must be one of html, markdown, got 'pdf'",
    ),
    (
        "MARKDOWN_TIMEZONE",
        "Mars/Olympus",
        "MARKDOWN_TIMEZONE must be an IANA time zone name such as Europe/London, got 'Mars/Olympus'",
    ),
    (
        "MARKDOWN_EXTRA_KEYS",
        "tags,layout",
        "MARKDOWN_EXTRA_KEYS may list only tags, source_url, editor, got 'layout'",
    ),
    ("MARKDOWN_COMMENTS", "maybe", "MARKDOWN_COMMENTS must be True or False (or 1/0), got 'maybe'"),
    ("CONCURRENT_REQUESTS", "abc", "CONCURRENT_REQUESTS must be an integer >= 1, got 'abc'"),
    ("CONCURRENT_REQUESTS", "0", "CONCURRENT_REQUESTS must be an integer >= 1, got '0'"),
    ("SINA_WORKER_PROCESSES", "abc", "SINA_WORKER_PROCESSES must be an integer >= 0, got 'abc'"),
    ("SINA_WORKER_PROCESSES", "-1", "SINA_WORKER_PROCESSES must be an integer >= 0, got '-1'"),
    ("DOWNLOAD_DELAY", "-1", "DOWNLOAD_DELAY must be a number >= 0, got '-1'"),
    ("DOWNLOAD_TIMEOUT", "nan", "DOWNLOAD_TIMEOUT must be a number > 0, got 'nan'"),
    ("CRAWL_FAILURE_RATIO", "1.5", "CRAWL_FAILURE_RATIO must be a number from 0 to 1, got '1.5'"),
    ("RETRY_TIMES", "three", "RETRY_TIMES must be an integer >= 0, got 'three'"),
    (
        "RETRY_HTTP_CODES",
        "500,bad",
        "RETRY_HTTP_CODES must be a comma-separated list of integers, got '500,bad'",
    ),
    (
        "LOG_LEVEL",
        "LOUD",
        "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
    ),
    (
        "CRAWL_STATE_CLASS",
        "no.such.Class",
        (
            "CRAWL_STATE_CLASS must be the import path of a class, got 'no.such.Class' "
            "(ModuleNotFoundError: No module named 'no')"
        ),
    ),
    (
        "CRAWL_STATE_DIR",
        "{file}",
        "CRAWL_STATE_DIR must be a folder, got '{file}', which is a file",
    ),
    (
        "CRAWL_STATE_DIR",
        "{file}/state",
        "CRAWL_STATE_DIR must be a folder, got '{file}/state', which is under {file}, a file",
    ),
    ("CRAWL_STATE_DIR", "", "CRAWL_STATE_DIR must be a folder path, got an empty value"),
    (
        "MARKDOWN_POSTS_DIR",
        "{file}",
        "MARKDOWN_POSTS_DIR must be a folder, got '{file}', which is a file",
    ),
    (
        "SINA_ROLL_API_URL",
        "notaurl",
        "SINA_ROLL_API_URL must be an http:// or https:// URL, got 'notaurl'",
    ),
    (
        "SINA_ROLL_API_URL",
        "http://example.com:99999/api",
        "SINA_ROLL_API_URL must be an http:// or https:// URL, got 'http://example.com:99999/api'",
    ),
    (
        "REDIS_URL",
        "http://:secret@redis-host:6379/0",
        "REDIS_URL must be empty or a redis://, rediss:// or unix:// URL, got one starting 'http://'",
    ),
    ("SINA_REDIS_KEY_PREFIX", "", "SINA_REDIS_KEY_PREFIX must not be empty, got ''"),
    (
        "FEED_EXPORT_ENCODING",
        "klingon",
        "FEED_EXPORT_ENCODING must name a text encoding such as utf-8, got 'klingon'",
    ),
    (
        "FEED_EXPORT_ENCODING",
        "rot13",
        "FEED_EXPORT_ENCODING must name a text encoding such as utf-8, got 'rot13'",
    ),
    (
        "FEEDS",
        '{"out.jsonl": {"format": "jsonlines", "encoding": "base64"}}',
        "FEEDS: the export out.jsonl must name a text encoding such as utf-8, got 'base64'",
    ),
    (
        "CRAWL_STATE_CLASS",
        "os.path",
        "CRAWL_STATE_CLASS must be the import path of a class, got 'os.path' (a module)",
    ),
    ("JOBDIR", "{file}", "JOBDIR must be a folder, got '{file}', which is a file"),
    ("JOBDIR", " ", "JOBDIR must be a folder path, got ' '"),
    (
        "MARKDOWN_POSTS_DIR",
        "~/blog/source/_posts",
        (
            "MARKDOWN_POSTS_DIR must be a folder path without a leading ~ (the crawl would make a "
            "folder named ~), got '~/blog/source/_posts'"
        ),
    ),
    (
        "CRAWL_STATE_DIR",
        "~nosuchuser/state",
        (
            "CRAWL_STATE_DIR must be a folder path without a leading ~ (the crawl would make a "
            "folder named ~), got '~nosuchuser/state'"
        ),
    ),
    (
        "LOG_FILE",
        "~nosuchuser/crawl.log",
        (
            "LOG_FILE must be a file path without a leading ~ (the crawl would make a "
            "folder named ~), got '~nosuchuser/crawl.log'"
        ),
    ),
    (
        "REDIS_URL",
        "redis://[::1:6379/0",
        "REDIS_URL must be empty or a redis://, rediss:// or unix:// URL, got one that does not parse",
    ),
    (
        "FEED_EXPORT_ENCODING",
        "utf\x00",
        "FEED_EXPORT_ENCODING must name a text encoding such as utf-8, got 'utf\\x00'",
    ),
    ("CRAWL_STATE_DIR", "  ", "CRAWL_STATE_DIR must be a folder path, got '  '"),
    ("MARKDOWN_POSTS_DIR", " ", "MARKDOWN_POSTS_DIR must be a folder path, got ' '"),
    (
        "MARKDOWN_IMAGES_STORE",
        "gs://bucket/images",
        (
            "MARKDOWN_IMAGES_STORE: a gs:// store needs the google-cloud-storage package "
            "(pip install google-cloud-storage), got 'gs://bucket/images'"
        ),
    ),
    (
        "MARKDOWN_IMAGES_STORE",
        "webdav://host/images",
        (
            "MARKDOWN_IMAGES_STORE must be a folder or an s3://, gs://, ftp:// or file:// store, "
            "got 'webdav://host/images'"
        ),
    ),
    ("CRAWL_LOCK_FILE", " ", "CRAWL_LOCK_FILE must be a file path, got ' '"),
    (
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE",
        "big",
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE must be an integer >= 1, got 'big'",
    ),
    ("RETRY_BACKOFF_START", "soon", "RETRY_BACKOFF_START must be a number >= 0, got 'soon'"),
]


@pytest.mark.parametrize(("name", "value", "line"), BAD)
def test_a_bad_value_gets_one_line_naming_setting_value_and_rule(tmp_path, name, value, line):
    file = _file(tmp_path)
    settings = project_settings(**{name: value.replace("{file}", file)})
    with pytest.raises(SettingError) as caught:
        check_settings(settings)
    assert str(caught.value) == line.replace("{file}", file)
    assert "secret" not in str(caught.value)


GOOD = [
    ("MARKDOWN_DATE_FORMAT", "local"),
    ("MARKDOWN_TIMEZONE", "Europe/London"),
    ("MARKDOWN_EXTRA_KEYS", "tags,source_url"),
    ("MARKDOWN_POSTS_DIR", ""),  # empty: no posts
    ("MARKDOWN_COMMENTS", "true"),
    ("CONCURRENT_REQUESTS", "32"),
    ("SINA_WORKER_PROCESSES", "0"),
    ("LOG_LEVEL", "DEBUG"),
    ("REDIS_URL", "redis://:secret@redis-host:6379/0"),
    ("REDIS_URL", ""),
    ("CRAWL_STATE_CLASS", "crawler.distributed.redis_state.RedisArticleState"),
    ("SINA_RETRY_BACKOFF_START", "0"),
    ("FEEDS", '{"out.jsonl": {"format": "jsonlines"}}'),
    ("SCHEDULER", "crawler.distributed.scheduler.RedisScheduler"),
]


@pytest.mark.parametrize(("name", "value"), GOOD)
def test_a_good_value_passes(name, value):
    check_settings(project_settings(**{name: value}))


def test_a_folder_that_does_not_exist_yet_passes_and_is_not_created(tmp_path):
    target = tmp_path / "new" / "state"
    check_settings(project_settings(CRAWL_STATE_DIR=str(target), MARKDOWN_POSTS_DIR=str(target)))
    assert list(tmp_path.iterdir()) == []


def test_the_old_backoff_name_is_only_checked_when_given():
    assert "RETRY_BACKOFF_START" not in dir(project)
    check_settings(project_settings())  # not set: nothing to check
