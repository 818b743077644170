from django.urls import path, re_path

from sentiment import views

urlpatterns = [
    path("", views.review_queue, name="mentions"),
    path("bulk/", views.bulk_action, name="mentions-bulk"),
    path("quality/", views.quality_page, name="mention-quality"),
    path("quality/accept/", views.accept_suggestion, name="mention-quality-accept"),
    path("<int:pk>/", views.mention_detail, name="mention-detail"),
    re_path(
        r"^(?P<pk>[0-9]+)/(?P<action>assign|respond|escalate|dismiss)/$", views.mention_action, name="mention-action"
    ),
]
