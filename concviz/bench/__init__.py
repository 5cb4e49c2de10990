"""``concviz bench NAME [--json] [--quick]``: speed goals measured beside their baselines.

Each benchmark is one module here with ``DESCRIPTION`` and ``run(args) -> dict``;
``REGISTRY`` names them and imports a module only when its benchmark runs (so a
benchmark without Qt never loads Qt).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import json
import sys
from types import ModuleType

from ._common import machine

__all__ = ["REGISTRY", "main", "machine"]

# name -> module; a module that does not exist yet is reported as "not built yet".
REGISTRY: dict[str, str] = {
    "overhead": "concviz.bench.overhead",
    "transport": "concviz.bench.transport",
    "gantt": "concviz.bench.gantt",
    "gui-load": "concviz.bench.gui_load",
    "sampler": "concviz.bench.sampler",
    "startup": "concviz.bench.startup",
    "dispatch": "concviz.bench.dispatch",
    "sync": "concviz.bench.sync",
    "session": "concviz.bench.session",
    "window-cost": "concviz.bench.window_cost",
    "soak": "concviz.bench.soak",
}


class BadArgument(Exception):
    """A benchmark's flag is wrong; the message says which and what to give."""


class NotBuilt(Exception):
    """The benchmark is registered but its module does not exist yet."""


def _load(name: str) -> ModuleType:
    modname = REGISTRY[name]
    if importlib.util.find_spec(modname) is None:
        raise NotBuilt(f"benchmark {name} is not built yet (no module {modname}).")
    return importlib.import_module(modname)


def _description(name: str) -> str:
    """The module's ``DESCRIPTION`` read from its source, without importing it (no Qt)."""
    spec = importlib.util.find_spec(REGISTRY[name])
    if spec is None or not spec.origin:
        return "(not built yet)"
    try:
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return "(description unreadable)"
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "DESCRIPTION" for t in targets):
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    return node.value.value
    return "(no description)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="concviz bench",
        description="Measure a speed goal and its baseline in the same run.",
    )
    p.add_argument("name", nargs="?", help="the benchmark (see --list)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    p.add_argument("--quick", action="store_true", help="a small, fast run (for tests)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument(
        "--only",
        metavar="NAMES",
        help=(
            "dispatch: measure only these engines; overhead: only these strategies "
            "(comma separated)"
        ),
    )
    p.add_argument(
        "--minutes",
        type=_minutes,
        metavar="M",
        help="soak: how long the run lasts (default 10)",
    )
    return p


def _minutes(text: str) -> float:
    """--minutes: a duration a soak can last (a class is 45 minutes; a day is the cap)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not (0 < value <= 24 * 60):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: give minutes above 0 and at most a day (1440)"
        )
    return value


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(name: str, rows: list[dict]) -> list[str]:
    """A list of rows as aligned columns, under its name."""
    cols = list(rows[0])
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    out = [f"  {name}:", "    " + "  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    out += [
        "    " + "  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells
    ]
    return out


def _human(name: str, result: dict) -> str:
    """Each figure, its goal, and its baseline with the ratio between them."""
    figures: dict = result["figures"]
    baselines: dict = result.get("baselines", {})
    goals: dict = result.get("goals", {})
    lines = [f"concviz bench {name}"]
    if result.get("compared"):
        lines.append(f"  compared: {result['compared']}")
    width = max((len(k) for k in figures), default=0)
    for key, value in figures.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.extend(_table(key, value))
            continue
        line = f"  {key:<{width}}  {_fmt(value)}"
        base = baselines.get(key)
        if base is not None and base in figures and figures[base]:
            line += f"   vs {base} {_fmt(figures[base])}: ratio {value / figures[base]:.3f}"
        goal = goals.get(key)
        if goal is not None:
            line += f"   [goal {goal}]"
        lines.append(line)
    for note in result.get("notes", []):
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run ``concviz bench`` with ``argv`` (without the words ``concviz bench``)."""
    args = _parser().parse_args(argv)
    if args.list:
        width = max(len(n) for n in REGISTRY)
        for name in REGISTRY:
            print(f"{name:<{width}}  {_description(name)}")
        return 0
    if args.name is None:
        print(
            "concviz bench: name a benchmark: " + ", ".join(REGISTRY) + " (or --list).",
            file=sys.stderr,
        )
        return 2
    if args.name not in REGISTRY:
        print(
            f"concviz bench: unknown benchmark {args.name!r}; choose one of: "
            + ", ".join(REGISTRY)
            + ".",
            file=sys.stderr,
        )
        return 2
    try:
        module = _load(args.name)
    except NotBuilt as exc:
        print(f"concviz bench: {exc}", file=sys.stderr)
        return 2
    try:
        result = module.run(args)
    except BadArgument as exc:
        print(f"concviz bench: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = {
            "benchmark": args.name,
            "quick": bool(args.quick),
            "figures": result["figures"],
            "machine": machine(),
        }
        for key in ("compared", "goals", "notes", "import"):
            if key in result:
                out[key] = result[key]
        print(json.dumps(out, indent=2))
    else:
        print(_human(args.name, result))
    return 0
