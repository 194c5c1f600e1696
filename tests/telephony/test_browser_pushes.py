"""Telephony's browser pushes reach every group in order and report, never raise, failures."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from apps.core.channel_layer import PipelinedRedisChannelLayer
from apps.telephony.realtime import PIPELINE_CHUNK, send_group_messages


async def _join_and_send(pushes, groups):
    # Room for every push in this process's channels (the test profile keeps channels_redis's
    # default capacity of 100, which would refuse some).
    layer = PipelinedRedisChannelLayer(
        hosts=settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"], capacity=1000
    )
    channels = {}
    for group in groups:
        channels[group] = await layer.new_channel()
        await layer.group_add(group, channels[group])
    results = await send_group_messages(layer, pushes)
    received = {
        group: [(await layer.receive(channel))["message"]["n"] for _ in range(count)]
        for group, channel, count in (
            (group, channels[group], sum(1 for push in pushes if push[0] == group))
            for group in groups
        )
    }
    await layer.flush()
    await layer.close_pools()
    return results, received


def test_more_pushes_than_one_pipeline_all_arrive_in_order():
    pushes = [(f"agent.{n % 3}", "call.ringing", {"n": n}) for n in range(PIPELINE_CHUNK + 7)]

    results, received = async_to_sync(_join_and_send)(pushes, ["agent.0", "agent.1", "agent.2"])

    assert results == [True] * len(pushes)
    for group, numbers in received.items():
        assert numbers == [n for g, _, payload in pushes if g == group for n in [payload["n"]]]


class _BrokenLayer:
    async def group_send_many(self, sends):
        raise ConnectionError("redis is down")


@pytest.mark.parametrize("count", [1, PIPELINE_CHUNK + 1])
def test_a_failed_send_is_reported_per_push_not_raised(count):
    pushes = [("agent.9", "call.ringing", {"n": n}) for n in range(count)]

    results = async_to_sync(send_group_messages)(_BrokenLayer(), pushes)

    assert results == [False] * count
