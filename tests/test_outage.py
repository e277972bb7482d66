"""crawler.distributed.outage: one warning per outage, backoff between retries, a bounded wait."""

from __future__ import annotations

import logging

from crawler.distributed.outage import MAX_RETRY_DELAY, RedisOutage


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_warning_per_outage_and_doubling_retry_delays(caplog):
    clock = Clock()
    outage = RedisOutage("10.0.0.5:6380", timeout=60, now=clock)
    caplog.set_level(logging.WARNING, logger="crawler.distributed.outage")
    delays = []
    for _ in range(7):
        outage.failed(ConnectionRefusedError(111, "Connection refused"))
        start = clock.now
        while not outage.ready():
            clock.now += 0.25
        delays.append(clock.now - start)
    assert delays == [0.5, 1.0, 2.0, 4.0, MAX_RETRY_DELAY, MAX_RETRY_DELAY, MAX_RETRY_DELAY]
    warning = (
        "Redis at 10.0.0.5:6380 is unreachable (Connection refused); holding this worker's work"
        " in memory and retrying with backoff for up to 60s (SINA_REDIS_OUTAGE_TIMEOUT)"
    )
    assert [r.getMessage() for r in caplog.records] == [warning]
    assert not outage.expired()
    clock.now = 100.0 + 60
    assert outage.expired()
    outage.succeeded()
    assert (
        caplog.records[-1].getMessage()
        == "Redis at 10.0.0.5:6380 is back after 60.0s; the crawl goes on"
    )
    assert not outage.down
    assert not outage.expired()
    assert outage.ready()
    # A second outage warns again, and starts from the shortest delay.
    outage.failed(ConnectionRefusedError(111, "Connection refused"))
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 2
    clock.now += 0.5
    assert outage.ready()
    assert outage.outages == 2
