"""Traces from other tools open as a run: real VizTracer and py-spy traces made here,
Ray- and Perfetto-shaped files, the format's corners (gzip, a cut-off array, B/E
pairs, async and counter events) and nesting checked against a plain stack."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from concviz.interop.trace_import import BadTrace, load_trace, slice_depths
from concviz.model.event_store import BAR_TASK
from concviz.model.rows import arrange_rows

HERE_PY = sys.executable

THREADS_PROG = """
import json, threading, time
from concurrent.futures import ThreadPoolExecutor

def work(n):
    s = 0
    for i in range(30000):
        s += i
    time.sleep(0.005)
    return threading.get_native_id(), threading.current_thread().name

with ThreadPoolExecutor(3, thread_name_prefix="pool") as ex:
    ran = sorted(set(ex.map(work, range(12))))
print(json.dumps({"main": [threading.get_native_id(), threading.current_thread().name],
                  "workers": ran}))
"""

ASYNC_PROG = """
import asyncio, json

async def job(i):
    await asyncio.sleep(0.005 * i)
    s = sum(range(20000))
    await asyncio.sleep(0)
    return asyncio.current_task().get_name()

async def main():
    names = await asyncio.gather(*(job(i) for i in range(3)))
    return [asyncio.current_task().get_name(), *names]

print(json.dumps(asyncio.run(main())))
"""

PROCESS_PROG = """
import json, multiprocessing as mp, os

def work(n):
    s = 0
    for i in range(200000):
        s += i

