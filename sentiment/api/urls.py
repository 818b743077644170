from django.urls import path

from core.api import api_router
from sentiment.api.views import IncidentSentimentView, MentionViewSet

router = api_router()
router.register("mentions", MentionViewSet, basename="api-mention")

urlpatterns = [
    path("incidents/<str:pk>/sentiment/", IncidentSentimentView.as_view(), name="api-incident-sentiment"),
    *router.urls,
]
