"""`python -m integrations.bacnet ARGS`: the simulator, like `bms-hub simulate bacnet ARGS` (no install)."""

import sys

from .simulator import main

sys.exit(main(sys.argv[1:]))
