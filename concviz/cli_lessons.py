"""``concviz lessons``: the guided lessons, listed, and checked against this machine.

    concviz lessons [--json]                 the lessons, in order
    concviz lessons check [NAME] [--json]    run every step's experiment; did each claim hold?
    concviz lessons check [NAME] --record DIR   and save each step that held as a recording

``check`` exits 0 when every claim held or was skipped (a strategy missing here,
named), 1 when one did not, 2 for a bad lesson file or a lesson that does not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("lessons", help="the guided lessons; `lessons check` runs their claims")
    p.add_argument("action", nargs="?", choices=("check",), help="check: run and judge")
    p.add_argument("name", nargs="?", help="check only this lesson (see `concviz lessons`)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--dir", metavar="FOLDER", help="read the lessons from this folder (default: shipped)"
    )
    p.add_argument("--interpreter", metavar="PATH", help="run the lab under this Python")
    p.add_argument(
        "--record",
        metavar="FOLDER",
        help="check: save each step whose claims all held as FOLDER/LESSON-STEP.concviz "
        "(the recordings a lesson offers when a machine cannot show its point)",
    )


def _load(args: argparse.Namespace):
    from concviz.cli import UsageError
    from concviz.model.lessons import BadLesson
    from concviz.runtime.lessons import find, load_checked

    folder = Path(args.dir) if args.dir else None
    if folder is not None and not folder.is_dir():
        raise UsageError(f"concviz lessons: --dir {args.dir} is not a folder")
    try:
        lessons = load_checked(folder)
        if args.name:
            lessons = [find(lessons, args.name)]
    except BadLesson as exc:
        raise UsageError(f"concviz lessons: {exc}") from None
    return lessons


def cmd_lessons(args: argparse.Namespace) -> int:
    from concviz.cli import UsageError

    if args.record and args.action != "check":
        raise UsageError("concviz lessons: --record goes with check (lessons check --record DIR)")
    if args.name and args.action != "check":
        raise UsageError("concviz lessons: a lesson's name goes after check (lessons check NAME)")
    lessons = _load(args)
    if args.action == "check":
        return _check(args, lessons)
    if args.json:
        print(json.dumps({"lessons": [lesson.header() for lesson in lessons]}, indent=2))
        return 0
    width = max([len(lesson.name) for lesson in lessons] + [8])
    for lesson in lessons:
        print(f"  {lesson.name:<{width}}  {lesson.title} — {lesson.summary}")
    print(f"{len(lessons)} lessons; `concviz lessons check NAME` runs one and judges its claims")
    return 0


def _check(args: argparse.Namespace, lessons) -> int:
    from concviz.cli import UsageError
    from concviz.runtime.lessons import check_lessons

    out = sys.stderr if args.json else sys.stdout

    def on_step(lesson, report: dict, claims: list[dict]) -> None:
        print(f"{lesson.name} · step {report['step']}: {report['title']}", file=out)
        if report["look"]:
            print(f"  {report['look']}", file=out)
        for c in claims:
            if c["held"] is None:
                state, why = "skipped", c.get("skipped", "")
            else:
                state, why = ("held" if c["held"] else "FAILED"), c["evidence"]
            print(f"  {state:<8}{c['text']}  — {why}", file=out)
        if report.get("recorded"):
            print(f"  recorded: {report['recorded']}", file=out)
        if report.get("recording") and any(c["held"] is not True for c in claims):
            print(f"  what it shows on a quiet machine: concviz {report['recording']}", file=out)

    record = Path(args.record) if args.record else None
    if record is not None and record.exists() and not record.is_dir():
        raise UsageError(f"concviz lessons: --record {args.record} is not a folder")
    report = check_lessons(lessons, interpreter=args.interpreter, on_step=on_step, record=record)
    if args.json:
        print(json.dumps(report, indent=2))
    claims = [c for lesson in report["lessons"] for c in lesson["claims"]]
    failed = [c for c in claims if c["held"] is False]
    skipped = [c for c in claims if c["held"] is None]
    held = len(claims) - len(failed) - len(skipped)
    print(
        f"{held} claim{'s' if held != 1 else ''} held, {len(failed)} failed, "
        f"{len(skipped)} skipped",
        file=out,
    )
    return 1 if failed else 0
