from rest_framework.routers import DefaultRouter

from comms.api.views import ComponentViewSet, IncidentViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("incidents", IncidentViewSet, basename="api-incident")
router.register("components", ComponentViewSet, basename="api-component")

urlpatterns = router.urls
