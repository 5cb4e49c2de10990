"""Typed control messages: the one parser, and a lab that outlives every malformed line."""

from __future__ import annotations

import json
import math

import pytest

from concviz.lab import protocol as P


def line(**fields) -> bytes:
    return (json.dumps(fields) + "\n").encode()


START = {"cmd": "start", "workload": "io-sleep", "strategy": "threads"}


# ------------------------------------------------------------------ parse_control, good
@pytest.mark.parametrize(
    "message",
    [
        P.Start(workload="io-sleep", strategy="threads"),
        P.Start(
            workload="user",
            user="f.py:work",
            strategy="process-pool",
            workers=3,
            tasks=20,
            task_ms=0,
            serial_fraction=0.5,
            cpu_fraction=1,
            jitter=0.99,
            seed=-7,
            mode="continuous",
            options={"start_method": "spawn", "gil_probe": False, "threads_per_worker": 2},
        ),
        P.Stop(),
        P.Switch(strategy="threads"),
        P.Switch(workers=4),
        P.Switch(strategy="asyncio", workers=1),
        P.Set(switch_interval=0.005),
        P.Set(switch_interval=P.MIN_SWITCH_INTERVAL),
        P.Set(switch_interval=P.MAX_SWITCH_INTERVAL),
        P.Ping(),
        P.Strategies(),
        P.Workloads(),
        P.Quit(),
    ],
)
def test_every_message_survives_its_own_line(message):
    text = message.line()
    assert text.endswith(b"\n") and text.count(b"\n") == 1
    assert P.parse_control(text.rstrip(b"\n")) == message


def test_the_wire_format_is_the_json_the_lab_always_read():
    obj = json.loads(P.Start(workload="io-sleep", strategy="threads", workers=2).line())
    assert obj["cmd"] == "start" and obj["workers"] == 2 and obj["options"] == {}
    assert json.loads(P.Switch(workers=3).line()) == {
        "cmd": "switch",
        "strategy": None,
        "workers": 3,
    }
    # a hand-written line with only some fields gets the defaults
    msg = P.parse_control(line(**START, task_ms=5))
    assert isinstance(msg, P.Start) and msg.task_ms == 5.0 and msg.tasks == 8 and msg.workers == 1


def test_integers_where_a_number_is_wanted_become_floats():
    msg = P.parse_control(line(**START, task_ms=5, cpu_fraction=1))
    assert isinstance(msg.task_ms, float) and isinstance(msg.cpu_fraction, float)


# ------------------------------------------------------------------ parse_control, bad
@pytest.mark.parametrize(
    "fields, field",
    [
        ({**START, "strategy": ["threads"]}, "strategy"),
        ({**START, "strategy": {"name": "threads"}}, "strategy"),
        ({**START, "strategy": None}, "strategy"),
        ({**START, "workload": 3}, "workload"),
        ({**START, "user": 5}, "user"),
        ({**START, "user": ["a.py:f"]}, "user"),
        ({**START, "workers": True}, "workers"),
        ({**START, "workers": 2.0}, "workers"),
        ({**START, "workers": "two"}, "workers"),
        ({**START, "workers": 0}, "workers"),
        ({**START, "workers": 10**6}, "workers"),
        ({**START, "tasks": False}, "tasks"),
        ({**START, "tasks": 0}, "tasks"),
        ({**START, "tasks": 10**12}, "tasks"),
        ({**START, "task_ms": -1}, "task_ms"),
        ({**START, "task_ms": 60_001}, "task_ms"),
        ({**START, "task_ms": 1e308}, "task_ms"),
        ({**START, "task_ms": "10"}, "task_ms"),
        ({**START, "task_ms": True}, "task_ms"),
        ({**START, "serial_fraction": 0.96}, "serial_fraction"),
        ({**START, "cpu_fraction": -0.1}, "cpu_fraction"),
        ({**START, "jitter": 1.0}, "jitter"),
        ({**START, "seed": 1.5}, "seed"),
        ({**START, "seed": True}, "seed"),
        ({**START, "seed": 2**64}, "seed"),
        ({**START, "mode": "forever"}, "mode"),
        ({**START, "mode": ["batch"]}, "mode"),
        ({**START, "options": 5}, "options"),
        ({**START, "options": []}, "options"),
        ({**START, "options": {"start_method": 1}}, "options.start_method"),
        ({**START, "options": {"gil_probe": 0}}, "options.gil_probe"),
        ({**START, "options": {"threads_per_worker": True}}, "options.threads_per_worker"),
        ({**START, "options": {"channel_fd": 1}}, "options.channel_fd"),
        ({**START, "options": {"_strategy": "x"}}, "options._strategy"),
        ({**START, "colour": "red"}, "colour"),
        ({"cmd": "start", "strategy": "threads"}, "workload"),
        ({"cmd": "switch", "strategy": ["threads"]}, "strategy"),
        ({"cmd": "switch", "workers": [2]}, "workers"),
        ({"cmd": "switch", "workers": False}, "workers"),
        ({"cmd": "set"}, "switch_interval"),
        ({"cmd": "set", "switch_interval": 0}, "switch_interval"),
        ({"cmd": "set", "switch_interval": -1}, "switch_interval"),
        ({"cmd": "set", "switch_interval": 1e-9}, "switch_interval"),
        ({"cmd": "set", "switch_interval": 1e300}, "switch_interval"),
        ({"cmd": "set", "switch_interval": "fast"}, "switch_interval"),
        ({"cmd": "set", "gil": "off"}, "gil"),
        ({"cmd": "ping", "extra": 1}, "extra"),
        ({"cmd": "bogus"}, "cmd"),
        ({"cmd": 7}, "cmd"),
        ({"no_cmd": 1}, "cmd"),
    ],
)
def test_a_bad_field_is_named(fields, field):
    with pytest.raises(P.ControlError) as err:
        P.parse_control(line(**fields))
    assert err.value.field == field
    assert field.split(".")[-1] in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("word", ["Infinity", "-Infinity", "NaN"])
