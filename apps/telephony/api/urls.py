from django.urls import path

from apps.telephony.api import views

urlpatterns = [
    path("calls/", views.CallListView.as_view(), name="telephony-call-list"),
    path("calls/<int:call_id>/", views.CallDetailView.as_view(), name="telephony-call-detail"),
]
