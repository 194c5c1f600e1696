"""Transfers out of the IVR go over ESL: the httapi profile may neither dial nor run `transfer`."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def telephony_transfer(*, call_uuid: str, destination: str) -> bool:
    """Request a blind transfer of the call as a telephony call command (sent after commit).

    Return False when the telephony app offers no call commands or refuses this one.
    """
    try:
        from apps.telephony.models import Call
        from apps.telephony.services import call_command_request
    except ImportError:
        return False
    from apps.core.errors import DomainError

    # The call's own node must run the command; the call row may not be written yet (the event
    # process writes in batches), in which case telephony picks its default node.
    call = Call.objects.filter(uuid=call_uuid).order_by("-started_at").first()
    try:
        call_command_request(
            kind="transfer",
            params={"uuid": call_uuid, "destination": destination},
            call=call,
            idempotency_key=f"ivr-transfer:{call_uuid}:{destination}",
            requester="ivr",
        )
    except DomainError:
        logger.exception("transfer of %s to %s refused", call_uuid, destination)
        return False
    return True
