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
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [env_str("CHANNEL_LAYER_URL", _REDIS_URL.rsplit("/", 1)[0] + "/2")],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
