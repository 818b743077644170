"""Public pages: no login. The status page, its feeds and the Statuspage-compatible JSON, subscriptions."""

from django.urls import path

from comms import public_views

urlpatterns = [
    path("status/", public_views.status_page, name="status-page"),
    path("status/confirm/<str:token>/", public_views.confirm, name="status-confirm"),
    path("status/unsubscribe/<str:token>/", public_views.unsubscribe, name="status-unsubscribe"),
]
