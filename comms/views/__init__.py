from comms.views.approvals import ApprovalsView
from comms.views.components import (
    ComponentCreateView,
    ComponentGroupCreateView,
    ComponentGroupUpdateView,
    ComponentListView,
    ComponentUpdateView,
    set_component_status,
)
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
from comms.views.messages import MessageDetailView, message_action, message_create, message_update

__all__ = [
    "ApprovalsView",
    "ComponentCreateView",
    "ComponentGroupCreateView",
    "ComponentGroupUpdateView",
    "ComponentListView",
    "ComponentUpdateView",
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
    "set_component_status",
]
