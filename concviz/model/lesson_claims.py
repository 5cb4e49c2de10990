"""The small language a lesson uses to state what its runs must show, and to quote them.

A claim is one line over the step's named runs, parsed here and evaluated without
Python's ``eval``::

    speedup(threads) < 1.3
    speedup(process-pool) > 1 + 0.5 * (machine_parallelism - 1)
    unsafe.lost_updates > 0 and locked.lost_updates == 0

Grammar (``or`` binds loosest)::

    claim   := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | RUN "." FIELD | FUNCTION "(" args ")" | CONSTANT | "(" or ")"

A run's name may hold hyphens (``process-pool``), so a subtraction between two names
needs spaces around its minus. ``speedup(a)`` is ``sequential.wall_s / a.wall_s``,
``speedup(a, b)`` is ``b.wall_s / a.wall_s``; ``min``, ``max`` and ``abs`` take
numbers. The constants are what the machine gives: ``machine_parallelism`` (cores'
worth of CPU two busy processes get right now, ``runtime.parallelism``) and
``cores``. A "what to look for" text quotes the same expressions in braces, with an
optional format: ``threads took {threads.wall_s:.1f} s``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# What a claim may read from a run: the run object's figures, by one name each.
FIELDS: dict[str, str] = {
    "wall_s": "wall time of the run, in seconds",
    "cpu_s": "CPU time of the tasks, in seconds",
    "parallelism": "CPU time over wall time",
    "tasks_ok": "tasks that ended well",
    "lost_updates": "shared-counter: updates lost to the race",
    "expected_updates": "shared-counter: updates the tasks made",
    "deadlocked": "1 when the run ended in a deadlock, else 0",
    "critical_path_s": "a task graph's longest chain of dependent tasks, in seconds",
    "wait_s": "time the tasks waited on shared objects (locks, queues...), in seconds",
    "lock_wait_s": "time the tasks waited on locks, in seconds",
    "queue_wait_s": "time the tasks waited on queues, in seconds",
    "loop_lag_ms": "asyncio: the longest the event loop ran one coroutine without yielding",
    "machine_busy_cores": "cores other programs used during the run",
    "startup_s": "a pool's or an engine's start-up, shown apart from the wall time, in seconds",
}
CONSTANTS = ("machine_parallelism", "cores")
FUNCTIONS = {"speedup": (1, 2), "min": (2, 2), "max": (2, 2), "abs": (1, 1)}
BASELINE = "sequential"  # the run ``speedup(a)`` divides by
COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")


class BadClaim(Exception):
    """A claim or quote that is not in the language (one sentence)."""


class Missing(Exception):
    """A value the claim needs is not there: a run that did not happen, a figure it lacks."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*)"
    r"|(?P<op><=|>=|==|!=|[<>+\-*/().,]))"
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise BadClaim(f"{text[pos : pos + 12]!r} is not part of the claim language")
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()


