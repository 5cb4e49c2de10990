"""Running the lab without a window: one batch run into an EventStore (CLI, tests, benches)."""

from __future__ import annotations

import json
from collections.abc import Callable

from concviz.lab import protocol as P
from concviz.model.event_store import EventStore

from .lab_process import LabError, LabProcess


class BadInput(Exception):
    """The lab refused the request (a bad parameter); the text is one sentence for the user."""


def as_start(params: P.Start | dict) -> P.Start:
    """The typed start message for ``params``; raises BadInput naming a bad field."""
    if isinstance(params, P.Start):
        return params
    try:
        return P.Start.from_params(params)
    except P.ControlError as exc:
        raise BadInput(str(exc)) from None


def run_batch(
    params: P.Start | dict,
    interpreter: str | None = None,
    lab: LabProcess | None = None,
    store: EventStore | None = None,
    on_json: Callable[[dict], None] | None = None,
) -> EventStore:
    """Start a run with ``params`` (the lab's ``start`` message) and read it to the end.

    Uses ``lab`` when given (left running), else starts and closes a lab of its own.
    Raises BadInput when the parameters are malformed or the lab refuses them,
    LabError when it dies.
    """
    start = as_start(params)  # before a lab is started for nothing
    own = lab is None
    if lab is None:
        lab = LabProcess(interpreter)
        lab.start()
    store = store if store is not None else EventStore()
    if store.hello is None and lab.hello is not None:
        store.add_json(lab.hello)
    try:
        lab.send(start)
        while True:
            frame = lab.read_frame()
            if frame is None:
                raise LabError(lab.died_reason())
            obj = store.add_frame(*frame)
            if obj is None:
                continue
            if on_json is not None:
                on_json(obj)
            if obj.get("type") == "error" and obj.get("cmd") == "start":
                raise BadInput(obj["message"])
            if obj.get("type") == "run_finished":
                return store
    except KeyboardInterrupt:
        lab.send(P.Stop())
        while (frame := lab.read_frame()) is not None:
            obj = store.add_frame(*frame)
            if obj is not None and obj.get("type") == "run_finished":
                break
        return store
    finally:
        if own:
            lab.close()


def query(lab: LabProcess, cmd: str, on_json: Callable[[dict], None] | None = None) -> dict:
    """Ask the lab one question (``strategies``, ``workloads``, ``calibrate``); its answer.

    ``on_json`` sees every other JSON message meanwhile (notices, a refusal).
    """
    lab.send(P.MESSAGES[cmd]())
    while True:
        frame = lab.read_frame()
        if frame is None:
            raise LabError(lab.died_reason())
        kind, payload = frame
        if kind == P.FRAME_JSON:
            obj = json.loads(payload)
            if obj.get("type") == cmd:
                return obj
            if obj.get("type") == "error" and obj.get("cmd") == cmd:
                raise BadInput(str(obj.get("message")))
            if on_json is not None:
                on_json(obj)
