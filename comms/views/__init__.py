from comms.views.incidents import (
    DashboardView,
    IncidentCreateView,
    IncidentDetailView,
    IncidentListView,
    IncidentUpdateView,
    change_incident_status,
    coming_soon,
    show_incident_on_status_page,
)
from comms.views.message_templates import (
    MessageTemplateCreateView,
    MessageTemplateListView,
    MessageTemplateUpdateView,
)
from comms.views.messages import ApprovalsView, MessageDetailView, message_action, message_create, message_update

__all__ = [
    "ApprovalsView",
    "DashboardView",
    "IncidentCreateView",
    "IncidentDetailView",
    "IncidentListView",
    "IncidentUpdateView",
    "MessageDetailView",
    "show_incident_on_status_page",
    "MessageTemplateCreateView",
    "MessageTemplateListView",
    "MessageTemplateUpdateView",
    "change_incident_status",
    "coming_soon",
    "message_action",
    "message_create",
    "message_update",
]
