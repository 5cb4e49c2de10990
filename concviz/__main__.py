"""``python -m concviz``: the same as the ``concviz`` command."""

import sys

from concviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
