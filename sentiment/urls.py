from django.urls import path

from sentiment import views

urlpatterns = [
    path("", views.review_queue, name="mentions"),
]
