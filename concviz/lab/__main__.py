"""``python -m concviz.lab``: run the lab process (see ``lab.lab``)."""

# No ``from __future__ import annotations`` here: this file must parse under any
# Python, so that an old one is refused in one sentence rather than a SyntaxError.
import sys

MIN_PYTHON = (3, 10)  # protocol.MIN_PYTHON; that module does not parse on old Pythons

if __name__ == "__main__":
    if sys.version_info < MIN_PYTHON:
        sys.stderr.write(
            # str.format, not an f-string: Pythons before 3.6 must parse this file too
            "the lab needs Python {}.{} or newer; this is Python {}.{}.{}\n".format(
                *(MIN_PYTHON + tuple(sys.version_info[:3]))
            )
        )
        sys.exit(2)
    from concviz.lab.lab import main

    sys.exit(main())
