"""`python -m outcrop`: the command line."""

import sys

from outcrop.cli.main import main

sys.exit(main())
