from django.urls import path, re_path

from apps.console.api import views

urlpatterns = [
    path("snapshot/", views.SnapshotView.as_view(), name="console-snapshot"),
    path("state/", views.StateView.as_view(), name="console-state"),
    path("wrap-up/extend/", views.WrapUpExtendView.as_view(), name="console-wrap-up-extend"),
    path("transfer-targets/", views.TransferTargetsView.as_view(), name="console-transfer-targets"),
    path(
        "notifications/read/",
        views.NotificationReadView.as_view(),
        name="console-notifications-read",
    ),
    path("callbacks/", views.CallbackListView.as_view(), name="console-callback-list"),
    path(
        "callbacks/<int:callback_id>/",
        views.CallbackDetailView.as_view(),
        name="console-callback-detail",
    ),
    path("calls/<int:call_id>/controls/", views.ControlView.as_view(), name="console-controls"),
    path(
        "calls/<int:call_id>/screen-pop/", views.ScreenPopView.as_view(), name="console-screen-pop"
    ),
    re_path(
        r"^calls/(?P<call_id>[0-9]+)/screen-pop/(?P<section>history|tickets|articles)/$",
        views.ScreenPopSectionView.as_view(),
        name="console-screen-pop-section",
    ),
    path(
        "calls/<int:call_id>/customer/",
        views.CallerCustomerView.as_view(),
        name="console-caller-customer",
    ),
    path("calls/<int:call_id>/wrap-up/", views.WrapUpView.as_view(), name="console-wrap-up"),
]
