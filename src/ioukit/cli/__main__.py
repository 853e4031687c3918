"""``python -m ioukit.cli``: the same as the ``ioukit`` script."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
