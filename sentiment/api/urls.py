from config.api import api_router
from sentiment.api.views import MentionViewSet

router = api_router()
router.register("mentions", MentionViewSet, basename="api-mention")

urlpatterns = router.urls
