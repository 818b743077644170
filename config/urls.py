from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.health import healthz
from core.login import ThrottledLoginView
from core.views import profile

api_v1 = [
    path("", include("incidents.api.urls")),
    path("", include("comms.api.urls")),
    path("", include("sentiment.api.urls")),
    path("", include("accounts.api.urls")),
]

urlpatterns = [
    path("", include("comms.urls")),
    path("", include("accounts.urls")),
    path("", include("comms.statuspage.urls")),
    path("mentions/", include("sentiment.urls")),
    path("login/", ThrottledLoginView.as_view(), name="login"),  # refuses a while after repeated failures
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", profile, name="profile"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from ?script, not inline: the Content-Security-Policy holds.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="core/api_docs.html"),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
]

handler400 = "core.views.bad_request"  # the API answers a request it will not read in its JSON error shape
