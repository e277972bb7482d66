"""A scheduler that records the largest backlog it ever held, from its own stats.

Loaded by tests/e2e/test_backfill.py with `-s SCHEDULER=tests.e2e.backlog_probe.ProbedScheduler`:
after every enqueue, `scheduler/enqueued - scheduler/dequeued` is what waits in the scheduler
(enqueued but not yet handed to the downloader); its maximum goes to `probe/backlog_max`.
"""

from __future__ import annotations

from scrapy.core.scheduler import Scheduler


class ProbedScheduler(Scheduler):
    def enqueue_request(self, request):
        queued = super().enqueue_request(request)
        stats = self.stats
        waiting = stats.get_value("scheduler/enqueued", 0) - stats.get_value(
            "scheduler/dequeued", 0
        )
        stats.max_value("probe/backlog_max", waiting)
        return queued
