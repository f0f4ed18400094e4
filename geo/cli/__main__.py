"""``python -m geo.cli`` runs the servicecircle command line (as ``python -m geo`` does)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
