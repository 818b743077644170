from django.urls import path

from comms.api.alert_views import AlertView
from comms.api.maintenance_views import MaintenanceViewSet
from comms.api.message_views import MessageTemplateViewSet, MessageViewSet, SubscriberViewSet
from core.api import api_router

router = api_router()
router.register("messages", MessageViewSet, basename="api-message")
router.register("templates", MessageTemplateViewSet, basename="api-template")
router.register("subscribers", SubscriberViewSet, basename="api-subscriber")
router.register("maintenances", MaintenanceViewSet, basename="api-maintenance")

urlpatterns = [path("alerts/", AlertView.as_view(), name="api-alerts"), *router.urls]
