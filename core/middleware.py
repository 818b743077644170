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
