"""What recording must keep while it is made cheaper: every event once, bars handed over
within one display frame, nothing recorded with the recorder off (no timing asserted)."""

from __future__ import annotations

import queue
import threading
import types
from collections import Counter

import pytest

from concviz.lab import recorder as rec_mod
from concviz.lab.protocol import EV_END, EV_QUEUED, EV_START, unpack_records
from concviz.lab.recorder import INLINE_GAP_NS, Recorder, execute
from concviz.lab.strategies import REGISTRY, RunContext, TaskFeed
from concviz.lab.strategies.processes import COALESCE_S, FAST_COALESCE_S
from concviz.lab.workloads import make_spec
from concviz.ui.timeline import LIVE_INTERVAL_S

DISPLAY_FRAME_NS = 16_700_000  # one frame at 60 Hz


class Sink:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, payload: bytes) -> None:
        with self.lock:
            self.payloads.append(payload)

    def records(self) -> list[tuple]:
        return [r for p in self.payloads for r in unpack_records(p)]


def _run(strategy: str, tasks: int, task_ms: float, recording: bool = True) -> Sink:
    sink = Sink()
    recorder = Recorder(sink, recording=recording)
    recorder.start()
    errors: list[dict] = []
    ctx = RunContext(
        spec=make_spec("cpu-python", task_ms),
        workers=2,
        feed=TaskFeed(tasks, recorder),
        recorder=recorder,
        emit=lambda m: errors.append(m) if m.get("type") == "task_error" else None,
        send_events=sink,
        options={"_strategy": strategy},
        stop_event=threading.Event(),
        sys_path=[],
    )
    REGISTRY[strategy].run(ctx)
    recorder.close()
    assert not errors
    return sink


@pytest.mark.parametrize("strategy", ["thread-pool", "process-pool", "processes"])
def test_tiny_tasks_every_event_once(strategy):
    """At 0.05 ms tasks, each task is queued, started and ended exactly once, on one
    worker, with its CPU; no event lost in the batching, the relay or the pipe."""
    n = 1500
    records = _run(strategy, n, 0.05).records()
    kinds = Counter((r[0], r[3]) for r in records)
    for kind in (EV_QUEUED, EV_START, EV_END):
        assert sorted(t for k, t in kinds if k == kind) == list(range(n)), kind
    assert set(kinds.values()) == {1}, "an event was recorded twice"
    assert len(records) == 3 * n
    ends = [r for r in records if r[0] == EV_END]
    assert all(r[6] >= r[8] and r[7] >= 0 for r in ends)  # end after start, CPU counted
    starts = {r[3]: r for r in records if r[0] == EV_START}
    assert all((starts[r[3]][2], starts[r[3]][4]) == (r[2], r[4]) for r in ends)


@pytest.mark.parametrize("strategy", ["thread-pool", "process-pool"])
def test_recorder_off_records_nothing_and_runs_every_task(strategy):
    """The bench's same-dispatch side: the strategy runs, no event is made."""
    assert _run(strategy, 200, 0.05, recording=False).payloads == []


class _FakeClock:
    """perf_counter_ns that moves only when told (a task of a given length)."""

    def __init__(self) -> None:
        self.now = 10**9

    def __call__(self) -> int:
        return self.now


