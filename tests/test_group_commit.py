"""GroupCommit: writes that arrive during a commit go together in the next one."""

import asyncio

import pytest

from crawler.storage.group_commit import GroupCommit


class Recorder:
    """A commit that records its batches and can be held open."""

    def __init__(self):
        self.batches = []
        self.release = asyncio.Event()

    async def __call__(self, batch):
        self.batches.append(list(batch))
        await self.release.wait()
        return [value * 10 for value in batch]


async def first_then_others(group, first, *others):
    """Submit ``first`` (its commit starts), then ``others`` (they wait for the next batch)."""
    head = asyncio.ensure_future(group.submit(first))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(group.submit(value)) for value in others]
    await asyncio.sleep(0)
    return head, rest


def test_values_arriving_during_a_commit_share_the_next_one():
    async def main():
        commit = Recorder()
        first, later = await first_then_others(GroupCommit(commit), 1, 2, 3, 4)
        commit.release.set()
        return await asyncio.gather(first, *later), commit.batches

    results, batches = asyncio.run(main())
    assert results == [10, 20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


def test_batches_are_capped():
    async def main():
        commit = Recorder()
        commit.release.set()
        group = GroupCommit(commit, max_batch=2)
        results = await asyncio.gather(*(group.submit(v) for v in range(5)))
        return results, commit.batches

    results, batches = asyncio.run(main())
    assert results == [0, 10, 20, 30, 40]
    assert batches == [[0, 1], [2, 3], [4]]


def test_an_exception_for_one_value_goes_to_its_caller_alone():
    async def commit(batch):
        return [OSError(28, "No space left") if v == 2 else v for v in batch]

    async def main():
        group = GroupCommit(commit)
        return await asyncio.gather(*(group.submit(v) for v in (1, 2, 3)), return_exceptions=True)

    one, two, three = asyncio.run(main())
    assert (one, three) == (1, 3)
    assert isinstance(two, OSError)
    assert two.errno == 28


def test_a_failed_commit_fails_its_batch_and_the_next_batch_still_runs():
    calls = []

    async def commit(batch):
        calls.append(list(batch))
        if len(calls) == 1:
            await asyncio.sleep(0.01)
            raise RuntimeError("side thread gone")
        return list(batch)

    async def main():
        first, (second,) = await first_then_others(GroupCommit(commit), "a", "b")
        return await asyncio.gather(first, second, return_exceptions=True)

    first, second = asyncio.run(main())
    assert isinstance(first, RuntimeError)
    assert second == "b"
    assert calls == [["a"], ["b"]]


def test_a_commit_returning_the_wrong_number_of_results_is_an_error():
    async def commit(batch):
        return []

    async def main():
        return await GroupCommit(commit).submit(1)

    with pytest.raises(RuntimeError, match="0 results for 1 values"):
        asyncio.run(main())


def test_a_cancelled_caller_leaves_the_others_their_results():
    async def main():
        commit = Recorder()
        first, (gone, kept) = await first_then_others(GroupCommit(commit), 1, 2, 3)
        gone.cancel()
        commit.release.set()
        return await first, await kept, gone.cancelled()

    assert asyncio.run(main()) == (10, 30, True)


def test_cancelling_the_commit_cancels_every_waiting_caller():
    async def main():
        group = GroupCommit(Recorder())
        first, (second,) = await first_then_others(group, 1, 2)
        group._running.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
        return first.cancelled(), second.cancelled()

    assert asyncio.run(main()) == (True, True)


def test_a_commit_left_running_in_another_loop_does_not_hang_this_one():
    commit = Recorder()
    group = GroupCommit(commit)
    old = asyncio.new_event_loop()
    try:
        stranded = old.create_task(group.submit(1))
        old.run_until_complete(asyncio.sleep(0.01))  # the commit started, and waits; loop stops

        async def later():
            commit.release.set()
            return await asyncio.wait_for(group.submit(2), timeout=2)

        assert asyncio.run(later()) == 20
        assert commit.batches == [[1], [2]]
    finally:
        stranded.cancel()
        old.run_until_complete(asyncio.gather(stranded, return_exceptions=True))
        old.run_until_complete(old.shutdown_asyncgens())
        old.close()


def test_a_base_exception_in_the_commit_reaches_every_waiting_caller():
    class Stop(BaseException):
        pass

    async def commit(batch):
        await asyncio.sleep(0.01)
        raise Stop

    async def main():
        group = GroupCommit(commit)
        first, (second,) = await first_then_others(group, 1, 2)
        _, pending = await asyncio.wait({first, second}, timeout=2)
        group._running.exception()  # retrieved: the task ended with it, as it should
        return pending, [type(task.exception()).__name__ for task in (first, second)]

    pending, errors = asyncio.run(main())
    assert pending == set()
    assert errors == ["Stop", "Stop"]
