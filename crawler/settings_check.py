"""Every setting a crawl reads, checked before the crawler starts: one line for a bad value.

`RULES` maps each setting to its check. The project's own settings (crawler/settings.py) each
have one, and so do the common Scrapy settings the docs name; a new setting gets its rule
here, or a place in UNCHECKED if it is wiring (tests/test_settings_check.py fails otherwise).
A check reads the value as the crawl will (`getint`, `getbool`, ...) and creates nothing: the
`crawl` command (crawler/commands/crawl.py) runs them before any folder, lock or state file
exists.
"""

from __future__ import annotations

import codecs
import importlib.util
import logging
import math
from collections.abc import Callable, Collection
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scrapy.pipelines.files import FilesPipeline
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

from crawler.site.posts import BODY_FORMATS, DATE_FORMATS, EXTRA_KEYS

Rule = Callable[[BaseSettings, str], None]


class SettingError(ValueError):
    """A setting that cannot be used; the message is one line naming it, its value, the rule."""


def check_settings(settings: BaseSettings) -> None:
    """Check every setting that has a rule; raise SettingError for the first bad one."""
    for name, rule in RULES.items():
        rule(settings, name)


def _shown(value: object) -> str:
    return repr(value if isinstance(value, str) else str(value))


# --- rules --------------------------------------------------------------------------------


def integer(minimum: int) -> Rule:
    """Require an integer >= `minimum`.

    >>> integer(1)(BaseSettings({"N": "abc"}), "N")
    Traceback (most recent call last):
    ...
    crawler.settings_check.SettingError: N must be an integer >= 1, got 'abc'
    """

    def check(settings: BaseSettings, name: str) -> None:
        try:
            value = settings.getint(name)
        except (TypeError, ValueError):
            value = None
        if value is None or value < minimum:
            raise SettingError(
                f"{name} must be an integer >= {minimum}, got {_shown(settings.get(name))}"
            )

    return check


def number(minimum: float, *, maximum: float | None = None, above: bool = False) -> Rule:
    """Require a number >= `minimum` (> with `above`), and <= `maximum` when given.

    >>> number(0, above=True)(BaseSettings({"T": "0"}), "T")
    Traceback (most recent call last):
    ...
    crawler.settings_check.SettingError: T must be a number > 0, got '0'
    """
    allowed = f"> {minimum:g}" if above else f">= {minimum:g}"
    if maximum is not None:
        allowed = f"from {minimum:g} to {maximum:g}"

    def check(settings: BaseSettings, name: str) -> None:
        try:
            value = settings.getfloat(name)
        except (TypeError, ValueError):
            value = None
        ok = value is not None and not math.isnan(value)
        if ok and (value < minimum or (above and value == minimum)):
            ok = False
        if ok and maximum is not None and value > maximum:
            ok = False
        if not ok:
            raise SettingError(
                f"{name} must be a number {allowed}, got {_shown(settings.get(name))}"
            )

    return check


def boolean(settings: BaseSettings, name: str) -> None:
    """Require True or False (also 1/0, true/false)."""
    try:
        settings.getbool(name)
    except (TypeError, ValueError):
        raise SettingError(
            f"{name} must be True or False (or 1/0), got {_shown(settings.get(name))}"
        ) from None


def text(settings: BaseSettings, name: str) -> None:
    """Require a string, empty included."""
    if not isinstance(settings.get(name), str):
        raise SettingError(f"{name} must be text, got {_shown(settings.get(name))}")


def non_empty(settings: BaseSettings, name: str) -> None:
    """Require a string that is not empty (nor only spaces)."""
    value = settings.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SettingError(f"{name} must not be empty, got {_shown(value)}")


def one_of(choices: Collection[str]) -> Rule:
    """Require one of `choices`.

    >>> one_of(("gmt", "iso"))(BaseSettings({"F": "foo"}), "F")
    Traceback (most recent call last):
    ...
    crawler.settings_check.SettingError: F must be one of gmt, iso, got 'foo'
    """

    def check(settings: BaseSettings, name: str) -> None:
        if settings.get(name) not in choices:
            raise SettingError(
                f"{name} must be one of {', '.join(choices)}, got {_shown(settings.get(name))}"
            )

    return check


