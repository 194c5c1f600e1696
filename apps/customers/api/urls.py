from django.urls import path

from apps.customers.api import views

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer-list"),
    path("lookup/", views.CustomerLookupView.as_view(), name="customer-lookup"),
    path("import/", views.CustomerImportView.as_view(), name="customer-import"),
    path("<int:customer_id>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("<int:customer_id>/merge/", views.CustomerMergeView.as_view(), name="customer-merge"),
    path("<int:customer_id>/reveal/", views.CustomerRevealView.as_view(), name="customer-reveal"),
    path(
        "<int:customer_id>/identities/",
        views.CustomerIdentityListView.as_view(),
        name="customer-identity-list",
    ),
    path(
        "<int:customer_id>/identities/<int:identity_id>/",
        views.CustomerIdentityDetailView.as_view(),
        name="customer-identity-detail",
    ),
    path(
        "<int:customer_id>/interactions/",
        views.InteractionListView.as_view(),
        name="customer-interaction-list",
    ),
]
