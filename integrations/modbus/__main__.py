"""`python -m integrations.modbus ...` is `bms-hub simulate modbus ...`."""

import sys

from .simulator import main

sys.exit(main(sys.argv[1:]))
