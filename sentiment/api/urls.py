from rest_framework.routers import DefaultRouter

from sentiment.api.views import MentionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("mentions", MentionViewSet, basename="api-mention")

urlpatterns = router.urls
