from django.urls import path

from core.api import api_router
from sentiment.api.comment_views import CommentView
from sentiment.api.views import IncidentSentimentView, MentionViewSet

router = api_router()
router.register("mentions", MentionViewSet, basename="api-mention")

urlpatterns = [
    path("incidents/<str:pk>/sentiment/", IncidentSentimentView.as_view(), name="api-incident-sentiment"),
    # before the router: its mentions/<pk>/ would take "comments" for an id
    path("mentions/comments/", CommentView.as_view(), name="api-mention-comments"),
    *router.urls,
]
