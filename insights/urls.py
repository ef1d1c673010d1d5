"""Query API routes, mounted at /api/insights/."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("events", views.events_list, name="events"),
    path("events/count", views.events_count, name="events_count"),
    path("events/export", views.events_export, name="events_export"),
    path("event-types", views.event_types_list, name="event_types"),
]
