"""Development and demo profile: works with no environment at all."""

import base64
import hashlib

from callcenter.settings.base import *
from callcenter.settings.base import SECRET_KEY

DEBUG = True
if FIELD_ENCRYPTION_KEY is None:
    # Derived so a fresh clone works; the prod profile requires an explicit key.
    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
        hashlib.sha256(("field-key:" + SECRET_KEY).encode()).digest()
    ).decode()