def subset_of(choices: Collection[str]) -> Rule:
    """Require a comma-separated list (or a list) drawn from `choices`; empty is fine."""

    def check(settings: BaseSettings, name: str) -> None:
        unknown = [v for v in settings.getlist(name) if v not in choices]
        if unknown:
            raise SettingError(
                f"{name} may list only {', '.join(choices)}, got {_shown(', '.join(unknown))}"
            )

    return check


def text_list(settings: BaseSettings, name: str) -> None:
    """Require a list of strings, or one comma-separated string; empty is fine."""
    try:
        values = settings.getlist(name)
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, str) for v in values):
        raise SettingError(
            f"{name} must be a comma-separated list, got {_shown(settings.get(name))}"
        )


def encoding(settings: BaseSettings, name: str) -> None:
    """Require the name of a text encoding Python knows (utf-8, gb18030, ...); unset is fine."""
    value = settings.get(name)
    if value is None:
        return
    if not _is_text_encoding(value):
        raise SettingError(
            f"{name} must name a text encoding such as utf-8, got {_shown(value)}"
        ) from None


def _is_text_encoding(value: object) -> bool:
    # codecs.lookup also knows bytes-to-bytes and str-to-str codecs (rot13, base64, zlib);
    # the export calls str.encode, which refuses those on every item.
    try:
        codecs.lookup(value)  # type: ignore[arg-type]
        "".encode(value)  # type: ignore[arg-type]
    except (LookupError, TypeError, ValueError):  # ValueError: a NUL or a lone surrogate
        return False
    return True


def integer_list(settings: BaseSettings, name: str) -> None:
    """Require a list of integers (HTTP status codes)."""
    try:
        [int(v) for v in settings.getlist(name)]
    except (TypeError, ValueError):
        raise SettingError(
            f"{name} must be a comma-separated list of integers, got {_shown(settings.get(name))}"
        ) from None


def mapping(settings: BaseSettings, name: str) -> None:
    """Require a dict, or its JSON text on the command line."""
    try:
        value = settings.getdict(name)
    except (TypeError, ValueError):
        raise SettingError(
            f"{name} must be a dict (JSON on the command line), got {_shown(settings.get(name))}"
        ) from None
    if name != "FEEDS":
        return
    for uri, options in value.items():
        codec = options.get("encoding") if isinstance(options, dict) else None
        if codec is not None and not _is_text_encoding(codec):
            raise SettingError(
                f"{name}: the export {uri} must name a text encoding such as utf-8, "
                f"got {_shown(codec)}"
            )


def time_zone(settings: BaseSettings, name: str) -> None:
    """Require an IANA time zone name."""
    value = settings.get(name)
    try:
        ZoneInfo(value)
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        raise SettingError(
            f"{name} must be an IANA time zone name such as Europe/London, got {_shown(value)}"
        ) from None


def log_level(settings: BaseSettings, name: str) -> None:
    """Require a logging level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or number."""
    value = settings.get(name)
    names = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    if isinstance(value, int) or value in logging.getLevelNamesMapping():
        return
    raise SettingError(f"{name} must be one of {', '.join(names)}, got {_shown(value)}")


def http_url(settings: BaseSettings, name: str) -> None:
    """Require an absolute http:// or https:// URL with a host.

    >>> http_url(BaseSettings({"U": "notaurl"}), "U")
    Traceback (most recent call last):
    ...
    crawler.settings_check.SettingError: U must be an http:// or https:// URL, got 'notaurl'
    """
    value = settings.get(name)
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        ok = parts is not None and parts.scheme in {"http", "https"} and bool(parts.hostname)
        if ok:
            parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        ok = False
    if not ok:
        raise SettingError(f"{name} must be an http:// or https:// URL, got {_shown(value)}")


