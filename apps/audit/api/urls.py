from django.urls import path

from apps.audit.api.views import AccessLogListView

urlpatterns = [path("access-logs/", AccessLogListView.as_view(), name="access-log-list")]
