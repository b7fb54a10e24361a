"""`python -m hub` is `bms-hub`."""

import sys

from hub.cli import main

sys.exit(main())
