"""Settings of the suite's processes in browser tests (and bench/screen_pop.py): the test
profile, with the channel layer configured as in production (callcenter/settings/channels.py:
capacity 1,500 messages per process channel, 30 s expiry) and one fix.

channels_redis 4.3 waits up to 5 s in BZPOPMIN for a consumer's next message while redis-py 8
gives up reading a socket after 5 s by default (socket_timeout), so an idle consumer's receive
loop dies with "Timeout reading from 127.0.0.1:6379" and its WebSocket closes. A socket timeout
above the blocking time avoids that (requested for callcenter/settings as well).
"""

import os

from callcenter.settings.test import *  # noqa: F403
from callcenter.settings.test import CHANNEL_LAYERS

CHANNEL_LAYERS = {
    "default": {
        **CHANNEL_LAYERS["default"],
        "CONFIG": {
            **CHANNEL_LAYERS["default"]["CONFIG"],
            "capacity": 1500,
            "expiry": 30,
            "hosts": [
                {"address": host, "socket_timeout": 15}
                for host in CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
            ],
        },
    }
}

# The bench can slow the queue statistics down to see what their fan-out costs.
CONSOLE_QUEUE_STATS_INTERVAL = float(os.environ.get("CONSOLE_QUEUE_STATS_INTERVAL", "1.0"))
