"""The simulated user directory and SIP registrations (agents' phones)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Endpoint:
    """A registered phone and how it behaves when called.

    ``answer_after`` seconds of ringing before it answers; ``answers=False`` rings until the
    caller gives up (NO_ANSWER); ``reject_cause`` (e.g. ``USER_BUSY``, ``CALL_REJECTED``)
    refuses the call after ``answer_after``; ``hangup_after`` hangs the answered call up after
    that many seconds (None: the phone never hangs up first).
    """

    user: str
    domain: str
    answer_after: float = 1.0
    answers: bool = True
    reject_cause: str | None = None
    hangup_after: float | None = None
    contact_host: str = "127.0.0.1"
    contact_port: int = 5062
    call_id: str = ""
    user_agent: str = "fs-sim-phone"
    expires: int = 3600
    registered_at: float = 0.0
    display_name: str = ""

    @property
    def contact_url(self) -> str:
        """Return the registration's dial url as ``show registrations`` reports it."""
        return f"sofia/internal/sip:{self.user}@{self.contact_host}:{self.contact_port}"


@dataclass
class Directory:
    """Which users exist (``user_exists``) and which of them are registered."""

    domain: str
    users: set[str] = field(default_factory=set)
    registrations: dict[str, Endpoint] = field(default_factory=dict)

    def exists(self, user: str) -> bool:
        """Return True when ``user`` is in the directory."""
        return user in self.users or user in self.registrations

    def registered(self, user: str) -> Endpoint | None:
        """Return the registered endpoint of ``user``, or None."""
        return self.registrations.get(user)

    def find_by_contact(self, user: str, host: str, port: int | None) -> Endpoint | None:
        """Return the endpoint reachable at ``user@host[:port]`` (a direct sofia URL)."""
        endpoint = self.registrations.get(user)
        if endpoint is None:
            return None
        if host not in (endpoint.contact_host, self.domain):
            return None
        if port is not None and port != endpoint.contact_port and host != self.domain:
            return None
        return endpoint