@pytest.mark.parametrize("task_ms", [0.05, 0.2, 1.0, 4.0, 20.0])
def test_a_started_bar_is_handed_over_within_one_frame(monkeypatch, task_ms):
    """A worker hands a task's start to the sink within one display frame of the start
    at normal rates, and within one redraw of the live view when its tasks are far
    below a pixel (a fake clock: the rule, not this machine's speed)."""
    clock = _FakeClock()
    monkeypatch.setattr(rec_mod, "perf_ns", clock)
    handed: dict[int, int] = {}
    payloads = []

    def sink(payload: bytes) -> None:
        payloads.append(clock.now)
        for r in unpack_records(payload):
            if r[0] == EV_START:
                handed.setdefault(r[3], clock.now)

    recorder = Recorder(sink)
    buf = recorder.buffer()

    def task(_i: int) -> None:
        clock.now += int(task_ms * 1e6)

    n = int(100 / task_ms) + 10  # 100 ms of tasks
    starts = {}
    for i in range(n):
        clock.now += 20_000  # fetching the next task
        starts[i] = clock.now
        execute(buf, 0, i, task)
    # two events a task: more than FAST_EVENTS_PER_MS a millisecond is a high rate
    fast = 2 / (task_ms + 0.02) > rec_mod.FAST_EVENTS_PER_MS
    gap = rec_mod.FAST_GAP_NS if fast else INLINE_GAP_NS
    # the starts of the last few ms may still wait (for the next start, or the
    # backstop flusher when the worker goes idle); every earlier one went out in time
    due = [i for i in range(n) if starts[i] + 2 * gap <= clock.now]
    assert len(due) > n // 2
    assert all(i in handed for i in due)
    assert max(handed[i] - starts[i] for i in due) <= 2 * gap
    if fast:
        # fewer hand-overs: one per FAST_GAP_NS, not one per INLINE_GAP_NS
        assert len(payloads) <= (clock.now - 10**9) // rec_mod.FAST_GAP_NS + 2
        # with the relay's longer rest, within one redraw of the live view
        assert 2 * gap + FAST_COALESCE_S * 1e9 < LIVE_INTERVAL_S * 1e9
    else:
        # a worker process's batch waits at most COALESCE_S more in the lab's relay
        assert 2 * gap + COALESCE_S * 1e9 < DISPLAY_FRAME_NS


def test_the_relay_rests_longer_only_while_events_flood_in(monkeypatch):
    """The relay between worker processes and the lab rests ``COALESCE_S`` after a
    frame, and ``FAST_COALESCE_S`` after a frame of more than
    ``FAST_RELAY_EVENTS_PER_MS`` events a millisecond."""
    import multiprocessing as mp
    import time as real_time

    from concviz.lab.protocol import pack_records
    from concviz.lab.strategies import processes

    rests: list[float] = []
    rest = processes._Rest.__call__

    def resting(self, seconds: float) -> None:
        rests.append(seconds)
        rest(self, seconds)

    monkeypatch.setattr(processes._Rest, "__call__", resting)
    events = processes.event_queue(mp.get_context("fork"))
    sink = Sink()
    relay = processes._Relay(events, sink)
    record = (EV_START, 0, 0, 1, 1, 1, 1, 0, 0)
    real_time.sleep(0.2)
    events.put(pack_records([record] * 2))  # 2 events in 200 ms: a normal rate
    _wait_for(lambda: len(sink.payloads) == 1)
    real_time.sleep(0.05)
    events.put(pack_records([record] * 4000))  # 4000 events in ~50 ms: a flood
    _wait_for(lambda: len(sink.payloads) == 2)
    relay.close()
    assert len(sink.records()) == 4002
    assert rests[:2] == [COALESCE_S, FAST_COALESCE_S]


def _wait_for(cond, timeout: float = 5.0) -> None:
    import time as real_time

    deadline = real_time.monotonic() + timeout
    while not cond():
        assert real_time.monotonic() < deadline, "timed out"
        real_time.sleep(0.005)


def test_the_dispatcher_wakes_once_per_half_window_not_once_per_task(monkeypatch):
    """A full window is refilled in halves: the dispatching thread is woken about once
    per half window of finished tasks. Woken once per task, it took the GIL from the
    executor's threads 12 000 times in a run of 0.05 ms tasks."""
    from concviz.lab.strategies import dispatch

    gets = Counter()

    class CountingQueue(dispatch.queue.SimpleQueue):
        def get(self, *args, **kwargs):
            gets["get"] += 1
            return super().get(*args, **kwargs)

    # the dispatcher's own queue only (the thread pool's workers take from one too)
    monkeypatch.setattr(
        dispatch, "queue", types.SimpleNamespace(SimpleQueue=CountingQueue, Empty=queue.Empty)
    )
    n = 1200
    sink = _run("thread-pool", n, 0.05)
    ends = [r for r in sink.records() if r[0] == EV_END]
    assert sorted(r[3] for r in ends) == list(range(n))  # every task ran, once
    # the window of a 2-worker batch is 24: a wake-up per 12 tasks, and the waits
    # that time out (every 50 ms) on top
    assert 0 < gets["get"] <= n / 6, gets


