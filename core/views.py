from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.http import require_http_methods

from core.forms import PreferencesForm
from core.models import Preferences
from core.statemachine import TransitionNotAllowed

# What the service layer raises when a rule refuses an action; pages show it as a message.
REFUSALS = (TransitionNotAllowed, PermissionDenied)


class RolePermissionMixin(PermissionRequiredMixin):
    """Signed-in users without the permission get 403 rather than a loop back to the login page."""

    raise_exception = True
    # Django's form views treat PUT as POST; pages answer GET and POST only, as tests/security's matrix declares.
    http_method_names = ["get", "post", "head", "options"]


def back_to(request, default):
    """The page the form came from (`next`), on this site only; otherwise `default`."""
    return redirect(safe_next(request, request.POST) or default)


def safe_next(request, data) -> str | None:
    """data's `next`, when it is a page of this site (never another host: no open redirect)."""
    back = data.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    return None


def describe_zone(zone) -> str:
    """"Europe/Paris (CET)": the zone's name and what it is called now; "UTC" alone."""
    abbreviation = timezone.now().astimezone(zone).strftime("%Z")
    return str(zone) if abbreviation == str(zone) else f"{zone} ({abbreviation})"


@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    """Every signed-in user's own settings: the time zone the pages use for them."""
    preferences = Preferences.objects.filter(user=request.user).first() or Preferences(user=request.user)
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=preferences)
    if form.is_valid():
        form.save()
        messages.success(request, f"Saved. Times are now shown in {describe_zone(preferences.zone)}.")
        return redirect("profile")
    shown_in = describe_zone(timezone.get_current_timezone())
    return render(request, "core/profile.html", {"form": form, "shown_in": shown_in})


def bad_request(request, exception=None):
    """Django's 400 (a request it would not read: a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields or
    files) — for the API in its one JSON error shape, 413 for a body too large; the pages keep Django's page."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"
        status, code, message = 413, "too_large", f"The request body is larger than the limit of {size}."
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        status, code, message = 400, "invalid", "The request has too many fields or files."
    else:
        status, code, message = 400, "invalid", "The request could not be read."
    return JsonResponse({"status": status, "code": code, "message": message}, status=status)
