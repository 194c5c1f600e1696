"""mod_xml_curl and mod_httapi talk to the suite's endpoints with credentials and limited powers."""

from __future__ import annotations

from tests.freeswitch_conf.support import (
    SECRETS_ENV,
    XML_PASSWORD,
    configuration,
    document,
    params,
)

# The channel variables of the contract in docs/architecture.md.
CONTRACT_VARIABLES = [
    "cc_queue",
    "cc_priority",
    "cc_skills",
    "cc_tier",
    "cc_language",
    "cc_customer_id",
    "cc_did",
    "cc_ivr_path",
]
# Applications that would let a document set any variable, reach other calls or run code.
DANGEROUS_APPLICATIONS = {
    "set",
    "export",
    "set_global",
    "unset",
    "multiset",
    "push",
    "bridge",
    "transfer",
    "execute_extension",
    "socket",
    "system",
    "bgsystem",
    "lua",
    "luarun",
    "python",
    "perl",
    "javascript",
    "eval",
    "eavesdrop",
    "intercept",
    "record_session",
    "httapi",
}


def _httapi_profile(root):
    profile = configuration(root, "httapi.conf").find("./profiles/profile[@name='default']")
    assert profile is not None
    return profile


def _permission(profile, name):
    permission = profile.find(f"./permissions/permission[@name='{name}']")
    assert permission is not None, name
    return permission


def test_xml_curl_fetches_directory_and_dialplan_from_the_suites_urls():
    # Given the suite's address in the environment
    root = document(SECRETS_ENV | {"FREESWITCH_SUITE_URL": "https://suite.example.com"})
    # Then one binding per section points at the matching endpoint
    bindings = configuration(root, "xml_curl.conf").findall("./bindings/binding")
    urls = [
        (binding.get("name"), url.get("bindings"), url.get("value"))
        for binding in bindings
        for url in binding.findall("param[@name='gateway-url']")
    ]
    assert urls == [
        ("suite_directory", "directory", "https://suite.example.com/freeswitch/xml/directory/"),
        ("suite_dialplan", "dialplan", "https://suite.example.com/freeswitch/xml/dialplan/"),
    ]


def test_xml_curl_authenticates_times_out_and_verifies_tls():
    root = document(SECRETS_ENV | {"FREESWITCH_XML_USERNAME": "fs-node-1"})
    for binding in configuration(root, "xml_curl.conf").findall("./bindings/binding"):
        settings = params(binding)
        assert settings["gateway-credentials"] == [f"fs-node-1:{XML_PASSWORD}"]
        assert settings["auth-scheme"] == ["basic"]
        assert settings["timeout"] == ["5"]
        assert settings["enable-cacert-check"] == ["true"]
        assert settings["enable-ssl-verifyhost"] == ["true"]
        # POST is mod_xml_curl's default (the fixtures' requests); a method param would change it
        assert "method" not in settings


def test_tls_verification_can_be_turned_off_for_a_private_test_setup():
    root = document(SECRETS_ENV | {"FREESWITCH_SUITE_TLS_VERIFY": "false"})
    for binding in configuration(root, "xml_curl.conf").findall("./bindings/binding"):
        assert params(binding)["enable-cacert-check"] == ["false"]
    assert params(_httapi_profile(root))["enable-ssl-verifyhost"] == ["false"]


def test_the_httapi_profile_is_the_default_one_and_posts_to_the_suite():
    root = document(SECRETS_ENV | {"FREESWITCH_SUITE_URL": "https://suite.example.com"})
    profiles = configuration(root, "httapi.conf").findall("./profiles/profile")
    assert [profile.get("name") for profile in profiles] == ["default"]
    settings = params(profiles[0].find("params"))
    assert settings["gateway-url"] == ["https://suite.example.com/freeswitch/httapi/"]
    assert settings["method"] == ["POST"]
    assert settings["gateway-credentials"] == [f"freeswitch:{XML_PASSWORD}"]
    assert settings["timeout"] == ["5"]
    assert params(configuration(root, "httapi.conf").find("settings"))["debug"] == ["false"]


def test_httapi_may_execute_only_a_short_allow_list_of_harmless_applications():
    permission = _permission(_httapi_profile(document()), "execute-apps")
    # mod_httapi reads the list's default from the permission element
    assert permission.get("value") == "true"
    assert permission.get("default") == "deny"
    applications = [app.get("name") for app in permission.findall("./application-list/application")]
    assert applications == ["sleep", "start_dtmf", "stop_dtmf", "info"]
    assert not DANGEROUS_APPLICATIONS & set(applications)
    assert all(app.get("type") is None for app in permission.iter("application"))


def test_httapi_may_set_and_read_only_the_contract_variables():
    profile = _httapi_profile(document())
    for name in ("set-vars", "get-vars"):
        permission = _permission(profile, name)
        assert (permission.get("value"), permission.get("default")) == ("true", "deny")
        listed = [variable.get("name") for variable in permission.iter("variable")]
        assert listed == CONTRACT_VARIABLES


def test_httapi_cannot_dial_conference_expand_variables_or_read_the_whole_channel():
    profile = _httapi_profile(document())
    values = {
        permission.get("name"): permission.get("value")
        for permission in profile.findall("./permissions/permission")
    }
    assert values == {
        "set-params": "true",
        "set-vars": "true",
        "get-vars": "true",
        "extended-data": "false",
        "execute-apps": "true",
        "expand-vars": "false",
        "dial": "false",
        "conference": "false",
    }
