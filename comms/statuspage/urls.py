"""Public pages: no login. The status page, its feeds and the Statuspage-compatible JSON, subscriptions."""

from django.urls import path

from comms.statuspage import endpoint_views, maintenance_views, slack_views, sms_views, views

urlpatterns = [
    path("status/", views.status_page, name="status-page"),
    path("status/feed.atom", views.feed, name="status-feed"),
    path("status/badge.svg", views.badge, name="status-badge"),
    path("status/embed/", views.embed, name="status-embed"),
    path("status/subscribe/", views.subscribe, name="status-subscribe"),
    path("status/confirm/<str:token>/", views.confirm, name="status-confirm"),
    path("status/unsubscribe/<str:token>/", views.unsubscribe, name="status-unsubscribe"),
    # SMS (comms.sms): the form, the page the code is typed on, and Twilio's signed webhook for replies (STOP/START).
    path("status/subscribe/sms/", sms_views.sms_subscribe, name="status-sms-subscribe"),
    path("status/subscribe/sms/<str:token>/", sms_views.sms_verify, name="status-sms-verify"),
    path("sms/inbound/", sms_views.sms_inbound, name="sms-inbound"),
    # Slack, Teams, Discord and generic webhooks (comms.endpoints): the form, the code page, one-click unsubscribe.
    path("status/subscribe/webhooks/", endpoint_views.subscribe, name="status-endpoint-subscribe"),
    path("status/subscribe/webhooks/<str:token>/", endpoint_views.confirm, name="status-endpoint-confirm"),
    path("status/unsubscribe/webhooks/<str:token>/", endpoint_views.unsubscribe, name="status-endpoint-unsubscribe"),
    # "Add to Slack" (comms.endpoints.slack_oauth): the form's button, and where Slack sends the visitor back.
    path("status/subscribe/slack/", slack_views.add_to_slack, name="status-slack-add"),
    path("status/subscribe/slack/callback/", slack_views.slack_callback, name="status-slack-callback"),
    # The same paths, names and shapes as Atlassian Statuspage's public API, for status aggregators.
    path("api/v2/summary.json", views.summary_json, name="statuspage-summary"),
    path("api/v2/status.json", views.status_json, name="statuspage-status"),
    path("api/v2/components.json", views.components_json, name="statuspage-components"),
    path("api/v2/incidents.json", views.incidents_json, name="statuspage-incidents"),
    path("api/v2/incidents/unresolved.json", views.unresolved_incidents_json, name="statuspage-unresolved"),
    # Maintenance windows (comms.statuspage.maintenance): the Statuspage documents, and a calendar to subscribe to.
    path("api/v2/scheduled-maintenances.json", maintenance_views.scheduled_maintenances_json,
         name="statuspage-maintenances"),
    path("api/v2/scheduled-maintenances/upcoming.json", maintenance_views.upcoming_maintenances_json,
         name="statuspage-maintenances-upcoming"),
    path("api/v2/scheduled-maintenances/active.json", maintenance_views.active_maintenances_json,
         name="statuspage-maintenances-active"),
    path("status/maintenance.ics", maintenance_views.maintenance_calendar, name="status-maintenance-ics"),
]
