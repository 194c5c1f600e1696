from django.urls import path

from apps.tickets import views

urlpatterns = [
    path("tickets/<str:token>/", views.self_service_view, name="tickets-self-service"),
]
