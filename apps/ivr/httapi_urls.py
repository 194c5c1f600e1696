"""Included at /freeswitch/httapi/: the IVR's mod_httapi endpoint and its prompt recordings."""

from django.urls import path

from apps.ivr import views

urlpatterns = [
    path("", views.httapi_view, name="ivr-httapi"),
    path(
        "prompts/<int:variant_id>/<int:rate>/<str:checksum>/<str:signature>.wav",
        views.prompt_audio_view,
        name="ivr-prompt-audio",
    ),
]
