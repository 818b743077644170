from django.urls import path, re_path

from comms import views

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
]