def test_json_infinities_are_not_task_sizes(word):
    raw = b'{"cmd":"start","workload":"io-sleep","strategy":"threads","task_ms":' + word.encode()
    with pytest.raises(P.ControlError) as err:
        P.parse_control(raw + b"}")
    assert err.value.field == "task_ms" and "finite" in str(err.value)


def test_a_message_built_in_code_is_checked_too():
    with pytest.raises(P.ControlError):
        P.Start(workload="io-sleep", strategy="threads", task_ms=math.inf)
    with pytest.raises(P.ControlError):
        P.Switch(strategy=["threads"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"start"', "JSON object"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),
        (b'{"cmd": "ping", "x": ' + b"{" * 50 + b"}" * 50 + b"}", "nests deeper"),
        (b"x" * (P.MAX_LINE + 1), "bytes long"),
    ],
)
def test_lines_that_are_not_messages(raw, words):
    with pytest.raises(P.ControlError) as err:
        P.parse_control(raw)
    assert words in str(err.value)


def test_brackets_inside_strings_do_not_count_as_nesting():
    deep_text = "[{" * 1000 + '\\"' + "]}" * 1000
    msg = P.parse_control(
        b'{"cmd":"start","workload":"io-sleep","strategy":"' + deep_text[:4000].encode() + b'"}'
    )
    assert isinstance(msg, P.Start)
    assert P.nesting_depth(b'{"a": "[[[[\\"[[[[", "b": [1]}') == 2


# ------------------------------------------------------------------ a lab under fire
HOSTILE = [
    ("strategy as a list", line(**{**START, "strategy": ["threads"]}), "strategy"),
    ("strategy as a dict", line(**{**START, "strategy": {"a": 1}}), "strategy"),
    ("user as a number", line(**{**START, "workload": "user", "user": 42}), "user"),
    ("switch with a list", line(cmd="switch", strategy=["threads"]), "strategy"),
    ("switch workers as a list", line(cmd="switch", workers=[2]), "workers"),
    (
        "task_ms inf",
        b'{"cmd":"start","workload":"io-sleep","strategy":"threads","task_ms":Infinity}\n',
        "task_ms",
    ),
    ("switch interval huge", line(cmd="set", switch_interval=1e300), "switch_interval"),
    ("100 000 levels of nesting", b"[" * 100_000 + b"]" * 100_000 + b"\n", None),
    ("100 000 levels inside an object", b'{"cmd":' + b"[" * 100_000 + b"\n", None),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, raw, field", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_malformed_line_gets_an_error_naming_the_field_and_ping_still_answers(
    session, name, raw, field
):
    session.send_raw(raw)
    err = session.until_type("error")
    assert err["code"] == "bad_message" and "\n" not in err["message"], err
    if field is not None:
        assert err["field"] == field and field in err["message"], err
    else:
        assert "nests deeper" in err["message"], err
    session.send(P.Ping())
    session.until_type("pong")
    assert session.lab.proc.poll() is None


@pytest.mark.timeout(60)
def test_a_64_mib_line_is_dropped_unread_and_the_lab_goes_on(session):
    import psutil

    chunk = b"x" * (1 << 20)
    for _ in range(64):
        session.send_raw(chunk)
    session.send_raw(b"\n")
    err = session.until_type("error")
    assert "dropped" in err["message"] and str(P.MAX_LINE) in err["message"], err
    # the reader never held the line: far less than 64 MiB more than an idle lab
    rss = psutil.Process(session.lab.pid).memory_info().rss
    assert rss < 48 * (1 << 20), rss
    session.send(P.Ping())
    session.until_type("pong")
    # and a good line right after it is read as itself
    session.send(P.Start(workload="io-sleep", strategy="threads", tasks=2, task_ms=1))
    done = session.until_type("run_finished")
    assert done["ok"], done


@pytest.mark.timeout(60)
def test_a_line_just_under_the_cap_is_parsed_and_one_just_over_is_dropped(session):
    pad = P.MAX_LINE - len(b'{"cmd":"ping","p":""}')
    session.send_raw(b'{"cmd":"ping","p":"' + b" " * pad + b'"}\n')
    err = session.until_type("error")
    assert err["field"] == "p", err  # parsed (and refused for its unknown field)
    session.send_raw(b'{"cmd":"ping","p":"' + b" " * (pad + 1) + b'"}\n')
    err = session.until_type("error")
    assert "dropped" in err["message"], err
    session.send(P.Ping())
    session.until_type("pong")


@pytest.mark.timeout(60)
def test_a_start_refused_for_a_field_is_reported_as_a_refused_start(session):
    session.send_raw(line(**{**START, "workers": "two"}))
    err = session.until_type("error")
    assert err["cmd"] == "start" and err["field"] == "workers", err
