"""The distributed-mode add-on: what REDIS_URL switches on, and that nothing changes without it.

No Redis server is needed here: the add-on only rewrites settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from scrapy import Spider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.distributed.addon import DistributedAddon

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_without_redis_url_nothing_changes_and_scrapy_redis_is_never_imported():
    code = textwrap.dedent(
        """
        import sys
        from scrapy.utils.reactor import install_reactor
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from scrapy.utils.project import get_project_settings
        from scrapy.utils.test import get_crawler
        from spiders.sina import SinaSpider
        crawler = get_crawler(SinaSpider, get_project_settings().copy_to_dict())
        s = crawler.settings
        print(s["SCHEDULER"], s["DUPEFILTER_CLASS"], s.get("CRAWL_STATE_CLASS"),
              "scrapy_redis" in sys.modules, "redis" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    scheduler, dupefilter, state, scrapy_redis_loaded, redis_loaded = result.stdout.split()
    assert scheduler == "scrapy.core.scheduler.Scheduler"
    assert dupefilter == "crawler.storage.seen_keys.SeenKeysDupeFilter"
    assert state != "crawler.distributed.redis_state.RedisArticleState"
    assert (scrapy_redis_loaded, redis_loaded) == ("False", "False")


def test_redis_url_switches_scheduler_dupefilter_state_and_idle_exit():
    crawler = get_crawler(
        Spider,
        {
            "ADDONS": {DistributedAddon: 0},
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "SINA_REDIS_KEY_PREFIX": "jobA",
        },
    )
    s = crawler.settings
    assert s["SCHEDULER"] == "crawler.distributed.scheduler.RedisScheduler"
    assert s["DUPEFILTER_CLASS"] == "crawler.distributed.scheduler.RedisDupeFilter"
    assert s["SCHEDULER_QUEUE_CLASS"] == "scrapy_redis.queue.PriorityQueue"
    assert s["SCHEDULER_QUEUE_KEY"] == "jobA:requests"
    assert s["SCHEDULER_DUPEFILTER_KEY"] == "jobA:dupefilter"
    assert s.getbool("SCHEDULER_PERSIST") is True
    assert s.getint("SCHEDULER_IDLE_BEFORE_CLOSE") == 0
    assert s["CRAWL_STATE_CLASS"] == "crawler.distributed.redis_state.RedisArticleState"
    from crawler.distributed.idle import RedisIdleCloser

    assert s.getdict("EXTENSIONS")[RedisIdleCloser] == 500


def test_command_line_settings_beat_the_addon():
    settings = Settings(
        {
            "REDIS_URL": "redis://r:6379/0",
            "SINA_REDIS_KEY_PREFIX": "sina",
            "CRAWL_STATE_CLASS": "x.Sqlite",
        }
    )
    settings.set("SCHEDULER_PERSIST", False, priority="cmdline")
    DistributedAddon().update_settings(settings)
    assert settings.getbool("SCHEDULER_PERSIST") is False
    # the project's own state class is replaced: the state must be shared
    assert settings["CRAWL_STATE_CLASS"] == "crawler.distributed.redis_state.RedisArticleState"
