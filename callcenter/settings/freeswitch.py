"""FreeSWITCH integration: nodes, the xml_curl/httapi endpoints' credentials and allowlist.

FREESWITCH_NODES seeds node records: JSON list of {"name","host","port","password"}. Node records in
the database (admin) are the source of truth once created.
"""

from apps.core.env import env_int, env_json, env_list, env_str

FREESWITCH_NODES = env_json(
    "FREESWITCH_NODES",
    [{"name": "sim1", "host": "127.0.0.1", "port": 8021, "password": "sim-dev-only"}],
)
FREESWITCH_XML_USERNAME = env_str("FREESWITCH_XML_USERNAME", "freeswitch")
FREESWITCH_XML_PASSWORD = env_str("FREESWITCH_XML_PASSWORD", "xml-dev-only")
FREESWITCH_XML_ALLOWED_IPS = env_list("FREESWITCH_XML_ALLOWED_IPS", ["127.0.0.1", "::1"])
FREESWITCH_SIP_DOMAIN = env_str("FREESWITCH_SIP_DOMAIN", "127.0.0.1")
FREESWITCH_WSS_URL = env_str("FREESWITCH_WSS_URL", "wss://127.0.0.1:7443")
FREESWITCH_EVENT_BUFFER = env_int("FREESWITCH_EVENT_BUFFER", 50000)
# Dev/demo simulator endpoint (tests start their own on a free port).
FS_SIM_HOST = env_str("FS_SIM_HOST", "127.0.0.1")
FS_SIM_PORT = env_int("FS_SIM_PORT", 8021)

# IVR (mod_httapi) settings read only by apps.ivr; every other IVR_* key has its default in
# apps/ivr/conf.py. "" keeps the default behaviour.
IVR_HTTAPI_URL = env_str("IVR_HTTAPI_URL", "")  # "" = ${suite_base_url}/freeswitch/httapi/
IVR_FS_TTS_ENGINE = env_str("IVR_FS_TTS_ENGINE", "")  # e.g. flite: speak text-only prompts
IVR_FS_TTS_VOICE = env_str("IVR_FS_TTS_VOICE", "")
IVR_SPEECH_ASR_ENGINE = env_str("IVR_SPEECH_ASR_ENGINE", "")  # e.g. unimrcp: speech steps
IVR_SPEECH_ASR_GRAMMAR = env_str("IVR_SPEECH_ASR_GRAMMAR", "")
# Telephony: what a parked caller hears (broadcast by the event process), and the queue the
# dialplan puts a caller in before the IVR runs (the IVR may choose another).
FREESWITCH_HOLD_MUSIC = env_str("FREESWITCH_HOLD_MUSIC", "local_stream://moh")
FREESWITCH_DEFAULT_QUEUE = env_str("FREESWITCH_DEFAULT_QUEUE", "default")