if __name__ == "__main__":
    procs = [mp.Process(target=work, args=(k,), name=f"child-{k}") for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(json.dumps({"main": os.getpid(), "children": {p.pid: p.name for p in procs}}))
"""

SPY_PROG = """
import json, threading, time
from concurrent.futures import ThreadPoolExecutor

def work(n):
    end = time.perf_counter() + 0.4
    s = 0
    while time.perf_counter() < end:
        s += 1
    return threading.get_ident()

with ThreadPoolExecutor(2) as ex:
    ran = sorted(set(ex.map(work, range(2))))
print(json.dumps({"main": threading.get_ident(), "workers": ran}))
"""


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def _viztrace(tmp_path: Path, source: str, *flags: str) -> tuple[dict | list, Path]:
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(source))
    out = tmp_path / "out.json"
    done = _run(
        [HERE_PY, "-m", "viztracer", "--quiet", *flags, "-o", str(out), str(prog)], tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith(("{", "["))][-1]
    return json.loads(line), out


def _top_level_per_thread(path: Path) -> dict[tuple, int]:
    """Top-level X slices per (pid, tid), counted straight from the JSON: a slice is
    top level when no other slice of its thread contains it."""
    doc = json.loads(path.read_text())
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    per: dict[tuple, list[tuple[int, int]]] = {}
    for e in events:
        if e.get("ph") == "X":
            s = round(e["ts"] * 1000)
            per.setdefault((e["pid"], e["tid"]), []).append((s, s + round(e["dur"] * 1000)))
    counts = {}
    for key, spans in per.items():
        top, reach = 0, None
        for s, end in sorted(spans, key=lambda se: (se[0], -se[1])):
            if reach is None or s >= reach:
                top += 1
                reach = end
            else:
                reach = max(reach, end)
        counts[key] = top
    return counts


def _bars_per_lane(run) -> dict[tuple, int]:
    lanes = run.store.lanes()
    b = run.store.bars()
    out: dict[tuple, int] = {}
    for lane, n in zip(*np.unique(b["lane"], return_counts=True), strict=True):
        out[(lanes[lane].pid, lanes[lane].tid)] = int(n)
    return out


def test_viztracer_threads_become_rows_of_the_threads_that_ran(tmp_path):
    said, out = _viztrace(tmp_path, THREADS_PROG)
    run = load_trace(out).runs[0]
    assert run.source == "trace" and run.spec is None
    assert run.meta["tool"] == "viztracer" and run.name == "out"
    rows = arrange_rows(run.store, max_group_rows=None)
    ran = {tuple(said["main"]), *map(tuple, said["workers"])}
    assert {(row.tid, row.label) for row in rows} == ran
    assert rows[0].label == "MainThread"  # the first to run comes first
    assert _bars_per_lane(run) == _top_level_per_thread(out)
    names = run.meta["names"]
    b = run.store.bars()
    seen = {names[t] for t in b["task"].tolist()} | {
        names[t] for t in run.meta["nested"]["name"].tolist()
    }
    assert any(name.startswith("work (") for name in seen)  # the program's own function
    assert set(b["kind"].tolist()) == {BAR_TASK}


def test_viztracer_log_async_gives_each_asyncio_task_a_row(tmp_path):
    said, out = _viztrace(tmp_path, ASYNC_PROG, "--log_async")
    run = load_trace(out).runs[0]
    labels = [row.label for row in arrange_rows(run.store, max_group_rows=None)]
    assert labels[0] == "MainThread"
    assert set(said) <= set(labels)  # every task the program named has its row
    assert all(label == "MainThread" or label.startswith("Task-") for label in labels)
    assert _bars_per_lane(run) == _top_level_per_thread(out)


def test_viztracer_multiprocessing_rows_per_process(tmp_path):
    said, out = _viztrace(tmp_path, PROCESS_PROG)
    run = load_trace(out).runs[0]
    rows = arrange_rows(run.store, max_group_rows=None)
    children = {int(pid): name for pid, name in said["children"].items()}
    assert {row.pid for row in rows} == {said["main"], *children}
    for pid, name in children.items():
        assert run.meta["process_names"][pid] == name
    # a process's rows stay together, the first process first
    groups = [row.group for row in rows]
    assert groups == sorted(groups) and rows[0].pid == said["main"]
    assert _bars_per_lane(run) == _top_level_per_thread(out)


def _spy_top_level(path: Path) -> dict[int, int]:
    """B events opened on an empty stack, per thread, straight from py-spy's JSON."""
    depth: dict[int, int] = {}
    top: dict[int, int] = {}
    events = sorted(
        enumerate(json.loads(path.read_text())), key=lambda ie: (ie[1]["tid"], ie[1]["ts"], ie[0])
    )
    for _i, e in events:
        d = depth.get(e["tid"], 0)
        if e["ph"] == "B":
            if d == 0:
                top[e["tid"]] = top.get(e["tid"], 0) + 1
            depth[e["tid"]] = d + 1
        elif e["ph"] == "E" and d > 0:
            depth[e["tid"]] = d - 1
    return top


def test_py_spy_chrometrace_rows_are_the_threads_it_sampled(tmp_path):
    spy = shutil.which("py-spy") or str(Path(HERE_PY).with_name("py-spy"))
    if not Path(spy).exists():
        pytest.skip("py-spy is not installed (it is a test dependency: uv sync)")
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(SPY_PROG))
    out = tmp_path / "spy.json"
    cmd = [spy, "record", "--format", "chrometrace", "--idle", "-r", "100", "-o", str(out)]
    done = _run([*cmd, "--", HERE_PY, str(prog)], tmp_path)
    if done.returncode != 0 or not out.exists():
        text = done.stderr + done.stdout
        if "ermission" in text or "ptrace" in text.lower():
            pytest.skip(f"py-spy may not trace processes here (ptrace refused): {text[-300:]}")
        pytest.fail(f"py-spy failed: {text[-2000:]}")
    said = json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])
    run = load_trace(out).runs[0]
    assert run.meta["tool"] == "py-spy"
    rows = arrange_rows(run.store, max_group_rows=None)
    assert {row.tid for row in rows} == {said["main"], *said["workers"]}
    per_lane = {tid: n for (_pid, tid), n in _bars_per_lane(run).items()}
    assert per_lane == _spy_top_level(out)


# ------------------------------------------------------------------ other tools' shapes
def _write(path: Path, doc, gz: bool = False) -> Path:
    data = json.dumps(doc).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_ray_timeline_string_pids_and_tids(tmp_path):
    events = []
    for w, worker in enumerate(["Worker:aa11", "Worker:bb22"]):
        for k in range(3):
            events.append(
                {
                    "cat": "task::f",
                    "name": "task::f",
                    "pid": "Node:10.0.0.5",
                    "tid": worker,
                    "ts": 1_700_000_000_000_000 + k * 2000 + w * 100,
                    "dur": 1500,
                    "ph": "X",
                    "args": {"task_id": f"{w}{k}"},
                }
            )
    path = _write(tmp_path / "timeline.json", events)
    run = load_trace(path).runs[0]
    assert run.meta["tool"] == "ray"
    rows = arrange_rows(run.store, max_group_rows=None)
    assert [row.label for row in rows] == ["Worker:aa11", "Worker:bb22"]
    assert len({row.pid for row in rows}) == 1 and rows[0].pid < 0
    assert run.meta["process_names"][rows[0].pid] == "Node:10.0.0.5"
    assert run.store.bar_count == 6
    assert run.store.t_min == 1_700_000_000_000_000_000
    assert run.store.t_max == 1_700_000_000_000_000_000 + 4100 * 1000 + 1500 * 1000


