"""Production profile: every secret from the environment; refuses to start with insecure values."""

from django.core.exceptions import ImproperlyConfigured

from apps.core.env import env_bool, env_int, env_json, env_required
from callcenter.settings.base import *
from callcenter.settings.base import DEV_SECRET_KEY
from callcenter.settings.security import assert_production_secrets

DEBUG = False
SECRET_KEY = env_required("SECRET_KEY")
FIELD_ENCRYPTION_KEY = env_required("FIELD_ENCRYPTION_KEY")
env_required("DATABASE_URL")
env_required("REDIS_URL")
env_required("ALLOWED_HOSTS")
if SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is the public development key.")
assert_production_secrets()
FREESWITCH_NODES = env_json("FREESWITCH_NODES", [])
FREESWITCH_XML_PASSWORD = env_required("FREESWITCH_XML_PASSWORD")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
