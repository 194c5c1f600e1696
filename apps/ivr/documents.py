"""mod_httapi work documents: the few tags the IVR uses, written compactly.

Every byte counts: FreeSWITCH accepts at most 1 MiB of responses per call, cumulated over every
request (see shared/fixtures/httapi/README.md, e11), so documents carry no indentation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPE = "text/xml; charset=utf-8"
# The name under which FreeSWITCH posts collected input on the next request.
INPUT_NAME = "cc_input"
VOICEMAIL_NAME = "cc_voicemail"
STATE_PARAM = "cc_state"


def tag(name: str, attributes: Mapping[str, object] | None = None, children: str = "") -> str:
    """Return one element; attributes with None values are left out."""
    attrs = "".join(
        f" {key}={quoteattr(str(value))}"
        for key, value in (attributes or {}).items()
        if value is not None
    )
    if children:
        return f"<{name}{attrs}>{children}</{name}>"
    return f"<{name}{attrs}/>"


def bind(pattern: str) -> str:
    """Return a <bind>: an exact key string, or a regular expression prefixed with "~"."""
    return f"<bind>{escape(pattern)}</bind>"


def document(
    *,
    params: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    work: Iterable[str] = (),
) -> bytes:
    """Return a complete document. <work> is always present: without it httapi stops."""
    parts = [XML_DECLARATION, '<document type="xml/freeswitch-httapi">']
    if params:
        parts.append(
            "<params>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in params.items()) + "</params>"
        )
    if variables:
        parts.append(
            "<variables>"
            + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in variables.items() if v != "")
            + "</variables>"
        )
    parts.append("<work>" + "".join(work) + "</work></document>")
    return "".join(parts).encode()


def break_document(variables: Mapping[str, str] | None = None) -> bytes:
    """Leave httapi so the dialplan goes on to its safe destination."""
    return document(variables=variables, work=[tag("break")])


def exit_ack_document() -> bytes:
    """Answer the final `exiting=true` request; FreeSWITCH does not parse it."""
    return document(work=[tag("log", {"level": "DEBUG"}, "ivr exit recorded")])
