"""`python -m helpers prepare`: convert the embedded model once (the set-up scripts call it)."""

import sys

from .models import _main

raise SystemExit(_main(sys.argv[1:]))
