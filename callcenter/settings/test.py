"""Test profile: real PostgreSQL and Redis, fast password hashing, isolated Redis databases."""

from apps.core.env import env_str
from callcenter.settings.dev import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
_TEST_REDIS = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _TEST_REDIS,
        "KEY_PREFIX": "cc-test",
    }
}
# Each developer (or parallel run) may point tests at its own Redis databases.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "apps.core.channel_layer.PipelinedRedisChannelLayer",
        "CONFIG": {"hosts": [env_str("TEST_CHANNEL_LAYER_URL", "redis://127.0.0.1:6379/10")]},
    }
}
CELERY_BROKER_URL = env_str("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
REST_FRAMEWORK = {**REST_FRAMEWORK}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"client": "100000/min", "anon": "100000/min"}
