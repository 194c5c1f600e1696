"""The command-line / management-command configuration (no Django needed)."""

from __future__ import annotations

import asyncio

import pytest

from apps.telephony.simulator import cli


def test_defaults_come_from_the_environment():
    config = cli.build_config(
        environ={"FS_SIM_HOST": "192.0.2.10", "FS_SIM_PORT": "9021", "FS_SIM_PASSWORD": "pw"}
    )
    assert (config.host, config.port, config.password) == ("192.0.2.10", 9021, "pw")
    assert config.heartbeat_interval == 20.0


def test_options_override_the_environment():
    config = cli.build_config(
        host="127.0.0.2", port=1234, password="x", heartbeat=5, environ={"FS_SIM_PORT": "9"}
    )
    assert (config.host, config.port, config.password, config.heartbeat_interval) == (
        "127.0.0.2",
        1234,
        "x",
        5,
    )


def test_password_is_required_unless_debug():
    with pytest.raises(cli.ConfigError, match="FS_SIM_PASSWORD is required"):
        cli.build_config(environ={})
    assert cli.build_config(environ={}, debug=True).password == "ClueCon"


def test_bad_port_is_reported():
    with pytest.raises(cli.ConfigError, match="invalid FS_SIM_PORT"):
        cli.build_config(environ={"FS_SIM_PORT": "eighty", "FS_SIM_PASSWORD": "x"})


def test_ranges_parse_single_values_and_pairs():
    assert cli.parse_range("2") == (2.0, 2.0)
    assert cli.parse_range("1,3.5") == (1.0, 3.5)
    with pytest.raises(cli.ConfigError):
        cli.parse_range("3,1")


def test_plan_from_options_builds_traffic_and_agents():
    plan = cli.plan_from_options(
        {
            "port": 0,
            "traffic_rate": 5,
            "arrival": "fixed",
            "traffic_count": 3,
            "dids": "4001,4002",
            "talk_time": "1,2",
            "patience": "3",
            "ivr_choices": "1,2,",
            "agents": 2,
            "first_extension": 3001,
            "agent_answer_after": "0.5",
            "no_answer_ratio": 0.5,
            "seed": 9,
        },
        environ={"FS_SIM_PASSWORD": "x"},
    )
    assert plan.traffic is not None
    assert plan.agents is not None
    assert plan.traffic.rate == 5.0
    assert plan.traffic.dids == ("4001", "4002")
    assert plan.traffic.patience == (3.0, 3.0)
    assert plan.traffic.ivr_choices == ("1", "2", "")
    assert (plan.agents.count, plan.agents.first_extension) == (2, 3001)
    assert plan.agents.answer_after == (0.5, 0.5)


def test_plan_without_rate_or_agents_has_no_traffic():
    plan = cli.plan_from_options({}, environ={"FS_SIM_PASSWORD": "x"})
    assert plan.traffic is None
    assert plan.agents is None


def test_serve_runs_until_stopped_and_says_goodbye_to_clients():
    async def scenario():
        plan = cli.plan_from_options(
            {"port": 0, "agents": 2, "traffic_rate": 200, "traffic_count": 5, "arrival": "fixed"},
            environ={"FS_SIM_PASSWORD": "pw"},
        )
        stop = asyncio.Event()
        ready = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(serve_and_report(plan, stop, ready))
        simulator = await ready
        reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
        writer.write(b"auth pw\n\n")
        await reader.readuntil(b"+OK accepted\n\n")
        while simulator.switch.sessions_since_startup < 5:
            await asyncio.sleep(0.01)
        stop.set()
        await task
        tail = await reader.read()
        return simulator, tail

    async def serve_and_report(plan, stop, ready):
        await cli.serve(plan, stop, on_ready=ready.set_result)

    simulator, tail = asyncio.run(scenario())
    assert sorted(simulator.switch.directory.registrations) == ["1001", "1002"]
    assert simulator.switch.sessions_since_startup == 5
    assert tail.endswith(b"The system is being shut down.\n")
