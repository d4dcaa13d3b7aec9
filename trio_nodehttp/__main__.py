"""``python -m trio_nodehttp``: the command line (DESIGN §9; see ``_cli``)."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