def _perfetto_like() -> dict:
    pid, tid = 7, 70
    ev = [
        {"ph": "M", "name": "process_name", "pid": pid, "args": {"name": "app"}},
        {"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": "main"}},
        {"ph": "M", "name": "thread_name", "pid": pid, "tid": 71, "args": {"name": "io"}},
        # B/E on "main": outer [10, 50] holds inner [20, 30]; an E with nothing open
        {"ph": "E", "pid": pid, "tid": tid, "ts": 5},
        {"ph": "B", "pid": pid, "tid": tid, "ts": 10, "name": "outer"},
        {"ph": "B", "pid": pid, "tid": tid, "ts": 20, "name": "inner"},
        {"ph": "E", "pid": pid, "tid": tid, "ts": 30},
        {"ph": "E", "pid": pid, "tid": tid, "ts": 50},
        # an X on "io", and a B there never ended (ends with the trace)
        {"ph": "X", "pid": pid, "tid": 71, "ts": 12, "dur": 3, "name": "read"},
        {"ph": "B", "pid": pid, "tid": 71, "ts": 60, "name": "hang"},
        # counters: two keys, one series each
        {"ph": "C", "pid": pid, "ts": 10, "name": "mem", "args": {"heap": 1, "stack": 5}},
        {"ph": "C", "pid": pid, "ts": 20, "name": "mem", "args": {"heap": 3, "stack": 4}},
        {"ph": "C", "pid": pid, "ts": 15, "name": "load", "args": {"value": 0.5}},
        # async: one request with a nested step, one other request, an instant
        {"ph": "b", "pid": pid, "tid": tid, "ts": 11, "cat": "net", "id": "0x1", "name": "GET"},
        {"ph": "b", "pid": pid, "tid": tid, "ts": 13, "cat": "net", "id": "0x1", "name": "dns"},
        {"ph": "e", "pid": pid, "tid": tid, "ts": 14, "cat": "net", "id": "0x1", "name": "dns"},
        {"ph": "n", "pid": pid, "tid": tid, "ts": 16, "cat": "net", "id": "0x1", "name": "mark"},
        {"ph": "e", "pid": pid, "tid": tid, "ts": 40, "cat": "net", "id": "0x1", "name": "GET"},
        {"ph": "b", "pid": pid, "ts": 41, "cat": "net", "id2": {"local": "0x2"}, "name": "PUT"},
        {"ph": "e", "pid": pid, "ts": 45, "cat": "net", "id2": {"local": "0x2"}, "name": "PUT"},
        {"ph": "i", "pid": pid, "tid": tid, "ts": 33, "name": "instant", "s": "t"},
    ]
    return {"traceEvents": ev, "systemTraceEvents": "", "displayTimeUnit": "ns"}


def _check_perfetto_like(run) -> None:
    assert run.meta["tool"] == "perfetto"
    names = run.meta["names"]
    rows = arrange_rows(run.store, max_group_rows=None)
    assert [row.label for row in rows] == ["main", "io", "GET (async 0x1)", "PUT (async 0x2)"]
    lanes = {row.label: row.lane for row in rows}
    b = run.store.bars()
    got = sorted(
        (names[t], int(s), int(e), int(ln))
        for t, s, e, ln in zip(b["task"], b["start"], b["end"], b["lane"], strict=True)
    )
    assert got == sorted(
        [
            ("outer", 10_000, 50_000, lanes["main"]),
            ("read", 12_000, 15_000, lanes["io"]),
            ("hang", 60_000, 60_000, lanes["io"]),  # never ended: ends with the trace
            ("GET", 11_000, 40_000, lanes["GET (async 0x1)"]),
            ("PUT", 41_000, 45_000, lanes["PUT (async 0x2)"]),
        ]
    )
    nested = run.meta["nested"]
    deep = sorted(
        (names[n], int(d), int(s), int(e))
        for n, d, s, e in zip(
            nested["name"], nested["depth"], nested["start"], nested["end"], strict=True
        )
    )
    assert deep == [
        ("dns", 1, 13_000, 14_000),
        ("inner", 1, 20_000, 30_000),
        ("mark", 1, 16_000, 16_000),
    ]
    assert run.meta["unclosed_slices"] == 1
    assert run.meta["process_names"] == {7: "app"}
    t, v = run.counters["mem heap"]
    assert t.tolist() == [10_000, 20_000] and v.tolist() == [1, 3]
    assert run.counters["mem stack"][1].tolist() == [5, 4]
    assert run.counters["load"][1].tolist() == [0.5]


