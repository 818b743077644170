from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api.views import (
    AccountViewSet,
    CompensationViewSet,
    ContactViewSet,
    FollowUpViewSet,
    ImpactViewSet,
    IncidentImpactViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("accounts", AccountViewSet, basename="api-account")
router.register("contacts", ContactViewSet, basename="api-contact")
router.register("impacts", ImpactViewSet, basename="api-impact")
router.register("follow-ups", FollowUpViewSet, basename="api-followup")
router.register("compensations", CompensationViewSet, basename="api-compensation")

urlpatterns = [
    path("incidents/<int:incident_pk>/impacts/",
         IncidentImpactViewSet.as_view({"get": "list", "post": "create"}), name="api-incident-impacts"),
    path("incidents/<int:incident_pk>/impacts/derive/",
         IncidentImpactViewSet.as_view({"post": "derive"}), name="api-incident-impacts-derive"),
    *router.urls,
]
