"""The bench front end: JSON figures, the registry, and clear refusals (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from concviz.bench import REGISTRY, main


def test_overhead_quick_json_has_the_figures(capsys):
    assert main(["overhead", "--json", "--quick"]) == 0
    out = json.loads(capsys.readouterr().out)
    figures = out["figures"]
    for name in (
        "overhead_ratio_thread_pool",
        "overhead_ratio_process_pool",
        "record_ns_per_event",
    ):
        assert isinstance(figures[name], (int, float)) and figures[name] > 0
    # the instrumented lock beside a bare threading.Lock, measured in the same run
    assert figures["bare_lock_pair_ns"] > 0 and figures["sync_lock_pair_ns"] > 0
    assert figures["sync_ns_per_uncontended_pair"] == pytest.approx(
        figures["sync_lock_pair_ns"] - figures["bare_lock_pair_ns"], abs=0.2
    )
    assert {"cpu_count", "python", "platform"} <= out["machine"].keys()
    # the table: each strategy measured at each task size, three sides and their ratios
    table = figures["table"]
    assert {(r["strategy"], r["task_ms"]) for r in table} == {
        (s, t) for s in ("thread-pool", "process-pool") for t in (0.05, 0.2, 2.0)
    }
    for row in table:
        for key in ("bare_s", "same_dispatch_s", "recorded_s", "wall_ratio", "user_ratio"):
            assert row[key] > 0, (row, key)
        assert row["wall_ratio"] == pytest.approx(
            row["recorded_s"] / row["same_dispatch_s"], rel=0.01
        )
        assert row["spread"] >= 0 and row["frames_per_1k_tasks"] > 0


def test_overhead_only_an_unknown_strategy_is_one_sentence_and_exit_2(capsys):
    assert main(["overhead", "--only", "no-such-strategy"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no-such-strategy" in err and "\n" not in err and "Traceback" not in err


def test_transport_quick_json_has_the_figures(capsys):
    assert main(["transport", "--json", "--quick"]) == 0
    figures = json.loads(capsys.readouterr().out)["figures"]
    assert figures["events_per_s"] > 0
    assert figures["baseline_mp_queue_events_per_s"] > 0


def test_unknown_benchmark_is_one_sentence_and_exit_2(capsys):
    assert main(["no-such-bench"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown benchmark 'no-such-bench'" in err and "\n" not in err
    assert "Traceback" not in err


def test_registered_but_missing_module_says_not_built(capsys, monkeypatch):
    monkeypatch.setitem(REGISTRY, "ghost", "concviz.bench.ghost_not_here")
    assert main(["ghost"]) == 2
    assert "benchmark ghost is not built yet" in capsys.readouterr().err


def test_list_names_every_benchmark_without_importing_them(capsys):
    import sys

    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in REGISTRY:
        assert name in out
    assert "concviz.bench.gantt" not in sys.modules or "PySide6" in sys.modules


def test_bad_flag_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["overhead", "--frobnicate"])
    assert exc.value.code == 2


@pytest.mark.parametrize("minutes", ["-3", "0", "nan", "inf", "1e9"])
def test_a_soak_of_no_duration_is_one_sentence_and_exit_2(capsys, minutes):
    """A negative, zero or endless soak was run as a zero-minute one and reported."""
    with pytest.raises(SystemExit) as exc:
        main(["soak", f"--minutes={minutes}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "is not a duration" in err and "Traceback" not in err


def test_dispatch_quick_measures_an_engine_beside_both_baselines(capsys):
    from concviz.lab.lab import strategies_info

    if not {s["name"]: s for s in strategies_info()}["joblib-threads"]["available"]:
        pytest.skip("joblib is not installed (pip install 'concviz[joblib]')")
    assert main(["dispatch", "--json", "--quick", "--only", "joblib-threads"]) == 0
    figures = json.loads(capsys.readouterr().out)["figures"]
    for key in (
        "dispatch_us_thread_pool",
        "dispatch_us_process_pool",
        "dispatch_us_joblib_threads",
        "startup_s_joblib_threads",
    ):
        assert figures[key] > 0, key


def test_session_quick_json_has_the_figures(capsys):
    assert main(["session", "--json", "--quick"]) == 0
    out = json.loads(capsys.readouterr().out)
    figures = out["figures"]
    for name in ("save_s_1m_50k", "open_s_1m_50k", "open_cpu_s_1m_50k", "bytes_per_task"):
        assert figures[name] > 0
    assert figures["bytes_per_task"] < 40  # the file really is compact, not a goal timing
    try:
        import concviz.interop.trace_import  # noqa: F401
    except ImportError:
        assert out["import"] == "trace_import not available"
