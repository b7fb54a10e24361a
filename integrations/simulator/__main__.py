"""`python -m integrations.simulator SCENARIO --minutes N --seed S [--step S]`."""

import sys

from .runner import main

sys.exit(main())
