"""Channels: the Redis channel layer.

In-memory only where Redis is truly absent (the demo says so).
"""

from apps.core.env import env_str

_REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYER_BACKEND = env_str("CHANNEL_LAYER_BACKEND", "redis")

if CHANNEL_LAYER_BACKEND == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.core.channel_layer.PipelinedRedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": env_str(
                            "CHANNEL_LAYER_URL", _REDIS_URL.rsplit("/", 1)[0] + "/2"
                        ),
                        # Above channels_redis's 5 s BZPOPMIN: redis-py's default 5 s read
                        # timeout would kill an idle consumer's receive loop.
                        "socket_timeout": 15,
                    }
                ],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
