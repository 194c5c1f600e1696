"""Batched task calls: in the event process (gevent) the calls of a few milliseconds leave in one
message per task; elsewhere each leaves at once; a batch task runs every call of its list."""

from __future__ import annotations

import gevent
import pytest

from apps.core import batched_tasks


class RecordingTask:
    name = "tests.recording"

    def __init__(self) -> None:
        self.messages: list[list[list[object]]] = []

    def apply_async(self, *, args: list) -> None:
        (calls,) = args
        self.messages.append(calls)


@pytest.fixture
def under_gevent(monkeypatch):
    monkeypatch.setattr(batched_tasks, "gevent_patched", lambda: True)
    yield
    batched_tasks.flush()


def test_calls_of_one_turn_leave_in_one_message_per_task(under_gevent):
    first, second = RecordingTask(), RecordingTask()

    batched_tasks.send_soon(first, 1, "support")
    batched_tasks.send_soon(second, 7)
    batched_tasks.send_soon(first, 2, "sales")
    assert first.messages == []  # nothing leaves before the turn ends
    gevent.sleep(batched_tasks.BATCH_WAIT * 4)

    assert first.messages == [[[1, "support"], [2, "sales"]]]
    assert second.messages == [[[7]]]


def test_outside_gevent_each_call_leaves_at_once_as_a_list_of_one():
    task = RecordingTask()

    batched_tasks.send_soon(task, 3, "support")

    assert task.messages == [[[3, "support"]]]


def test_a_failing_call_of_a_batch_does_not_stop_the_others():
    def record(number: int) -> int:
        if number == 2:
            raise ValueError("broken call")
        return number * 10

    assert batched_tasks.for_each([[1], [2], [3]], record) == [10, None, 30]


def test_a_publish_failure_is_logged_not_raised(caplog):
    class Broken(RecordingTask):
        def apply_async(self, *, args: list) -> None:
            raise ConnectionError("broker down")

    batched_tasks.send_soon(Broken(), 1)

    assert "could not send 1 call(s) of tests.recording" in caplog.text
