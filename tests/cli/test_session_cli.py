"""``--save``, ``concviz info``, ``concviz export`` and ``concviz FILE`` on session files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from concviz.cli import main
from concviz.interop.session_file import load_session

RUN = ["-w", "io-sleep", "--tasks", "4", "--task-ms", "5", "-n", "2"]


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """``concviz compare … --json … --save``: three real runs in one session file."""
    folder = tmp_path_factory.mktemp("compare")
    path, out = folder / "c.concviz", folder / "c.json"
    done = _cli("compare", *RUN, "-s", "threads,asyncio", "--json", str(out), "--save", str(path))
    assert done.returncode == 0, done.stderr
    assert f"session saved to {path}" in done.stdout
    return path, json.loads(out.read_text()), done.stdout


def test_compare_save_holds_every_run_and_keeps_its_output(compared):
    path, runs, stdout = compared
    assert "strategy" in stdout and "speedup" in stdout  # the table is still printed
    session = load_session(path)
    assert [r.strategy for r in session.runs] == ["sequential", "threads", "asyncio"]
    for run, printed in zip(session.runs, runs, strict=True):
        saved = {k: v for k, v in printed.items() if k not in ("speedup", "efficiency")}
        assert run.result == saved  # what --json wrote, less compare's own two columns
        assert run.spec.workload == "io-sleep" and run.spec.tasks == 4
        assert run.cpu.cores > 0 and len(run.cpu.t_ns) == len(run.cpu.percent)
    # the session finds the sequential run as the others' baseline, as compare did
    table = session.table()
    assert table[1]["speedup"] == pytest.approx(runs[1]["speedup"])


def test_info_json_and_text(compared, capsys):
    path, runs, _ = compared
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "session"
    assert [r["strategy"] for r in info["runs"]] == ["sequential", "threads", "asyncio"]
    for row, run in zip(info["runs"], runs, strict=True):
        assert set(row) == {"name", "strategy", "workload", "tasks", "rows", "wall_s", "speedup"}
        assert row["tasks"] == 4 and row["wall_s"] == run["wall_s"]
        assert row["rows"] == len({(t["pid"], t["tid"], t["worker"]) for t in run["tasks"]})
    assert info["runs"][1]["speedup"] == pytest.approx(runs[1]["speedup"])
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "a session of 3 runs" in text and "asyncio" in text


def test_export_chrome_puts_every_run_in_its_own_process(compared, tmp_path, capsys):
    path, runs, _ = compared
    out = tmp_path / "all.json"
    assert main(["export", str(path), "--format", "chrome", "-o", str(out)]) == 0
    events = json.loads(out.read_text())["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    session = load_session(path)
    assert sorted(names.values()) == sorted(r.name for r in session.runs)
    for pid, name in names.items():
        run = next(r for r in session.runs if r.name == name)
        tasks = [e for e in events if e["pid"] == pid and e.get("cat") == "task"]
        assert len(tasks) == len(run.result["tasks"])


def test_export_csv_is_the_runs_table(compared, tmp_path):
    path, runs, _ = compared
    out = tmp_path / "runs.csv"
    assert main(["export", str(path), "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["strategy"] for r in rows] == ["sequential", "threads", "asyncio"]
    assert float(rows[2]["wall_s"]) == runs[2]["wall_s"]


def test_run_save_then_info(tmp_path):
    path = tmp_path / "one.concviz"
    done = _cli("run", *RUN, "-s", "threads", "--save", str(path))
    assert done.returncode == 0, done.stderr
    (run,) = load_session(path).runs
    assert run.strategy == "threads" and len(run.result["tasks"]) == 4


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04 not really a zip", b"\x00" * 100, b"{ not json"],
    ids=["empty", "fake-zip", "zeros", "text"],
)
@pytest.mark.parametrize("command", ["info", "export", "open"])
def test_garbage_is_one_line_and_exit_2(tmp_path, capsys, content, command):
    bad = tmp_path / "bad.concviz"
    bad.write_bytes(content)
    argv = {
        "info": ["info", str(bad)],
        "export": ["export", str(bad), "--format", "csv", "-o", str(tmp_path / "x.csv")],
        "open": [str(bad)],  # ``concviz FILE``: refused before any window opens
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("concviz: bad.concviz") and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_garbage_in_a_process_of_its_own_has_no_traceback(tmp_path):
    bad = tmp_path / "garbage.concviz"
    bad.write_bytes(bytes(range(256)) * 10)
    done = _cli("info", str(bad), "--json", timeout=60)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_a_missing_file_is_one_sentence(tmp_path, capsys):
    assert main(["info", str(tmp_path / "gone.concviz")]) == 2
    assert "gone.concviz does not exist" in capsys.readouterr().err


def test_save_to_a_missing_folder_is_refused_before_the_run(tmp_path, capsys):
    assert main(["run", *RUN, "--save", str(tmp_path / "no" / "x.concviz")]) == 2
    assert "--save" in capsys.readouterr().err


def test_concviz_file_opens_the_window_with_it(compared, monkeypatch):
    """``concviz FILE`` hands the file to the window's entry point."""
    import concviz.cli as cli

    path, _, _ = compared
    seen = []
    monkeypatch.setattr(cli, "cmd_window", lambda argv: seen.append(argv) or 0)
    assert main([str(path), "--presentation"]) == 0
    assert seen == [["--open", str(path), "--presentation"]]


def test_the_window_shows_the_files_last_run(compared, qtbot):
    from PySide6.QtCore import QSettings

    from concviz.ui.main_window import MainWindow

    path, runs, _ = compared
    settings = QSettings(str(path.parent / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, start_lab=False)
    qtbot.addWidget(window)
    try:
        assert window.open_session_file(str(path))
        qtbot.waitUntil(lambda: not window.files.busy, timeout=30000)
        store = window.timeline.store
        assert store is window.session.runs[-1].store
        assert store.bar_count >= len(runs[-1]["tasks"])
        assert window.open_session_file(str(path.parent / "missing.concviz"))  # tried...
        qtbot.waitUntil(lambda: not window.files.busy, timeout=30000)
        assert "missing.concviz does not exist" in window.banner.label.text()  # ...refused
        assert window.session.runs[-1].store is store  # and nothing was lost
    finally:
        window.shutdown()
