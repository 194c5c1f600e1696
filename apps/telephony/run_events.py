"""Entry point of the telephony event process: gevent patches the standard library first.

``manage.py telephony_events`` re-executes itself through this module when gevent is not yet
patched: patching must happen before Django, psycopg or the channel layer import socket,
threading or ssl, which manage.py has already done by the time a command runs.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "telephony_events", *sys.argv[1:]])


if __name__ == "__main__":
    main()
