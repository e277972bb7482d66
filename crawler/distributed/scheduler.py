"""scrapy-redis 0.9.1 scheduler and duplicate filter adapted to Scrapy 2.19, with in-flight leases.

What 0.9.1 gets wrong on Scrapy 2.19, and the only things changed here:

- `Scheduler.enqueue_request` / `next_request` pass `spider=` to `StatsCollector.inc_value`,
  and `Scheduler.open` calls `Spider.log()` when it resumes a non-empty queue; Scrapy 2.19
  deprecates both (errors under our pytest settings): the three methods are restated.
- A popped request lived only in the worker's memory, so `kill -9` lost it while the rest of
  the queue survived. Here a Lua script moves it from the queue into `<prefix>:inflight:<worker>`
  in one step; it leaves that set when Scrapy has finished with it (downloaded, parsed, items
  through the pipelines). Each worker renews a lease key `<prefix>:worker:<worker>`; the
  in-flight requests of a worker whose lease ran out go back into the queue (at least once).
- `SCHEDULER_IDLE_BEFORE_CLOSE` blocks the reactor in BRPOP and is ignored by the priority
  queue; the add-on keeps it at 0 and `crawler.distributed.idle.RedisIdleCloser` does the exit.
  Instead of blocking, the scheduler looks at the queue every second and wakes an idle engine.
- A Redis that stops answering mid-crawl raised from every scheduler call (a traceback every
  few seconds, requests lost). Here each call is guarded: new requests wait in memory, the
  worker retries with backoff (crawler.distributed.outage) and pushes them when Redis is back;
  after SINA_REDIS_OUTAGE_TIMEOUT it closes with reason `redis_unavailable` (exit 1).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import TYPE_CHECKING

from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.addon import redis_keys
from crawler.distributed.connection import redis_address
from crawler.distributed.outage import REDIS_DOWN, RedisOutage
from crawler.scrapy_internals import requests_in_progress, wake_engine

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# KEYS: queue, inflight, lease. ARGV: worker id, lease seconds. Returns the popped member or nil.
_POP_SCRIPT = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('ZADD', KEYS[2], item[2], item[1])
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[2])
return item[1]
"""

# KEYS: lease, inflight, queue. Requeues a dead worker's in-flight requests; returns how many.
_REQUEUE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local n = redis.call('ZCARD', KEYS[2])
if n > 0 then
  redis.call('ZUNIONSTORE', KEYS[3], 2, KEYS[3], KEYS[2], 'AGGREGATE', 'MIN')
end
redis.call('DEL', KEYS[2])
return n
"""


# Seconds between looks at the shared queue while this worker may be idle.
WAKE_INTERVAL = 1.0


def default_worker_id() -> str:
    """Name this worker uniquely among all machines: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class RedisDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared duplicate filter, counting `dupefilter/filtered` like Scrapy's."""

    def log(self, request: Request, spider: Spider) -> None:
        """Log the filtered request and count it (0.9.1 only logs)."""
        super().log(request, spider)
        spider.crawler.stats.inc_value("dupefilter/filtered")


