"""Included at /freeswitch/: the endpoints FreeSWITCH's mod_xml_curl calls (one binding each)."""

from django.urls import path

from apps.telephony import xml_endpoints

urlpatterns = [
    path("xml/directory/", xml_endpoints.directory, name="freeswitch-xml-directory"),
    path("xml/dialplan/", xml_endpoints.dialplan, name="freeswitch-xml-dialplan"),
]
