"""The add-on that switches the `sina` crawl to distributed mode when REDIS_URL is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.misc import load_object

if TYPE_CHECKING:
    from scrapy.settings import Settings

SCHEDULER_PATH = "crawler.distributed.scheduler.RedisScheduler"
DUPEFILTER_PATH = "crawler.distributed.scheduler.RedisDupeFilter"
QUEUE_PATH = "scrapy_redis.queue.PriorityQueue"
IDLE_CLOSER_PATH = "crawler.distributed.idle.RedisIdleCloser"
STATE_PATH = "crawler.distributed.redis_state.RedisArticleState"


def redis_keys(prefix: str) -> dict[str, str]:
    """Name every Redis key one crawl uses, all under `prefix`.

    scrapy-redis expands `%(spider)s` in its key settings, so a literal `%` is doubled.

    >>> redis_keys("sina")["queue"], redis_keys("sina")["inflight"]
    ('sina:requests', 'sina:inflight:')
    >>> redis_keys("50%")["queue_setting"]
    '50%%:requests'
    """
    return {
        "queue": f"{prefix}:requests",
        "queue_setting": f"{prefix.replace('%', '%%')}:requests",
        "dupefilter": f"{prefix}:dupefilter",
        "dupefilter_setting": f"{prefix.replace('%', '%%')}:dupefilter",
        "inflight": f"{prefix}:inflight:",
        "worker": f"{prefix}:worker:",
        "saved": f"{prefix}:saved",
    }


class DistributedAddon:
    """Point the scheduler, duplicate filter, idle exit and article state at Redis.

    Enabled in ADDONS permanently; it does nothing unless REDIS_URL is non-empty, so turning
    distributed mode on is `REDIS_URL=redis://host:6379/0 scrapy crawl sina`.
    """

    def update_settings(self, settings: Settings) -> None:
        """Apply distributed-mode settings when REDIS_URL is set; leave everything alone otherwise."""
        if not settings.get("REDIS_URL"):
            return
        keys = redis_keys(settings["SINA_REDIS_KEY_PREFIX"])
        # "project" priority: this mode must replace the project's own choices (the SQLite
        # state class, for one), while `-s NAME=VALUE` on the command line still wins.
        for name, value in {
            "SCHEDULER": SCHEDULER_PATH,
            "DUPEFILTER_CLASS": DUPEFILTER_PATH,
            "SCHEDULER_QUEUE_CLASS": QUEUE_PATH,
            "SCHEDULER_QUEUE_KEY": keys["queue_setting"],
            "SCHEDULER_DUPEFILTER_KEY": keys["dupefilter_setting"],
            # The queue outlives any one worker: a killed or restarted worker loses nothing.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
            # 0.9.1 implements this as a blocking BRPOP in the reactor thread (and ignores it
            # for the priority queue); RedisIdleCloser does the idle exit instead.
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
            "CRAWL_STATE_CLASS": STATE_PATH,
        }.items():
            settings.set(name, value, priority="project")
        settings.set_in_component_priority_dict("EXTENSIONS", load_object(IDLE_CLOSER_PATH), 500)
