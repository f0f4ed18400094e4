"""``python -m geo`` runs the servicecircle command line."""

import sys

from .cli import main

sys.exit(main())
