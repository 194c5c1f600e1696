"""Routing tunables, read from Django settings with documented defaults.

None of these needs to be set; a deployment overrides one by defining the same name in its settings.
"""

from __future__ import annotations

from django.conf import settings

# One point of effective priority per this many seconds of waiting. One global rate (not per
# queue) keeps the waiting line orderable by a single stored key (see priority.rank_at).
AGING_SECONDS_PER_POINT_DEFAULT = 2.0
# Ringing offers whose command.failed event was lost are timed out by the sweep after this grace.
RONA_GRACE_SECONDS_DEFAULT = 3
# A callback whose customer did not answer is tried again after this delay.
CALLBACK_RETRY_SECONDS_DEFAULT = 120
# Handle times of this many most recent calls give a queue's average handle time.
AHT_SAMPLE_SIZE_DEFAULT = 50
# Position and estimated-wait caches of waiting calls are refreshed at most this often.
EWT_REFRESH_SECONDS_DEFAULT = 5
# A customer's previous agent is looked up this far back for the sticky strategy.
STICKY_LOOKBACK_DAYS_DEFAULT = 30
# Dial string of an agent's endpoint; FreeSWITCH resolves user/<extension> through the directory.
AGENT_DIAL_STRING_DEFAULT = "user/{extension}@{domain}"
# Dial string of a customer called back.
CUSTOMER_DIAL_STRING_DEFAULT = "loopback/{number}/default"
# Dialplan extension (XML, context "default") that takes a caller to a mailbox.
VOICEMAIL_DESTINATION_DEFAULT = "voicemail-{mailbox}"


def aging_seconds_per_point() -> float:
    return float(
        getattr(settings, "ROUTING_AGING_SECONDS_PER_POINT", AGING_SECONDS_PER_POINT_DEFAULT)
    )


def rona_grace_seconds() -> int:
    return int(getattr(settings, "ROUTING_RONA_GRACE_SECONDS", RONA_GRACE_SECONDS_DEFAULT))


def callback_retry_seconds() -> int:
    return int(getattr(settings, "ROUTING_CALLBACK_RETRY_SECONDS", CALLBACK_RETRY_SECONDS_DEFAULT))


def aht_sample_size() -> int:
    return int(getattr(settings, "ROUTING_AHT_SAMPLE_SIZE", AHT_SAMPLE_SIZE_DEFAULT))


def ewt_refresh_seconds() -> int:
    return int(getattr(settings, "ROUTING_EWT_REFRESH_SECONDS", EWT_REFRESH_SECONDS_DEFAULT))


def sticky_lookback_days() -> int:
    return int(getattr(settings, "ROUTING_STICKY_LOOKBACK_DAYS", STICKY_LOOKBACK_DAYS_DEFAULT))


def agent_dial_string() -> str:
    return str(getattr(settings, "ROUTING_AGENT_DIAL_STRING", AGENT_DIAL_STRING_DEFAULT))


def customer_dial_string() -> str:
    return str(getattr(settings, "ROUTING_CUSTOMER_DIAL_STRING", CUSTOMER_DIAL_STRING_DEFAULT))


def voicemail_destination() -> str:
    return str(getattr(settings, "ROUTING_VOICEMAIL_DESTINATION", VOICEMAIL_DESTINATION_DEFAULT))


# The customer's phone rings this long when called back.
CALLBACK_DIAL_TIMEOUT_DEFAULT = 30
# Played to a caller offered a callback ("press 1 to be called back, keeping your place").
CALLBACK_PROMPT_DEFAULT = "ivr/ivr-press_one_for_callback.wav"
# Played to a caller who accepted a callback before they are released.
CALLBACK_CONFIRMATION_DEFAULT = "ivr/ivr-thank_you.wav"


def callback_dial_timeout_seconds() -> int:
    return int(getattr(settings, "ROUTING_CALLBACK_DIAL_TIMEOUT", CALLBACK_DIAL_TIMEOUT_DEFAULT))


def callback_prompt() -> str:
    return str(getattr(settings, "ROUTING_CALLBACK_PROMPT", CALLBACK_PROMPT_DEFAULT))


def callback_confirmation() -> str:
    return str(getattr(settings, "ROUTING_CALLBACK_CONFIRMATION", CALLBACK_CONFIRMATION_DEFAULT))


# Redis holding the router events (events.py); defaults to the cache's Redis.
def events_redis_url() -> str:
    default = settings.CACHES["default"].get("LOCATION") or "redis://127.0.0.1:6379/0"
    return str(getattr(settings, "ROUTING_EVENTS_REDIS_URL", default))


# Most events a router process decides on in one turn (one transaction).
ROUTER_BATCH_DEFAULT = 64


def router_batch() -> int:
    return int(getattr(settings, "ROUTING_ROUTER_BATCH", ROUTER_BATCH_DEFAULT))
