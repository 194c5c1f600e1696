from django.urls import path

from apps.ivr.api import views

urlpatterns = [
    path(
        "reports/abandon-points/",
        views.AbandonPointsView.as_view(),
        name="ivr-abandon-points",
    ),
]
