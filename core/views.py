from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

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
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect(default)