def test_perfetto_json_with_pairs_async_and_counters(tmp_path):
    _check_perfetto_like(load_trace(_write(tmp_path / "p.json", _perfetto_like())).runs[0])


def test_gzip_is_told_by_its_magic_bytes_not_its_name(tmp_path):
    path = _write(tmp_path / "p.trace", _perfetto_like(), gz=True)
    run = load_trace(path).runs[0]
    _check_perfetto_like(run)
    assert load_trace(_write(tmp_path / "q.json.gz", _perfetto_like(), gz=True)).runs[0].name == "q"


def test_a_cut_off_array_without_its_closing_bracket_opens(tmp_path):
    events = _perfetto_like()["traceEvents"]
    text = "[" + ",\n".join(json.dumps(e) for e in events) + ",\n"
    path = tmp_path / "cut.json"
    path.write_text(text)
    run = load_trace(path).runs[0]
    assert run.store.bar_count == 5


@pytest.mark.parametrize(
    ("events", "needle"),
    [
        ([{"ph": "X", "ts": 1, "dur": 1}, {"ph": "X", "ts": "soon", "dur": 1}], "Event 1"),
        ([{"ph": "X", "ts": 1, "dur": 1}, {"ph": "X", "ts": 2}], "Event 1 (ph 'X') has no dur"),
        ([{"ph": "X", "ts": 1, "dur": -4}], "Event 0 has a dur that is negative"),
        ([{"ph": "X", "ts": 1, "dur": 1}, {"ph": "X", "ts": 1e300, "dur": 1}], "Event 1"),
        ([{"ph": "X", "ts": 1, "dur": 1}, 7], "Event 1 is a number, not a JSON object"),
        ([{"ph": "B", "ts": 1, "tid": [1]}], "Event 0 has a tid"),
        ([{"ph": "C", "ts": 1, "name": "c", "args": {"v": "high"}}], "Event 0 has a counter"),
    ],
)
def test_a_malformed_event_is_named_in_one_sentence(tmp_path, events, needle):
    path = _write(tmp_path / "bad.json", events)
    with pytest.raises(BadTrace) as err:
        load_trace(path)
    text = str(err.value)
    assert needle in text
    assert text.endswith(".") and "\n" not in text


def test_nan_in_json_and_broken_files_are_bad_traces(tmp_path):
    (tmp_path / "nan.json").write_text('[{"ph": "X", "ts": NaN, "dur": 1}]')
    (tmp_path / "junk.json").write_bytes(b"\x00\xff garbage")
    (tmp_path / "gz.json").write_bytes(b"\x1f\x8b\x08\x00broken")
    (tmp_path / "obj.json").write_text('{"events": []}')
    for name, needle in [
        ("nan.json", "out of range"),
        ("junk.json", "not"),
        ("gz.json", "gzip"),
        ("obj.json", "traceEvents"),
    ]:
        with pytest.raises(BadTrace, match=needle):
            load_trace(tmp_path / name)
    with pytest.raises(BadTrace, match="Cannot read"):
        load_trace(tmp_path / "missing.json")


def test_slice_depths_at_shared_instants():
    # back to back siblings, a zero-length slice inside, identical twins nest in order
    lane = np.array([0, 0, 0, 0, 0, 1])
    start = np.array([0, 10, 5, 20, 20, 0])
    end = np.array([10, 20, 5, 30, 30, 0])
    assert slice_depths(lane, start, end).tolist() == [0, 0, 1, 0, 1, 0]


def test_open_any_opens_a_trace_and_words_a_bad_one_as_a_bad_file(tmp_path):
    from concviz.interop import BadSessionFile, open_any

    run = open_any(_write(tmp_path / "p.json", _perfetto_like())).runs[0]
    assert run.source == "trace" and run.store.bar_count == 5
    (tmp_path / "bad.json").write_text('[{"ph": "X", "ts": 1}]')
    with pytest.raises(BadSessionFile, match="Event 0"):
        open_any(tmp_path / "bad.json")


def test_an_imported_trace_saves_and_reopens_with_its_nested_slices(tmp_path):
    from concviz.interop import load_session, save_session

    session = load_trace(_write(tmp_path / "p.json", _perfetto_like()))
    save_session(session, tmp_path / "s.concviz")
    a, b = session.runs[0], load_session(tmp_path / "s.concviz").runs[0]
    assert b.source == "trace" and b.store.bar_count == a.store.bar_count
    for col, values in a.meta["nested"].items():
        assert np.array_equal(b.meta["nested"][col], values)
    assert b.meta["names"] == a.meta["names"]