REDIS_SCHEMES = ("redis", "rediss", "unix")


def redis_url(settings: BaseSettings, name: str) -> None:
    """Require empty (one machine) or a redis://, rediss:// or unix:// URL; never show the URL.

    A Redis URL may carry a password, so only its scheme appears in the message.

    >>> redis_url(BaseSettings({"R": "http://:secret@h:6379"}), "R")
    Traceback (most recent call last):
    ...
    crawler.settings_check.SettingError: R must be empty or a redis://, rediss:// or unix:// URL, got one starting 'http://'
    """
    value = settings.get(name)
    if value in ("", None):
        return
    try:
        scheme = urlsplit(value).scheme if isinstance(value, str) else ""
    except ValueError:  # 'redis://[::1:6379': an unclosed IPv6 bracket
        raise SettingError(
            f"{name} must be empty or a redis://, rediss:// or unix:// URL, "
            "got one that does not parse"
        ) from None
    if scheme not in REDIS_SCHEMES:
        got = f"one starting {scheme + '://'!r}" if scheme else "a value with no scheme"
        raise SettingError(
            f"{name} must be empty or a redis://, rediss:// or unix:// URL, got {got}"
        )


# The FilesPipeline stores that import a library only when used: (module, package to install).
_STORE_LIBRARIES = {
    "s3": ("botocore", "botocore"),
    "gs": ("google.cloud.storage", "google-cloud-storage"),
}


def files_store(settings: BaseSettings, name: str) -> None:
    """Require a folder or a store URI that Scrapy's FilesPipeline can write to, here.

    >>> files_store(BaseSettings({"S": "webdav://host/images"}), "S")
    Traceback (most recent call last):
    ...
    crawler.settings_check.SettingError: S must be a folder or an s3://, gs://, ftp:// or file:// store, got 'webdav://host/images'
    """
    non_empty(settings, name)
    value = settings.get(name).strip()
    scheme = urlsplit(value).scheme.lower() if "://" in value else ""
    if scheme not in FilesPipeline.STORE_SCHEMES:  # "" is a folder
        raise SettingError(
            f"{name} must be a folder or an s3://, gs://, ftp:// or file:// store, "
            f"got {_shown(value)}"
        )
    module, package = _STORE_LIBRARIES.get(scheme, (None, None))
    if module is not None and not _importable_module(module):
        raise SettingError(
            f"{name}: a {scheme}:// store needs the {package} package "
            f"(pip install {package}), got {_shown(value)}"
        )


