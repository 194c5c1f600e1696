"""Each API client (user or service account) has its own rate limit over a sliding minute, decided
in one Redis round trip. Here the limit is 3 a minute and the clock is the test's."""

import pytest
import redis.connection
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.core.api.throttles import PerClientRateThrottle, retry_after
from apps.rbac import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WINDOW = 60


@pytest.fixture
def clock(monkeypatch):
    """Time in seconds from the start of a throttle window; tests move it forward."""
    now = {"t": 1_000 * WINDOW}
    monkeypatch.setattr(PerClientRateThrottle, "rate", "3/min", raising=False)
    monkeypatch.setattr(PerClientRateThrottle, "timer", lambda self: now["t"])
    return now


@pytest.fixture
def redis_commands(monkeypatch):
    """Every command sent to Redis, as its name."""
    sent: list[bytes] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):
        packed = command if isinstance(command, bytes) else b"".join(command)
        sent.append(packed.split(b"\r\n")[2])
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", spy)
    return sent


def _decide(user) -> tuple[bool, float | None]:
    request = APIRequestFactory().get("/api/v1/customers/")
    force_authenticate(request, user=user)
    request.user = user
    throttle = PerClientRateThrottle()
    allowed = throttle.allow_request(request, None)
    return allowed, None if allowed else throttle.wait()


def test_the_fourth_request_in_a_minute_is_refused_and_told_when_to_retry(role_groups, clock):
    crm = UserFactory(role=roles.API_CLIENT)

    decisions = [_decide(crm) for _ in range(4)]

    # Three in this window, none in the previous: the next window starts in 60 s, and the
    # full one must slide out by (1 - 2/3) of a window before the estimate leaves room.
    assert decisions == [(True, None), (True, None), (True, None), (False, 60 + 20)]


def test_clients_are_counted_apart(role_groups, clock):
    crm, other = UserFactory(role=roles.API_CLIENT), UserFactory(role=roles.API_CLIENT)
    for _ in range(3):
        _decide(crm)

    assert _decide(other) == (True, None)
    assert _decide(crm)[0] is False


def test_the_previous_minute_slides_out(role_groups, clock):
    crm = UserFactory(role=roles.API_CLIENT)
    clock["t"] += 10
    for _ in range(3):
        assert _decide(crm)[0]

    # Half-way through the next window the previous three weigh 1.5: one more fits, and the one
    # after fits once the estimate drops to 1 (previous weighs 1/3), 10 s later.
    clock["t"] += WINDOW + 20
    assert _decide(crm) == (True, None)
    assert _decide(crm) == (False, pytest.approx(10))
    clock["t"] += 10
    assert _decide(crm) == (True, None)


def test_a_refused_request_is_not_counted(role_groups, clock):
    crm = UserFactory(role=roles.API_CLIENT)
    for _ in range(3):
        _decide(crm)
    for _ in range(5):
        assert _decide(crm)[0] is False

    clock["t"] += 2 * WINDOW
    assert [_decide(crm)[0] for _ in range(4)] == [True, True, True, False]


def test_one_decision_is_one_redis_round_trip(role_groups, clock, redis_commands):
    crm = UserFactory(role=roles.API_CLIENT)
    _decide(crm)  # loads the script into Redis if it is not there yet
    redis_commands.clear()

    _decide(crm)

    assert redis_commands == [b"EVALSHA"]


def test_anonymous_requests_are_left_to_the_anonymous_throttle(clock, redis_commands):
    from django.contrib.auth.models import AnonymousUser

    assert _decide(AnonymousUser()) == (True, None)
    assert redis_commands == []


def test_the_api_answers_429_with_retry_after(cast, client_as, clock):
    client = client_as(cast.crm)

    statuses = [client.get("/api/v1/customers/").status_code for _ in range(4)]
    refused = client.get("/api/v1/customers/")

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "80"


@pytest.mark.parametrize(
    ("elapsed", "previous", "current", "wait"),
    [
        (0, 0, 3, 60 + 20),  # the window is full by itself
        (30, 3, 1, 10),  # previous weighs 1.5 + 1 + 1 > 3 until it weighs 1
        (30, 5, 0, 6),  # 5 * (0.5 - t/60) + 1 <= 3 from t = 6
    ],
)
def test_retry_after(elapsed, previous, current, wait):
    assert retry_after(
        limit=3, window=60, elapsed=elapsed, previous=previous, current=current
    ) == pytest.approx(wait)
