from django.urls import path

from comms import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("incidents/", views.IncidentListView.as_view(), name="incident-list"),
    path("incidents/new/", views.IncidentCreateView.as_view(), name="incident-create"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/edit/", views.IncidentUpdateView.as_view(), name="incident-update"),
    path("incidents/<int:pk>/status/", views.change_incident_status, name="incident-status"),
    path("approvals/", views.coming_soon, {"area": "Approvals", "issue": "communications"}, name="approvals"),
    path("mentions/", views.coming_soon, {"area": "Mentions", "issue": "sentiment"}, name="mentions"),
    path("accounts/", views.coming_soon, {"area": "Customer accounts", "issue": "accounts"}, name="accounts"),
]
