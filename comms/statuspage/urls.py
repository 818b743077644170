"""Public pages: no login. The status page, its feeds and the Statuspage-compatible JSON, subscriptions."""

from django.urls import path

from comms.statuspage import views

urlpatterns = [
    path("status/", views.status_page, name="status-page"),
    path("status/feed.atom", views.feed, name="status-feed"),
    path("status/subscribe/", views.subscribe, name="status-subscribe"),
    path("status/confirm/<str:token>/", views.confirm, name="status-confirm"),
    path("status/unsubscribe/<str:token>/", views.unsubscribe, name="status-unsubscribe"),
    # The same paths, names and shapes as Atlassian Statuspage's public API, for status aggregators.
    path("api/v2/summary.json", views.summary_json, name="statuspage-summary"),
    path("api/v2/status.json", views.status_json, name="statuspage-status"),
    path("api/v2/components.json", views.components_json, name="statuspage-components"),
    path("api/v2/incidents.json", views.incidents_json, name="statuspage-incidents"),
    path("api/v2/incidents/unresolved.json", views.unresolved_incidents_json, name="statuspage-unresolved"),
]
