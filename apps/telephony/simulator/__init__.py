"""A protocol-faithful FreeSWITCH simulator for tests, demos and load benchmarks.

It speaks the inbound Event Socket exactly as FreeSWITCH 1.10.12 does in the captures under
``shared/fixtures/esl`` (framing, replies, url-encoding, event header sets and order) and
simulates channels: inbound calls running a pluggable dialplan, registered phones, originate,
bridge, hold, transfer, recording, DTMF and hangup with CDR variables. No Django needed.

Synchronous use (tests)::

    with running_simulator(port=0, heartbeat_interval=0.05) as sim:
        sim.register_endpoint("1001", answer_after=0.01)
        uuid = sim.place_inbound_call(caller="+8613800138000", destination="4001")
        ...  # connect an ESL client to ("127.0.0.1", sim.port), password "ClueCon"
"""

from .channel import ChannelInfo
from .config import SimulatorConfig
from .dialplan import (
    Answer,
    Bridge,
    CallSession,
    CollectDigits,
    DialplanRouter,
    Execute,
    Hangup,
    Park,
    Playback,
    SetVar,
    Sleep,
    Step,
)
from .directory import Endpoint
from .server import Simulator, SimulatorServer, running_simulator
from .traffic import AgentProfile, CallerPool, TrafficGenerator, TrafficProfile, TrafficStats

__all__ = [
    "AgentProfile",
    "Answer",
    "Bridge",
    "CallSession",
    "CallerPool",
    "ChannelInfo",
    "CollectDigits",
    "DialplanRouter",
    "Endpoint",
    "Execute",
    "Hangup",
    "Park",
    "Playback",
    "SetVar",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "Sleep",
    "Step",
    "TrafficGenerator",
    "TrafficProfile",
    "TrafficStats",
    "running_simulator",
]
