"""What the user's code prints reaches the terminal and the JSON, named by task, capped."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("strategy", ["threads", "process-pool"])
def test_each_printed_line_names_its_task_and_worker(tmp_path, strategy, run_cli):
    f = tmp_path / "talk.py"
    f.write_text("def talk(i):\n    print(f'hello {i}')\n    print('a', 'b', end='')\n"
                 "    print(' c')\n")  # fmt: skip
    done, run = run_cli("-w", f"{f}:talk", "-s", strategy, "-n", "2", "--tasks", "4")
    lines = run["output"]["lines"]
    assert sorted(lines) == sorted(
        [f"[task {i} · worker {w}] {text}" for i, w in _workers(run) for text in
         (f"hello {i}", "a b c")]
    )  # fmt: skip
    assert run["output"]["dropped"] == 0
    assert "program output (8 lines):" in done.stdout
    assert "[task 3 · worker" in done.stdout


def _workers(run: dict) -> list[tuple[int, int]]:
    return [(t["id"], t["worker"] + 1) for t in run["tasks"]]


def test_a_flood_is_capped_with_a_count_and_no_output_hides_it(tmp_path, run_cli):
    f = tmp_path / "flood.py"
    f.write_text("def flood(i):\n    for k in range(2000):\n        print(k)\n")
    done, run = run_cli("-w", f"{f}:flood", "-s", "sequential", "--tasks", "4")
    assert len(run["output"]["lines"]) == 1000
    assert run["output"]["dropped"] == 7000
    assert "program output (8000 lines):" in done.stdout
    assert "… 7800 more lines" in done.stdout
    assert len(done.stdout.splitlines()) < 260
    quiet, _ = run_cli("-w", f"{f}:flood", "-s", "sequential", "--tasks", "4",
                    "--no-output")  # fmt: skip
    assert "program output" not in quiet.stdout
