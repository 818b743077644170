from core.api import api_router
from incidents.api.views import ComponentGroupViewSet, ComponentViewSet, IncidentViewSet

router = api_router()
router.register("incidents", IncidentViewSet, basename="api-incident")
router.register("components", ComponentViewSet, basename="api-component")
router.register("component-groups", ComponentGroupViewSet, basename="api-component-group")

urlpatterns = router.urls
