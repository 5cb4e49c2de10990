""".concviz session files: a real run back without loss, atomic saves, clear refusals."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concviz.interop import open_any
from concviz.interop import session_file as SF
from concviz.interop.session_file import BadSessionFile, load_session, save_session
from concviz.lab import protocol as P
from concviz.model import run_object
from concviz.model.session import CpuSamples, Session
from concviz.runtime import run_batch

USERFNS = Path(__file__).parents[1] / "lab" / "data" / "userfns.py"


def user(func: str) -> str:
    return f"{USERFNS}:{func}"


def _assert_same_store(a, b) -> None:
    info_a, cols_a = a.state()
    info_b, cols_b = b.state()
    assert info_a == info_b
    assert cols_a.keys() == cols_b.keys()
    for name in cols_a:
        assert cols_a[name].dtype == cols_b[name].dtype, name
        assert np.array_equal(cols_a[name], cols_b[name], equal_nan=True), name


@pytest.fixture(scope="module")
def real_session():
    """Real lab runs: sequential, threads, a user function that fails, one that prints."""
    session = Session()
    specs = [
        P.Start(workload="io-sleep", strategy="sequential", workers=1, tasks=4, task_ms=5),
        P.Start(workload="io-sleep", strategy="threads", workers=2, tasks=6, task_ms=5),
        P.Start(workload="user", user=user("boom"), strategy="threads", workers=2, tasks=4),
        P.Start(workload="user", user=user("chatty"), strategy="asyncio", workers=2, tasks=3),
        # waits on a named lock, and a queue's depth as a counter
        P.Start(
            workload="contended-lock",
            strategy="threads",
            workers=2,
            # long enough that the two threads overlap on a loaded machine (with 6
            # tasks of 10 ms one thread once ran them all before the other took one)
            tasks=12,
            task_ms=20,
            options={"critical_fraction": 0.9},
        ),
        P.Start(workload="producer-consumer", strategy="threads", workers=2, tasks=8, task_ms=5),
    ]
    for spec in specs:
        cpu = CpuSamples()
        store = run_batch(spec, observe=True, cpu=cpu)
        run = session.new_run(spec, store, cpu=cpu)
        session.finish(run, run_object(store))
    assert session.runs[2].store.task_errors and session.runs[3].store.output
    assert len(session.runs[4].store.wait_slices()["lane"]) and session.runs[4].store.sync_objects
    assert len(session.runs[5].store.counters()["t"])
    session.annotate(session.runs[1], {"t_ns": 12345, "text": "look here ✓"})
    session.rename(session.runs[0], "the baseline")
    session.set_baseline(session.runs[1], session.runs[0])
    session.runs[1].meta["note"] = {"nested": [1, 2.5, None]}
    session.runs[1].counters["gil"] = (np.arange(5, dtype=np.int64), np.linspace(0, 1, 5))
    return session


def test_a_real_run_comes_back_without_loss(real_session, tmp_path):
    path = tmp_path / "two.concviz"
    save_session(real_session, path)
    assert real_session.path == str(path) and not real_session.dirty
    loaded = load_session(path)
    assert loaded.path == str(path) and not loaded.dirty
    assert len(loaded.runs) == len(real_session.runs)
    for a, b in zip(real_session.runs, loaded.runs, strict=True):
        assert b.name == a.name and b.spec == a.spec and b.colour == a.colour
        assert b.source == "saved"  # a live run, opened from a file
        assert b.result == a.result and len(b.result["tasks"]) == len(a.result["tasks"]) > 0
        assert b.annotations == a.annotations and b.meta == a.meta
        _assert_same_store(a.store, b.store)
        assert run_object(b.store) == run_object(a.store)
        assert [ln.name for ln in b.store.lanes()] == [ln.name for ln in a.store.lanes()]
        assert b.store.output == a.store.output
        assert b.store.phases() == a.store.phases() and b.store.markers == a.store.markers
        for field in ("t_ns", "percent"):
            x, y = getattr(a.cpu, field), getattr(b.cpu, field)
            assert x.dtype == y.dtype and np.array_equal(x, y)
        assert np.array_equal(a.cpu.others, b.cpu.others)
        assert a.cpu.lab is not None and np.array_equal(a.cpu.lab, b.cpu.lab)
        assert a.counters.keys() == b.counters.keys()
        for name in a.counters:
            for x, y in zip(a.counters[name], b.counters[name], strict=True):
                assert x.dtype == y.dtype and np.array_equal(x, y)
    assert real_session.runs[0].cpu.cores > 0  # the sampler really ran
    # the baseline follows its run through the renumbering
    assert loaded.runs[1].baseline_id == loaded.runs[0].id
    assert loaded.baseline_for(loaded.runs[1]) is loaded.runs[0]
    assert [dict(r, source="saved") for r in real_session.table()] == loaded.table()
    assert loaded.meta["machine"]["cores"] == os.cpu_count()
    # saved again, it is the same again
    again = tmp_path / "again.concviz"
    save_session(loaded, again)
    twice = load_session(again)
    for a, b in zip(loaded.runs, twice.runs, strict=True):
        assert a.result == b.result
        _assert_same_store(a.store, b.store)
    assert open_any(path).runs[0].name == "the baseline"


def test_an_edited_result_is_kept_exactly(real_session, tmp_path):
    """A task list that no longer matches the bars is still stored exactly (as diffs)."""
    s = Session()
    orig = real_session.runs[1]
    result = json.loads(json.dumps(orig.result))
    result["tasks"][0]["start_ns"] += 7
    result["tasks"][-1]["ok"] = not result["tasks"][-1]["ok"]
    result["tasks"][1]["error"] = "edited by hand"
    result["tasks"][2]["split_ms"] = {
        "running": 1.5,
        "cpu_wait": 0.0,
        "gil_wait": 2.25,
        "io_wait": 0.001,
    }
    result["tasks"].append(dict(result["tasks"][0], id=999, start_ns=1))  # matches no bar
    run = s.new_run(orig.spec, orig.store)
    s.finish(run, result)
    path = tmp_path / "edited.concviz"
    save_session(s, path)
    assert load_session(path).runs[0].result == result
    # and an odd task list (an extra key) goes into the JSON as it is
    result["tasks"][0]["extra"] = [1]
    save_session(s, path)
    assert load_session(path).runs[0].result == result


def test_a_failing_save_leaves_the_old_file_and_no_temporary(real_session, tmp_path, monkeypatch):
    path = tmp_path / "keep.concviz"
    save_session(real_session, path)
    before = path.read_bytes()
    calls = {"n": 0}
    real_save = np.save

    def failing_save(f, arr, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 5:  # mid-write: some members are already in the new zip
            raise OSError(28, "No space left on device")
        return real_save(f, arr, *a, **kw)

    monkeypatch.setattr(SF.np, "save", failing_save)
    with pytest.raises(OSError):
        save_session(real_session, path)
    assert calls["n"] == 5
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.concviz"]
    monkeypatch.undo()
    assert len(load_session(path).runs) == len(real_session.runs)


def test_a_file_from_a_newer_concviz_says_so_in_one_sentence(real_session, tmp_path):
    path = tmp_path / "new.concviz"
    save_session(real_session, path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(members[SF.HEADER])
    header["version"] = SF.FORMAT_VERSION + 1
    header["concviz"] = "9.0"
    members[SF.HEADER] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(BadSessionFile) as exc:
        load_session(path)
    text = str(exc.value)
    assert "newer concviz" in text and "update concviz" in text
    assert "\n" not in text and text.count(". ") == 0 and text.endswith(".")


def _small_session_bytes() -> bytes:
    """A small but complete session file (synthetic store: no lab), as bytes."""
    from concviz.bench.session import synthetic_session

    s = synthetic_session(40)
    s.annotate(s.runs[0], {"text": "x"})
    buf = io.BytesIO()
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"concviz-fuzz-{os.getpid()}.concviz")
    save_session(s, path)
    with open(path, "rb") as f:
        buf.write(f.read())
    os.unlink(path)
    return buf.getvalue()


GOOD = _small_session_bytes()
with zipfile.ZipFile(io.BytesIO(GOOD)) as _zf:
    GOOD_MEMBERS = {n: _zf.read(n) for n in _zf.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _json_mutations():
    """A header with one value somewhere replaced by something of another kind."""
    header = json.loads(GOOD_MEMBERS[SF.HEADER])
    paths: list[tuple] = []

    def walk(obj, path):
        paths.append(path)
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, (*path, k))
        elif isinstance(obj, list):
            for i, v in enumerate(obj[:3]):
                walk(v, (*path, i))

    walk(header, ())
    odd = st.sampled_from([None, -1, 2**70, 1.5, "x", [], {}, [[1]], True, {"t_ns": "no"}])
    return st.tuples(st.sampled_from(paths[1:]), odd, st.booleans())


def _apply(path, value, delete):
    header = json.loads(GOOD_MEMBERS[SF.HEADER])
    obj = header
    for k in path[:-1]:
        obj = obj[k]
    if delete and isinstance(obj, dict):
        del obj[path[-1]]
    else:
        obj[path[-1]] = value
    return json.dumps(header).encode()


NPY_NAMES = sorted(n for n in GOOD_MEMBERS if n.endswith(".npy"))
weird_arrays = st.sampled_from(
    [
        np.zeros(3, np.float64),
        np.zeros((2, 2), np.int64),
        np.array(["a", "b"]),
        np.zeros(0, np.int8),
        np.full(40, 10**6, np.int64),
        np.full(40, -5, np.int32),
        np.zeros(41, np.uint8),
        np.array([1 + 2j]),
        np.zeros(3, [("a", np.int64)]),
    ]
)


@st.composite
def malformed(draw) -> bytes:
    how = draw(st.sampled_from(["bytes", "truncate", "member", "json", "npy", "drop", "raw"]))
    if how == "bytes":  # flip a few bytes anywhere
        data = bytearray(GOOD)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        return bytes(data)
    if how == "truncate":
        return GOOD[: draw(st.integers(0, len(GOOD) - 1))]
    if how == "raw":
        return draw(st.binary(max_size=300))
    members = dict(GOOD_MEMBERS)
    if how == "member":  # a member replaced by random bytes
        members[draw(st.sampled_from(sorted(members)))] = draw(st.binary(max_size=200))
    elif how == "json":
        if draw(st.booleans()):
            members[SF.HEADER] = _apply(*draw(_json_mutations()))
        else:
            text = members[SF.HEADER]
            cut = draw(st.integers(0, len(text) - 1))
            members[SF.HEADER] = text[:cut] + draw(st.binary(max_size=5)) + text[cut + 1 :]
    elif how == "npy":
        members[draw(st.sampled_from(NPY_NAMES))] = _npy(draw(weird_arrays))
    else:
        del members[draw(st.sampled_from(sorted(members)))]
    return _zip(members)


@settings(
    max_examples=1000,
    deadline=1000,  # ms per example: a malformed file is refused quickly, never hangs
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(data=malformed())
def test_malformed_files_are_one_sentence_never_a_traceback(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "fuzz.concviz"
    path.write_bytes(data)
    t = time.perf_counter()
    try:
        session = load_session(path)
    except BadSessionFile as exc:
        text = str(exc)
        assert text and "\n" not in text and text.endswith("."), text
    else:
        # a change that left the file meaning something still gives a usable session
        session.table()
        for run in session.runs:
            run.store.lanes()
    assert time.perf_counter() - t < 1.0


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    members = dict(GOOD_MEMBERS)
    members["runs/0/bars.task.npy"] = _npy(np.zeros(200_000_000, np.uint8))  # 200 MB of zeros
    path = tmp_path / "bomb.concviz"
    path.write_bytes(_zip(members))
    assert path.stat().st_size < 1_000_000
    t = time.perf_counter()
    with pytest.raises(BadSessionFile, match="zip bomb"):
        load_session(path)
    assert time.perf_counter() - t < 0.5


def test_a_pickled_column_is_refused(tmp_path):
    members = dict(GOOD_MEMBERS)
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    members["runs/0/bars.task.npy"] = buf.getvalue()
    path = tmp_path / "pickle.concviz"
    path.write_bytes(_zip(members))
    with pytest.raises(BadSessionFile, match="wrong type"):
        load_session(path)


def test_open_any_refuses_what_it_cannot_open(tmp_path):
    with pytest.raises(BadSessionFile, match="does not exist"):
        open_any(tmp_path / "none.concviz")
    with pytest.raises(BadSessionFile, match="folder"):
        open_any(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    try:
        import concviz.interop.trace_import  # noqa: F401
    except ImportError:
        with pytest.raises(BadSessionFile, match="cannot open traces yet"):
            open_any(text)
