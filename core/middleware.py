from django.contrib.auth import middleware as auth_middleware
from django.utils import timezone

from core.models import Preferences


class UserTimeZoneMiddleware:
    """Shows and reads times in the signed-in user's own time zone (core.models.Preferences) on the pages that
    need a sign-in; put it after AuthenticationMiddleware.

    Views marked @login_not_required keep the site's TIME_ZONE: the public status page, its feed and JSON are
    cached and the same for every visitor, and the REST API (DRF marks its views so) answers ISO 8601 with
    offsets. The zone is looked up once per request (one query) and kept on the request as `time_zone`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "login_required", True) and request.user.is_authenticated:
            request.time_zone = Preferences.zone_of(request.user)
            timezone.activate(request.time_zone)
        return None


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's, except that a view marked @login_not_required is let through before the session is read. Django's
    asks `request.user` first, which reads the session, and SessionMiddleware then adds `Vary: Cookie` to the
    answer: every status page, feed and Statuspage JSON response would vary on the visitor's cookies, and a cache
    in front (nginx, a CDN) could not share them. Public answers are the same bytes for everyone; now they say so."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
