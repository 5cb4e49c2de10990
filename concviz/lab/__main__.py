"""``python -m concviz.lab``: run the lab process (see ``lab.lab``)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from concviz.lab.lab import main

    sys.exit(main())
