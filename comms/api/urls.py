from comms.api.message_views import MessageTemplateViewSet, MessageViewSet, SubscriberViewSet
from core.api import api_router

router = api_router()
router.register("messages", MessageViewSet, basename="api-message")
router.register("templates", MessageTemplateViewSet, basename="api-template")
router.register("subscribers", SubscriberViewSet, basename="api-subscriber")

urlpatterns = router.urls