@dataclass
class Node:
    """One parsed expression; ``text`` is its source, ``kind`` what it computes."""

    op: str
    args: list = field(default_factory=list)
    value: object = None
    text: str = ""

    @property
    def is_bool(self) -> bool:
        return self.op in COMPARISONS or self.op in ("and", "or", "not")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise BadClaim(f"the claim ends too early{f' (expected {value!r})' if value else ''}")
        if value is not None and tok[1] != value:
            raise BadClaim(f"expected {value!r} but found {tok[1]!r}")
        self.i += 1
        return tok

    def at(self, *values: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] in ("op", "name") and tok[1] in values

    def _span(self, start_tok: int) -> str:
        a = self.toks[start_tok][2]
        last = self.toks[self.i - 1]
        return self.text[a : last[2] + len(last[1])]

    def parse(self) -> Node:
        if not self.toks:
            raise BadClaim("the claim is empty")
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            raise BadClaim(f"unexpected {tok[1]!r} after {node.text!r}")
        return node

    def _binary(self, ops: tuple[str, ...], sub: Callable[[], Node]) -> Node:
        start = self.i
        left = sub()
        while self.at(*ops):
            op = self.take()[1]
            right = sub()
            left = Node(op, [left, right], text=self._span(start))
        return left

    def or_(self) -> Node:
        return self._binary(("or",), self.and_)

    def and_(self) -> Node:
        return self._binary(("and",), self.not_)

    def not_(self) -> Node:
        if self.at("not"):
            start = self.i
            self.take()
            inner = self.not_()
            return Node("not", [inner], text=self._span(start))
        return self.compare()

    def compare(self) -> Node:
        start = self.i
        left = self.sum_()
        if self.at(*COMPARISONS):
            op = self.take()[1]
            right = self.sum_()
            if self.at(*COMPARISONS):
                raise BadClaim("chain comparisons with 'and' (a < b and b < c), not a < b < c")
            return Node(op, [left, right], text=self._span(start))
        return left

    def sum_(self) -> Node:
        return self._binary(("+", "-"), self.product)

    def product(self) -> Node:
        return self._binary(("*", "/"), self.unary)

    def unary(self) -> Node:
        if self.at("-"):
            start = self.i
            self.take()
            inner = self.unary()
            return Node("neg", [inner], text=self._span(start))
        return self.atom()

    def atom(self) -> Node:
        start = self.i
        kind, value, _ = self.take()
        if kind == "num":
            return Node("num", value=float(value), text=value)
        if kind == "op" and value == "(":
            inner = self.or_()
            self.take(")")
            inner.text = self._span(start)
            return inner
        if kind != "name" or value in ("and", "or", "not"):
            raise BadClaim(f"expected a number, a run's figure or a function, not {value!r}")
        if self.at("("):
            if value not in FUNCTIONS:
                raise BadClaim(
                    f"{value}() is not a claim function; there are {', '.join(FUNCTIONS)}"
                )
            self.take("(")
            args = [self._arg(value)]
            while self.at(","):
                self.take(",")
                args.append(self._arg(value))
            self.take(")")
            low, high = FUNCTIONS[value]
            if not low <= len(args) <= high:
                raise BadClaim(
                    f"{value}() takes {low if low == high else f'{low} or {high}'} "
                    f"argument{'s' if high > 1 else ''}, not {len(args)}"
                )
            return Node("call", args, value=value, text=self._span(start))
        if self.at("."):
            self.take(".")
            kind2, fld, _ = self.take()
            if kind2 != "name" or fld not in FIELDS:
                raise BadClaim(f"{value}.{fld} names no figure; a run has {', '.join(FIELDS)}")
            return Node("field", value=(value, fld), text=self._span(start))
        if value in CONSTANTS:
            return Node("const", value=value, text=value)
        raise BadClaim(
            f"{value!r} is neither a run's figure (write {value}.wall_s) nor a constant "
            f"({', '.join(CONSTANTS)})"
        )

    def _arg(self, fn: str) -> Node:
        if fn == "speedup":  # takes runs by name, not numbers
            kind, value, _ = self.take()
            if kind != "name":
                raise BadClaim(f"speedup() takes the names of runs, not {value!r}")
            return Node("run", value=value, text=value)
        node = self.sum_()
        return node


def parse_claim(text: str) -> Node:
    """A claim (true or false) as a tree; BadClaim saying what is wrong."""
    node = _Parser(text).parse()
    if not node.is_bool:
        raise BadClaim(f"{text.strip()!r} is a number, not a claim: compare it (with < or >)")
    _check_kinds(node)
    return node


def parse_value(text: str) -> Node:
    """A number-valued expression (a quote in a text template); BadClaim otherwise."""
    node = _Parser(text).parse()
    if node.is_bool:
        raise BadClaim(f"{text.strip()!r} is a claim, not a number to quote")
    _check_kinds(node)
    return node


def _check_kinds(node: Node) -> None:
    """Comparisons take numbers, and/or/not take claims."""
    if node.op in ("and", "or", "not"):
        for a in node.args:
            if not a.is_bool:
                raise BadClaim(f"{a.text!r} is a number: '{node.op}' joins claims")
    elif node.op in COMPARISONS or node.op in ("+", "-", "*", "/", "neg", "call"):
        for a in node.args:
            if a.is_bool:
                raise BadClaim(f"{a.text!r} is a claim, not a number")
    for a in node.args:
        _check_kinds(a)


def runs_named(node: Node) -> set[str]:
    """The run names an expression reads (``speedup(a)`` reads ``a`` and ``sequential``)."""
    out: set[str] = set()
    if node.op == "field":
        out.add(node.value[0])
    elif node.op == "run":
        out.add(node.value)
    elif node.op == "call" and node.value == "speedup" and len(node.args) == 1:
        out.add(BASELINE)
    for a in node.args:
        out |= runs_named(a)
    return out


def constants_named(node: Node) -> set[str]:
    out = {node.value} if node.op == "const" else set()
    for a in node.args:
        out |= constants_named(a)
    return out


def figure(run: Mapping, name: str) -> float:
    """One named figure of a run object (``FIELDS``); Missing when the run has none."""
    if name == "deadlocked":
        return 1.0 if run.get("deadlock") else 0.0
    if name == "tasks_ok":
        return float(sum(1 for t in run.get("tasks") or [] if t.get("ok")))
    if name in ("lost_updates", "expected_updates"):
        counter = run.get("counter") or {}
        key = "lost_updates" if name == "lost_updates" else "expected"
        value = counter.get(key)
    elif name in ("wait_s", "lock_wait_s", "queue_wait_s"):
        kind = {"wait_s": None, "lock_wait_s": "lock", "queue_wait_s": "queue"}[name]
        value = sum(
            float(w.get("total_s") or 0.0)
            for w in run.get("waits") or []
            if kind is None or w.get("kind") == kind
        )
    else:
        value = run.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise Missing(f"the run has no {name}")
    return float(value)


