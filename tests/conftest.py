"""Shared test setup: Qt tests draw offscreen (no display needed), on a 1920×1080 screen."""

from __future__ import annotations

import json
import os
import tempfile

# Qt's offscreen screen is 800×800 unless told otherwise; a full-HD "projector" is what
# presentation mode and the window's layout are meant for.
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    _screen = os.path.join(tempfile.gettempdir(), "concviz-test-screen.json")
    with open(_screen, "w") as f:
        json.dump(
            {
                "screens": [
                    {
                        "name": "test",
                        "x": 0,
                        "y": 0,
                        "width": 1920,
                        "height": 1080,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            },
            f,
        )
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen}"
