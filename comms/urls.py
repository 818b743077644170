from django.urls import path, re_path

from comms import views
from comms.deliverability import tracking_webhook
from comms.views.maintenance import (
    MaintenanceDetailView,
    MaintenanceListView,
    maintenance_action,
    maintenance_create,
    maintenance_update,
)
from comms.views.subscriber_endpoints import enable_subscriber_endpoint, subscriber_endpoint_list
from comms.views.suppressions import lift_suppression, suppression_list

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("incidents/", views.IncidentListView.as_view(), name="incident-list"),
    path("incidents/new/", views.IncidentCreateView.as_view(), name="incident-create"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/edit/", views.IncidentUpdateView.as_view(), name="incident-update"),
    path("incidents/<int:pk>/status/", views.change_incident_status, name="incident-status"),
    path("incidents/<int:pk>/show-on-status-page/", views.show_incident_on_status_page, name="incident-show-public"),
    path("incidents/<int:pk>/messages/new/", views.message_create, name="message-create"),
    path("messages/<int:pk>/", views.MessageDetailView.as_view(), name="message-detail"),
    path("messages/<int:pk>/edit/", views.message_update, name="message-update"),
    path("messages/<int:pk>/progress/", views.messages.message_progress, name="message-progress"),
    re_path(
        r"^messages/(?P<pk>[0-9]+)/(?P<action>submit|approve|reject|publish|cancel|retry)/$",
        views.message_action,
        name="message-action",
    ),
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path("message-templates/", views.MessageTemplateListView.as_view(), name="message-templates"),
    path("message-templates/new/", views.MessageTemplateCreateView.as_view(), name="message-template-create"),
    path("message-templates/<int:pk>/edit/", views.MessageTemplateUpdateView.as_view(),
         name="message-template-update"),
    path("components/", views.ComponentListView.as_view(), name="component-list"),
    path("components/new/", views.ComponentCreateView.as_view(), name="component-create"),
    path("components/<int:pk>/edit/", views.ComponentUpdateView.as_view(), name="component-update"),
    path("components/<int:pk>/status/", views.set_component_status, name="component-status"),
    path("maintenance/", MaintenanceListView.as_view(), name="maintenance-list"),
    path("maintenance/new/", maintenance_create, name="maintenance-create"),
    path("maintenance/<int:pk>/", MaintenanceDetailView.as_view(), name="maintenance-detail"),
    path("maintenance/<int:pk>/edit/", maintenance_update, name="maintenance-update"),
    re_path(r"^maintenance/(?P<pk>[0-9]+)/(?P<action>submit|approve|reject|start|complete|cancel)/$",
            maintenance_action, name="maintenance-action"),
    path("email/suppressions/", suppression_list, name="email-suppressions"),
    path("email/suppressions/<int:pk>/lift/", lift_suppression, name="email-suppression-lift"),
    path("subscribers/webhooks/", subscriber_endpoint_list, name="subscriber-endpoints"),
    path("subscribers/webhooks/<int:pk>/enable/", enable_subscriber_endpoint, name="subscriber-endpoint-enable"),
    path("email/events/<slug:provider>/", tracking_webhook, name="email-events"),
    path("components/groups/new/", views.ComponentGroupCreateView.as_view(), name="component-group-create"),
    path("components/groups/<int:pk>/edit/", views.ComponentGroupUpdateView.as_view(), name="component-group-update"),
]
