"""Public pages: no login. The status page, its feeds and the Statuspage-compatible JSON, subscriptions."""

from django.urls import path

from comms import public_views

urlpatterns = [
    path("status/", public_views.status_page, name="status-page"),
    path("status/feed.atom", public_views.feed, name="status-feed"),
    path("status/subscribe/", public_views.subscribe, name="status-subscribe"),
    path("status/confirm/<str:token>/", public_views.confirm, name="status-confirm"),
    path("status/unsubscribe/<str:token>/", public_views.unsubscribe, name="status-unsubscribe"),
    # The same paths, names and shapes as Atlassian Statuspage's public API, for status aggregators.
    path("api/v2/summary.json", public_views.summary_json, name="statuspage-summary"),
    path("api/v2/status.json", public_views.status_json, name="statuspage-status"),
    path("api/v2/components.json", public_views.components_json, name="statuspage-components"),
    path("api/v2/incidents.json", public_views.incidents_json, name="statuspage-incidents"),
    path("api/v2/incidents/unresolved.json", public_views.unresolved_incidents_json, name="statuspage-unresolved"),
]