def test_the_process_pools_worker_thread_sleeps_while_results_come_in(monkeypatch):
    """``multiprocessing.Pool``'s thread that keeps the workers alive waits on the
    result pipe too, so each result waiting there made it spin until the result
    thread took it (~10 rounds a result). The processes strategy's pool waits only
    for a worker's exit and for the pool's own changes."""
    import multiprocessing.pool as mp_pool

    rounds = Counter()
    original = mp_pool.Pool._wait_for_updates

    def counted(sentinels, change_notifier, timeout=None):
        rounds["round"] += 1
        return original(sentinels, change_notifier, timeout)

    monkeypatch.setattr(mp_pool.Pool, "_wait_for_updates", staticmethod(counted))
    n = 200  # tasks of 2 ms go 7 to a chunk: about 30 results
    sink = _run("processes", n, 2.0)
    assert sorted(r[3] for r in sink.records() if r[0] == EV_END) == list(range(n))
    # the pool starts, is closed and ends: a few rounds, not one or more per result
    assert rounds["round"] <= 10, rounds


@pytest.mark.parametrize("recording", [True, False])
def test_a_task_graphs_feed_says_queued_once_a_task_and_only_while_recording(recording):
    """Each task a graph hands out is said queued once; with the recorder off (the
    bench's same-dispatch side) nothing is buffered at all."""
    from concviz.lab.strategies.base import DagFeed

    sink = Sink()
    recorder = Recorder(sink, recording=recording)
    feed = DagFeed([[], [0], [0]], recorder)
    first = feed.next()
    feed.finished(first)
    handed = [first, feed.next(), feed.next()]
    recorder.flush()
    assert sorted(handed) == [0, 1, 2]
    queued = sorted(r[3] for r in sink.records() if r[0] == EV_QUEUED)
    assert queued == ([0, 1, 2] if recording else [])


@pytest.mark.skipif(
    not hasattr(__import__("select"), "poll"), reason="no select.poll here: the rest is a sleep"
)
def test_closing_the_relay_cuts_its_rest_short(monkeypatch):
    """The relay's ``close`` ends its rest between frames at once: a process run's end
    waited out the whole rest before (up to 4 ms, or 12 ms at a high rate)."""
    import multiprocessing as mp
    import time as real_time

    from concviz.lab.protocol import pack_records
    from concviz.lab.strategies import processes

    rest = processes._Rest.__call__
    monkeypatch.setattr(processes._Rest, "__call__", lambda self, _s: rest(self, 60.0))
    events = processes.event_queue(mp.get_context("fork"))
    sink = Sink()
    relay = processes._Relay(events, sink)
    events.put(pack_records([(EV_START, 0, 0, 1, 1, 1, 1, 0, 0)]))
    _wait_for(lambda: len(sink.payloads) == 1)
    real_time.sleep(0.05)  # the relay rests now: a minute, here
    t0 = real_time.monotonic()
    relay.close()
    assert real_time.monotonic() - t0 < 2.0
    assert not relay._thread.is_alive()


def test_a_finite_runs_last_chunks_shrink_and_an_endless_runs_do_not():
    """Chunks are ``chunk`` tasks until the run's end nears; then each holds at most a
    quarter of what is left (2 workers), down to single tasks, so the workers end
    together. Every task is handed out once, in order."""
    from concurrent.futures import Future

    from concviz.lab.strategies import dispatch

    def chunks_of(total: int | None) -> list[tuple[int, ...]]:
        recorder = Recorder(Sink(), recording=False)
        ctx = RunContext(
            spec=make_spec("cpu-python", 0.2),
            workers=2,
            feed=TaskFeed(total, recorder),
            recorder=recorder,
            emit=lambda _m: None,
            send_events=Sink(),
            options={},
            stop_event=threading.Event(),
            sys_path=[],
        )
        chunks: list[tuple[int, ...]] = []

        def submit(indices: tuple[int, ...]) -> Future:
            chunks.append(indices)
            if total is None and len(chunks) == 8:
                ctx.feed.stop()  # an endless run, stopped
            fut: Future = Future()
            fut.set_result([])
            return fut

        dispatch.submit_windowed(ctx, submit, None, None, chunk=50)
        return chunks

    chunks = chunks_of(600)
    assert [i for c in chunks for i in c] == list(range(600))
    sizes = [len(c) for c in chunks]
    assert sizes[0] == 50 and sizes[-1] == 1
    assert sizes == sorted(sizes, reverse=True)
    assert all(size <= -(-(600 - sum(sizes[:k])) // 4) for k, size in enumerate(sizes))
    assert [len(c) for c in chunks_of(None)][:8] == [50] * 8
