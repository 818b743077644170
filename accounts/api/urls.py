from django.urls import path

from accounts.api.views import (
    AccountViewSet,
    CompensationViewSet,
    ContactViewSet,
    FollowUpViewSet,
    ImpactViewSet,
    IncidentImpactViewSet,
)
from core.api import api_router

router = api_router()
router.register("accounts", AccountViewSet, basename="api-account")
router.register("contacts", ContactViewSet, basename="api-contact")
router.register("impacts", ImpactViewSet, basename="api-impact")
router.register("follow-ups", FollowUpViewSet, basename="api-followup")
router.register("compensations", CompensationViewSet, basename="api-compensation")

urlpatterns = [
    path("incidents/<str:incident_pk>/impacts/",
         IncidentImpactViewSet.as_view({"get": "list", "post": "create"}), name="api-incident-impacts"),
    path("incidents/<str:incident_pk>/impacts/derive/",
         IncidentImpactViewSet.as_view({"post": "derive"}), name="api-incident-impacts-derive"),
    *router.urls,
]