class RedisScheduler(Scheduler):
    """scrapy-redis Scheduler on a shared priority queue, with leased in-flight requests."""

    crawler: Crawler
    worker_id: str
    lease_seconds: int

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from settings like 0.9.1, then add the worker identity and lease."""
        instance = cls.from_settings(crawler.settings)
        instance.stats = crawler.stats
        instance.crawler = crawler
        settings = crawler.settings
        instance.worker_id = settings.get("SINA_REDIS_WORKER_ID") or default_worker_id()
        instance.lease_seconds = max(2, settings.getint("SINA_REDIS_WORKER_TTL"))
        keys = redis_keys(settings["SINA_REDIS_KEY_PREFIX"])
        instance.inflight_prefix = keys["inflight"]
        instance.lease_prefix = keys["worker"]
        instance.outage = RedisOutage(
            redis_address(settings.get("REDIS_URL")),
            settings.getfloat("SINA_REDIS_OUTAGE_TIMEOUT"),
        )
        # Requests scheduled while Redis was away; pushed, in order, once it answers again.
        instance._held = []
        return instance

    @property
    def inflight_key(self) -> str:
        """This worker's set of popped, unfinished requests."""
        return f"{self.inflight_prefix}{self.worker_id}"

    @property
    def lease_key(self) -> str:
        """This worker's lease; while it exists, its in-flight requests are its own."""
        return f"{self.lease_prefix}{self.worker_id}"

    def open(self, spider: Spider) -> None:
        """Open the shared queue, take the lease and start renewing it."""
        # 0.9.1's open() differs only in announcing a resumed crawl with the deprecated
        # Spider.log(); it is restated here with the logger.
        self.spider = spider
        queue_cls = load_object(self.queue_cls)
        if not issubclass(queue_cls, PriorityQueue):
            raise TypeError(f"RedisScheduler needs a scrapy_redis PriorityQueue: {self.queue_cls}")
        self.queue = queue_cls(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        if pending := len(self.queue):
            logger.info("Resuming crawl (%d requests scheduled)", pending)
        self._pop = self.server.register_script(_POP_SCRIPT)
        self._requeue = self.server.register_script(_REQUEUE_SCRIPT)
        self._popped: dict[Request, bytes] = {}
        self._renew_lease()
        self._requeue_dead_workers()
        self._ticker = create_looping_call(self._tick)
        self._ticker.start(self.lease_seconds / 3, now=False)
        self._waker = create_looping_call(self._wake_engine)
        self._waker.start(WAKE_INTERVAL, now=False)
        logger.info(
            "Distributed worker %s on queue %s (lease %ss)",
            self.worker_id,
            self.queue.key,
            self.lease_seconds,
        )

    def close(self, reason: str) -> None:
        """Hand back anything still in flight, drop the lease, keep the shared queue."""
        for loop in (self._ticker, self._waker):
            if loop.running:
                loop.stop()
        try:
            self._flush_held()
            self._hand_back()
        except REDIS_DOWN:
            # In-flight requests stay in Redis under this worker's lease: when it runs out,
            # another worker requeues them. Held ones were never shared; the next discovery
            # lists their articles again (none is marked saved).
            logger.warning(
                "Redis at %s is unreachable at close: %d in-flight requests wait for their"
                " lease to run out, %d new requests are dropped",
                self.outage.address,
                len(self._popped),
                len(self._held),
            )
        super().close(reason)

    def _hand_back(self) -> None:
        self._settle()
        if self._popped:
            # A forced shutdown left requests unfinished: put them back for the others now
            # rather than after the lease runs out.
            self.server.zunionstore(
                self.queue.key, [self.queue.key, self.inflight_key], aggregate="MIN"
            )
            self.stats.inc_value("redis/requeued", len(self._popped))
            self._popped.clear()
        self.server.delete(self.inflight_key, self.lease_key)

    def enqueue_request(self, request: Request) -> bool:
        """Push unless the shared duplicate filter has seen it (no deprecated stats call).

        While Redis is away the request waits in memory (see `_flush_held`).
        """
        if self._held or not self.outage.ready():
            self._hold(request)
            return True
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except REDIS_DOWN as exc:
            self._redis_failed(exc)
            self._hold(request)
            return True
        self.outage.succeeded()
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        """Pop the best request into this worker's in-flight set, atomically."""
        if not self._redis_ready():
            return None
        try:
            self._settle()
            data = self._pop(
                keys=[self.queue.key, self.inflight_key, self.lease_key],
                args=[self.worker_id, self.lease_seconds],
            )
        except REDIS_DOWN as exc:
            self._redis_failed(exc)
            return None
        if not data:
            return None
        request = self.queue._decode_request(data)
        self._popped[request] = data
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def inflight_count(self) -> int:
        """Count requests popped but not finished by any worker, dead or alive."""
        return sum(
            self.server.zcard(key)
            for key in self.server.scan_iter(match=f"{_glob_escape(self.inflight_prefix)}*")
        )

    def has_pending_requests(self) -> bool:
        """Tell whether the shared queue (or this worker's held requests) has anything.

        While Redis is away the answer is yes: the worker waits for it rather than closing.
        """
        if self._held or self.outage.down:
            return True
        try:
            return len(self.queue) > 0
        except REDIS_DOWN as exc:
            self._redis_failed(exc)
            return True

    def crawl_is_drained(self) -> bool:
        """Tell whether no worker has anything queued or in flight (never while Redis is away)."""
        if not self._redis_ready():
            return False
        try:
            return len(self.queue) == 0 and self.inflight_count() == 0
        except REDIS_DOWN as exc:
            self._redis_failed(exc)
            return False

    def finish_crawl(self) -> None:
        """Forget the crawl's seen requests, so the next crawl fetches its start pages again."""
        self.df.clear()

    def _tick(self) -> None:
        if not self._redis_ready():
            return
        try:
            self._renew_lease()
            self._settle()
            self._requeue_dead_workers()
        except REDIS_DOWN as exc:
            self._redis_failed(exc)

    def _wake_engine(self) -> None:
        # An idle engine only asks the scheduler again at its 5 s heartbeat; requests other
        # workers push meanwhile would wait. Waking it is cheap (no-op when already due) and
        # lets an idle worker join within a second.
        # Also the outage's retry: a worker with nothing in flight finds Redis back here.
        if not self._redis_ready():
            return
        try:
            waiting = len(self.queue)
        except REDIS_DOWN as exc:
            self._redis_failed(exc)
            return
        if waiting:
            wake_engine(self.crawler)

    # --- Redis outages ------------------------------------------------------------------------
    def _hold(self, request: Request) -> None:
        self._held.append(request)
        self.stats.inc_value("redis/held")

    def _redis_ready(self) -> bool:
        """Tell whether to call Redis now; when it is back, push what was held meanwhile."""
        if not self.outage.ready():
            self._give_up_if_expired()
            return False
        if not self.outage.down and not self._held:
            return True
        try:
            self._flush_held()
            if self.outage.down:
                self._renew_lease()  # a restarted Redis may have lost it
        except REDIS_DOWN as exc:
            self._redis_failed(exc)
            return False
        self.outage.succeeded()
        return True

    def _flush_held(self) -> None:
        """Push the requests held during an outage (recorded in the duplicate filter too)."""
        while self._held:
            request = self._held[0]
            # Not filtered: whether the filter saw it before Redis went away is unknown, and
            # a duplicate fetch is better than a lost request.
            if not request.dont_filter:
                self.df.request_seen(request)
            self.queue.push(request)
            self._held.pop(0)
            self.stats.inc_value("scheduler/enqueued/redis")

    def _redis_failed(self, exc: BaseException) -> None:
        self.outage.failed(exc)
        self.stats.inc_value("redis/errors")
        self._give_up_if_expired()

    def _give_up_if_expired(self) -> None:
        if not self.outage.expired() or self.stats.get_value("redis/gave_up"):
            return
        logger.error(
            "Redis at %s has been unreachable for %ss (SINA_REDIS_OUTAGE_TIMEOUT); giving up",
            self.outage.address,
            self.outage.timeout,
        )
        self.stats.set_value("redis/gave_up", 1)
        assert self.crawler.engine is not None
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="redis_unavailable"))

    def _renew_lease(self) -> None:
        self.server.set(self.lease_key, self.worker_id, ex=self.lease_seconds)

    def _settle(self) -> None:
        # The engine keeps a request in its slot until download, callback and item pipelines
        # are all done; there is no public signal for that moment, hence the private read.
        inprogress = requests_in_progress(self.crawler)
        done = [request for request in self._popped if request not in inprogress]
        if done:
            # Forgotten only once Redis took the removal: a failed call leaves them to retry.
            self.server.zrem(self.inflight_key, *(self._popped[r] for r in done))
            for request in done:
                del self._popped[request]

    def _requeue_dead_workers(self) -> None:
        for key in self.server.scan_iter(match=f"{_glob_escape(self.inflight_prefix)}*"):
            name = key.decode() if isinstance(key, bytes) else key
            worker = name[len(self.inflight_prefix) :]
            if worker == self.worker_id:
                continue
            count = self._requeue(
                keys=[f"{self.lease_prefix}{worker}", name, self.queue.key], args=[]
            )
            if count > 0:
                logger.warning(
                    "Worker %s stopped renewing its lease; requeued its %d in-flight requests",
                    worker,
                    count,
                )
                self.stats.inc_value("redis/requeued", count)


def _glob_escape(text: str) -> str:
    r"""Escape Redis glob characters so a key prefix matches only itself.

    >>> _glob_escape("sina[1]*")
    'sina\\[1\\]\\*'
    """
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
