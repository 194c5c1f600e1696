"""``python -m apps.telephony.simulator``: run the simulator without Django."""

import sys

from .cli import main

sys.exit(main())