def _importable_module(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def importable(settings: BaseSettings, name: str) -> None:
    """Require the import path of an object (a class), which must import."""
    value = settings.get(name)
    try:
        found = load_object(value)
    except (ImportError, AttributeError, NameError, TypeError, ValueError) as exc:
        raise SettingError(
            f"{name} must be the import path of a class, got {_shown(value)} "
            f"({type(exc).__name__}: {exc})".replace("\n", " ")
        ) from None
    if not isinstance(found, type):
        raise SettingError(
            f"{name} must be the import path of a class, got {_shown(value)} "
            f"(a {type(found).__name__})"
        )


def _expanded(settings: BaseSettings, name: str, kind: str) -> Path:
    value = settings.get(name)
    # Only a shell expands ~; a quoted -s value (crontab, systemd, Scrapyd) reaches the crawl
    # as is, and the folder it makes is ./~ while the check would have looked at $HOME.
    if str(value).startswith("~"):
        raise SettingError(
            f"{name} must be a {kind} path without a leading ~ (the crawl would make a "
            f"folder named ~), got {_shown(value)}"
        )
    return Path(str(value)).absolute()


def nearest_existing(path: Path) -> Path:
    """Return `path` or its nearest ancestor that exists (what a later mkdir builds on).

    >>> nearest_existing(Path("/etc/no/such/folder"))
    PosixPath('/etc')
    """
    return next(folder for folder in (path, *path.parents) if folder.exists())


def _folder(settings: BaseSettings, name: str, *, allow_empty: bool) -> None:
    value = settings.get(name)
    if value in ("", None):
        if allow_empty:
            return
        raise SettingError(f"{name} must be a folder path, got an empty value")
    if not str(value).strip():  # a folder named ' ' in the working folder is never meant
        raise SettingError(f"{name} must be a folder path, got {_shown(value)}")
    path = _expanded(settings, name, "folder")
    # The folder is made on first use; what exists of its path must be folders.
    existing = nearest_existing(path)
    if not existing.is_dir():
        where = "is a file" if existing == path else f"is under {existing}, a file"
        raise SettingError(f"{name} must be a folder, got {_shown(value)}, which {where}")


def folder(settings: BaseSettings, name: str) -> None:
    """Require a folder path (made on first use); never empty, never a regular file."""
    _folder(settings, name, allow_empty=False)


def folder_or_empty(settings: BaseSettings, name: str) -> None:
    """Require a folder path, or empty to turn the feature off."""
    _folder(settings, name, allow_empty=True)


def file_or_empty(settings: BaseSettings, name: str) -> None:
    """Require empty, or a file path whose folder is (or can become) a folder."""
    value = settings.get(name)
    if value in ("", None):
        return
    if not str(value).strip():
        raise SettingError(f"{name} must be a file path, got {_shown(value)}")
    path = _expanded(settings, name, "file")
    if path.is_dir():
        raise SettingError(f"{name} must be a file path, got {_shown(value)}, which is a folder")
    existing = nearest_existing(path.parent)
    if not existing.is_dir():
        raise SettingError(
            f"{name} must be a file path, got {_shown(value)}, which is under {existing}, a file"
        )


def when_set(rule: Rule) -> Rule:
    """Apply `rule` only when the setting is given (a deprecated or optional name)."""

    def check(settings: BaseSettings, name: str) -> None:
        if settings.getpriority(name) is not None:
            rule(settings, name)

    return check


# Settings of crawler/settings.py with no rule: Scrapy's component wiring and fixed project
# facts, which a user does not tune with -s (Scrapy reports a bad import path itself).
UNCHECKED = frozenset(
    {
        "BOT_NAME",
        "SPIDER_MODULES",
        "NEWSPIDER_MODULE",
        "OUTPUT_DIR",  # not a setting Scrapy reads: the folder the output defaults share
        "DEFAULT_REQUEST_HEADERS",
        "DOWNLOAD_HANDLERS",
        "TWISTED_REACTOR",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION",
        "ITEM_PIPELINES",
        "COMMANDS_MODULE",
        "EXTENSIONS",
        "DOWNLOADER_MIDDLEWARES",
        "ADDONS",
        "FEED_STORAGES",
        "LOG_FORMATTER",
        "SCHEDULER_MEMORY_QUEUE",
        "SCHEDULER_DISK_QUEUE",
        "DUPEFILTER_CLASS",
    }
)

RULES: dict[str, Rule] = {
    # --- the project's settings (crawler/settings.py) ---
    "CLEANING_ENABLED": boolean,
    "MARKDOWN_POSTS_DIR": folder_or_empty,  # empty: no posts
    "MARKDOWN_CATEGORY_ROOT": text,
    "MARKDOWN_SITE_NAME": non_empty,
    "MARKDOWN_CHANNEL_SEPARATOR": text,
    "MARKDOWN_DEFAULT_IMAGE": text,
    "MARKDOWN_COMMENTS": boolean,
    "MARKDOWN_DATE_FORMAT": one_of(DATE_FORMATS),
    "MARKDOWN_TIMEZONE": time_zone,
    "MARKDOWN_BODY_FORMAT": one_of(BODY_FORMATS),
    "MARKDOWN_EXTRA_KEYS": subset_of(EXTRA_KEYS),
    "MARKDOWN_TITLE_SLUG": boolean,
    "MARKDOWN_LOCAL_IMAGES": boolean,
    "MARKDOWN_IMAGES_STORE": files_store,  # a FilesPipeline store: a folder or a store URI
    "MARKDOWN_IMAGES_URL": text,
    "CRAWL_STATE_DIR": folder,
    "CRAWL_STATE_CLASS": importable,
    "CRAWL_LOCK_ENABLED": boolean,
    "CRAWL_LOCK_FILE": file_or_empty,  # empty: <CRAWL_STATE_DIR>/crawl.lock
    "CRAWL_HEALTH_ENABLED": boolean,
    "CRAWL_FAILURE_RATIO": number(0, maximum=1),
    "SINA_ROLL_API_URL": http_url,
    "SINA_ROLL_PAGE_SIZE": integer(1),
    "SINA_WORKER_PROCESSES": integer(0),
    "SINA_RETRY_BACKOFF_START": number(0),
    "RETRY_GIVE_UP_LOG_LEVEL": log_level,
    "SINA_EXPORT_FSYNC": boolean,
    "SINA_PAGE_FAILURE_RUNS": integer(0),  # 0: never park
    "RETRY_BACKOFF_START": when_set(number(0)),  # the deprecated name of the one above
    "SINA_ALLOWED_DOMAINS": text_list,  # empty: any host
    "SLOWDOWN_HTTP_CODES": integer_list,
    "SLOWDOWN_RETRY_TIMES": integer(0),
    "SLOWDOWN_START_DELAY": number(0),
    "REDIS_URL": redis_url,
    "SINA_REDIS_KEY_PREFIX": non_empty,
    "SINA_REDIS_IDLE_TIMEOUT": number(0),
    "SINA_REDIS_WORKER_TTL": integer(1),
    "SINA_REDIS_WORKER_ID": text,
    "SINA_REDIS_OUTAGE_TIMEOUT": number(0),
    "SINA_DISCOVERY_BACKLOG": integer(0),  # empty: <hostname>-<pid>-<random>
    # --- Scrapy's, as the docs name them ---
    "CONCURRENT_REQUESTS": integer(1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": integer(1),
    "CONCURRENT_ITEMS": integer(1),
    "DOWNLOAD_DELAY": number(0),
    "DOWNLOAD_TIMEOUT": number(0, above=True),
    "DOWNLOAD_WARNSIZE": integer(0),
    "DOWNLOAD_MAXSIZE": integer(0),
    "RETRY_ENABLED": boolean,
    "RETRY_TIMES": integer(0),
    "RETRY_HTTP_CODES": integer_list,
    "AUTOTHROTTLE_ENABLED": boolean,
    "AUTOTHROTTLE_START_DELAY": number(0),
    "AUTOTHROTTLE_MAX_DELAY": number(0),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": number(0, above=True),
    "ROBOTSTXT_OBEY": boolean,
    "COOKIES_ENABLED": boolean,
    "USER_AGENT": non_empty,
    "LOG_LEVEL": log_level,
    "LOG_FILE": when_set(file_or_empty),
    "LOG_ENABLED": boolean,
    "TELNETCONSOLE_ENABLED": boolean,
    "REMOTE_CONTROL_ENABLED": boolean,
    "WARN_ON_GENERATOR_RETURN_VALUE": boolean,
    "FEEDS": mapping,
    "FEED_EXPORT_ENCODING": encoding,
    "CLOSESPIDER_TIMEOUT": number(0),
    "CLOSESPIDER_ITEMCOUNT": integer(0),
    "CLOSESPIDER_PAGECOUNT": integer(0),
    "CLOSESPIDER_ERRORCOUNT": integer(0),
    "DEPTH_LIMIT": integer(0),
    "JOBDIR": folder_or_empty,  # unset: no pause and resume
    "SCRAPER_SLOT_MAX_ACTIVE_SIZE": integer(1),
    "SCHEDULER": importable,
    "DUPEFILTER_CLASS": importable,
    "HTTPCACHE_ENABLED": boolean,
}
