"""``concviz lessons``: the list, one small lesson checked for real, and bad input.

In-process (``cli.main``): the lab is a process of its own anyway, and an interpreter
started per call would cost more than the commands themselves.
"""

from __future__ import annotations

import json

from concviz.cli import main
from concviz.runtime.lessons import lessons_dir


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["lessons", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_lessons_lists_them_in_order(capsys):
    code, out, err = _cli(capsys, "--json")
    assert code == 0, err
    lessons = json.loads(out)["lessons"]
    names = [x["name"] for x in lessons]
    assert names[0] == "concurrency-vs-parallelism" and "deadlock" in names
    assert all(x["title"] and x["summary"] and x["steps"] >= 1 for x in lessons)
    code, out, _ = _cli(capsys)
    assert code == 0 and "Race conditions and locks" in out


def test_check_one_small_lesson_runs_it_and_its_claims_hold(capsys, tmp_path):
    # race-conditions: two runs of 4 tasks of 20 ms; its claims need no free core
    record = tmp_path / "rec"
    code, out, err = _cli(capsys, "check", "race-conditions", "--json", "--record", str(record))
    assert code == 0, err
    (lesson,) = json.loads(out)["lessons"]
    assert lesson["name"] == "race-conditions"
    claims = {c["text"]: c for c in lesson["claims"]}
    assert set(claims) == {"unsafe.lost_updates > 0", "locked.lost_updates == 0"}
    assert all(c["held"] is True for c in claims.values()), claims
    assert claims["locked.lost_updates == 0"]["evidence"] == "locked.lost_updates = 0 == 0"
    (step,) = lesson["steps"]
    assert set(step["runs"]) == {"unsafe", "locked"}
    assert "Without a lock" in step["look"] and "{" not in step["look"]
    assert "2 claims held, 0 failed, 0 skipped" in err
    # the step held, so it was recorded: a session of its two runs, named as the lesson
    # names them, that reopens with the lost updates it showed
    from concviz.interop.session_file import load_session

    assert step["recorded"] == str(record / "race-conditions-1.concviz")
    session = load_session(step["recorded"])
    assert [r.name for r in session.runs] == [
        "unsafe · race-conditions 1",
        "locked · race-conditions 1",
    ]
    from concviz.model.lesson_claims import figure

    unsafe, locked = (r.result for r in session.runs)
    assert figure(unsafe, "lost_updates") > 0 and figure(locked, "lost_updates") == 0


def test_record_without_check_is_one_sentence_and_exit_2(capsys, tmp_path):
    code, _, err = _cli(capsys, "--record", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "--record goes with check" in err
    (tmp_path / "file").write_text("")
    code, _, err = _cli(capsys, "check", "race-conditions", "--record", str(tmp_path / "file"))
    assert code == 2 and err.count("\n") == 1 and "is not a folder" in err


def test_a_bad_name_is_one_sentence_and_exit_2(capsys):
    code, _, err = _cli(capsys, "check", "no-such-lesson")
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "there is no lesson 'no-such-lesson'" in err and "deadlock" in err


def test_a_bad_lesson_file_is_one_sentence_naming_it_and_exit_2(tmp_path, capsys):
    text = (lessons_dir() / "deadlock.md").read_text()
    (tmp_path / "deadlock.md").write_text(text)
    (tmp_path / "broken.md").write_text(text.replace("order: 80", "order: soon"))
    for args in (("--dir", str(tmp_path)), ("check", "deadlock", "--dir", str(tmp_path))):
        code, _, err = _cli(capsys, *args)
        assert code == 2
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "broken.md" in err and "order must be a whole number" in err
    code, _, err = _cli(capsys, "--dir", str(tmp_path / "nowhere"))
    assert code == 2 and "is not a folder" in err
