"""The Event Socket listens where configured, with the real password, behind the suite's ACL."""

from __future__ import annotations

from tests.freeswitch_conf.support import (
    ESL_PASSWORD,
    SECRETS_ENV,
    configuration,
    document,
    params,
)


def _acl_lists(root) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    lists = configuration(root, "acl.conf").findall("./network-lists/list")
    return {
        item.get("name"): (
            item.get("default"),
            [(node.get("type"), node.get("cidr")) for node in item.findall("node")],
        )
        for item in lists
    }


def test_by_default_the_event_socket_listens_on_loopback_port_8021_with_the_given_password():
    settings = params(configuration(document(), "event_socket.conf"))
    assert settings["listen-ip"] == ["127.0.0.1"]
    assert settings["listen-port"] == ["8021"]
    assert settings["password"] == [ESL_PASSWORD]
    assert settings["stop-on-bind-error"] == ["true"]
    assert settings["nat-map"] == ["false"]


def test_the_listen_address_and_port_come_from_the_environment():
    root = document(
        SECRETS_ENV | {"FREESWITCH_ESL_LISTEN_IP": "10.1.2.3", "FREESWITCH_ESL_PORT": "8022"}
    )
    settings = params(configuration(root, "event_socket.conf"))
    assert settings["listen-ip"] == ["10.1.2.3"]
    assert settings["listen-port"] == ["8022"]


def test_the_event_socket_admits_only_the_suites_hosts():
    # Given the suite's hosts in the environment
    root = document(SECRETS_ENV | {"FREESWITCH_ESL_ALLOWED_CIDRS": "10.1.0.0/24,10.2.0.7/32"})
    # Then the event socket applies the esl_clients list, which denies everyone else
    assert params(configuration(root, "event_socket.conf"))["apply-inbound-acl"] == ["esl_clients"]
    assert _acl_lists(root)["esl_clients"] == ("deny", [("allow", "10.1.0.0/24,10.2.0.7/32")])


def test_by_default_only_loopback_may_use_the_event_socket():
    assert _acl_lists(document())["esl_clients"] == ("deny", [("allow", "127.0.0.1/32")])


def test_every_acl_list_denies_by_default():
    lists = _acl_lists(document())
    assert set(lists) == {"esl_clients", "carriers", "agent_networks"}
    assert {default for default, _ in lists.values()} == {"deny"}
