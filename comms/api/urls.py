from comms.api.message_views import MessageTemplateViewSet, MessageViewSet, SubscriberViewSet
from comms.api.views import ComponentViewSet, IncidentViewSet
from config.api import api_router

router = api_router()
router.register("incidents", IncidentViewSet, basename="api-incident")
router.register("components", ComponentViewSet, basename="api-component")
router.register("messages", MessageViewSet, basename="api-message")
router.register("templates", MessageTemplateViewSet, basename="api-template")
router.register("subscribers", SubscriberViewSet, basename="api-subscriber")

urlpatterns = router.urls