Runs = Mapping[str, Mapping]


def _number(node: Node, runs: Runs, constants: Mapping[str, float]) -> float:
    op = node.op
    if op == "num":
        return float(node.value)
    if op == "const":
        if node.value not in constants:
            raise Missing(f"{node.value} was not measured")
        return float(constants[node.value])
    if op == "field":
        name, fld = node.value
        if name not in runs:
            raise Missing(f"no run {name}")
        try:
            return figure(runs[name], fld)
        except Missing:
            raise Missing(f"run {name} has no {fld}") from None
    if op == "neg":
        return -_number(node.args[0], runs, constants)
    if op == "call":
        fn = node.value
        if fn == "speedup":
            names = [a.value for a in node.args]
            base = names[1] if len(names) == 2 else BASELINE
            for n in (names[0], base):
                if n not in runs:
                    raise Missing(f"no run {n}")
            top = figure(runs[base], "wall_s")
            bottom = figure(runs[names[0]], "wall_s")
            if bottom <= 0:
                raise Missing(f"run {names[0]} took no time")
            return top / bottom
        vals = [_number(a, runs, constants) for a in node.args]
        return {"min": min, "max": max, "abs": lambda v: abs(v)}[fn](*vals)
    a, b = (_number(x, runs, constants) for x in node.args)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise Missing(f"{node.args[1].text} is 0")
        return a / b
    raise AssertionError(f"not a number: {op}")


def value(node: Node, runs: Runs, constants: Mapping[str, float]) -> float:
    """A number-valued expression over named run objects (Missing when one is lacking)."""
    return _number(node, runs, constants)


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def evaluate(node: Node, runs: Runs, constants: Mapping[str, float]) -> tuple[bool, list[str]]:
    """Whether the claim holds, and its evidence: each comparison with its numbers."""
    op = node.op
    if op == "not":
        held, ev = evaluate(node.args[0], runs, constants)
        return not held, ev
    if op in ("and", "or"):
        lh, le = evaluate(node.args[0], runs, constants)
        rh, re_ = evaluate(node.args[1], runs, constants)
        return (lh and rh) if op == "and" else (lh or rh), le + re_
    a, b = (_number(x, runs, constants) for x in node.args)
    held = {
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
        "==": a == b,
        "!=": a != b,
    }[op]
    sides = [
        x.text if x.op == "num" else f"{x.text} = {_fmt(v)}"
        for x, v in zip(node.args, (a, b), strict=True)
    ]
    return held, [f"{sides[0]} {op} {sides[1]}"]


# ---- quotes in text: "threads took {threads.wall_s:.1f} s"

_FORMAT = re.compile(r"^[<>^]?\d*(?:,)?(?:\.\d+)?[fgde%]?$")


@dataclass
class Quote:
    """One ``{expression:format}`` in a text template."""

    node: Node
    spec: str
    start: int
    end: int


def parse_template(text: str) -> list[Quote]:
    """The quotes in ``text`` (``{{`` and ``}}`` are braces); BadClaim for a bad one."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i : i + 2] in ("{{", "}}"):
            i += 2
            continue
        if c == "}":
            raise BadClaim("a '}' without its '{' (write }} for a brace)")
        if c == "{":
            end = text.find("}", i)
            if end < 0:
                raise BadClaim("a '{' without its '}' (write {{ for a brace)")
            inner = text[i + 1 : end]
            expr, _, spec = inner.partition(":")
            if not _FORMAT.match(spec):
                raise BadClaim(f"{spec!r} is not a number format (e.g. .2f, .1%, .3g)")
            out.append(Quote(parse_value(expr), spec, i, end + 1))
            i = end + 1
            continue
        i += 1
    return out


def _fill_line(text: str, runs: Runs, constants: Mapping[str, float]) -> str:
    quotes = parse_template(text)
    out, pos = [], 0
    for q in quotes:
        out.append(text[pos : q.start])
        out.append(format(value(q.node, runs, constants), q.spec or ".3g"))
        pos = q.end
    out.append(text[pos:])
    return "".join(out).replace("{{", "{").replace("}}", "}")


def fill(text: str, runs: Runs, constants: Mapping[str, float]) -> str:
    """``text`` with each quote replaced by its value; a line quoting a value that is
    not there (a run this machine could not make) is left out. Lines join with spaces."""
    kept = []
    for line in text.splitlines():
        try:
            kept.append(_fill_line(line, runs, constants).strip())
        except Missing:
            continue
    return " ".join(k for k in kept if k)
