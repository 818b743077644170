from core.api import api_router
from incidents.api.views import ComponentViewSet, IncidentViewSet

router = api_router()
router.register("incidents", IncidentViewSet, basename="api-incident")
router.register("components", ComponentViewSet, basename="api-component")

urlpatterns = router.urls
