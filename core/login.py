"""Sign-in throttling: after too many failed sign-ins for one username, or from one client, sign-in is refused for a
while — even with the right password, which is not checked at all until the lock ends.

It works inside authenticate() (a backend that refuses while locked, and the user_login_failed signal that counts),
so every form that checks a password is covered: /login/ and the Django admin's login alike. /login/ also says when
to try again (429 with Retry-After). A username is counted whether or not it exists, and the answer is the same, so
the lock tells nobody which usernames are real.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from core import ratelimit

log = logging.getLogger(__name__)

USERNAME, CLIENT = "login-username", "login-client"


def _request_ip(request) -> str | None:
    return ratelimit.client_ip(request) if request is not None and hasattr(request, "META") else None


def _keys(username, ip) -> list[tuple[str, str, int]]:
    """(scope, key, limit) for the username typed and for the client."""
    keys = []
    if isinstance(username, str) and username.strip():
        keys.append((USERNAME, username.strip().lower(), settings.LOGIN_FAILURES_PER_USERNAME))
    if ip:
        keys.append((CLIENT, ratelimit.network_key(ip), settings.LOGIN_FAILURES_PER_IP))
    return keys


def locked_for(username, ip) -> int:
    """Seconds until this username may sign in from this client again; 0 if it may now."""
    return max((ratelimit.locked_for(scope, key) for scope, key, _ in _keys(username, ip)), default=0)


def unlock(username: str) -> None:
    """Lift a username's lock at once (`manage.py shell -c "from core.login import unlock; unlock('lead')"`)."""
    ratelimit.forget(USERNAME, username.strip().lower())


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if locked_for(username, _request_ip(request)):
            raise PermissionDenied  # authenticate() stops here and reports a failed sign-in
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed, dispatch_uid="core.login.count_failed_sign_in")
def count_failed_sign_in(sender, credentials, request=None, **kwargs):
    username, ip = credentials.get(get_user_model().USERNAME_FIELD), _request_ip(request)
    if locked_for(username, ip):
        return  # refused unchecked: not a new failure, and the lock is not made longer
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    try:
        for scope, key, limit in _keys(username, ip):
            if ratelimit.count_failure(scope, key, window) >= limit:
                ratelimit.lock(scope, key, window)
    except Exception:  # the cache is down: sign-in keeps working, unthrottled, and the log says so
        log.warning("A failed sign-in was not counted: the cache did not answer", exc_info=True)


@receiver(user_logged_in, dispatch_uid="core.login.forget_failed_sign_ins")
def forget_failed_sign_ins(sender, request, user, **kwargs):
    try:
        unlock(user.get_username())
    except Exception:
        log.warning("Failed sign-ins were not forgotten: the cache did not answer", exc_info=True)


class ThrottledLoginView(LoginView):
    redirect_authenticated_user = True
    http_method_names = ["get", "post", "head", "options"]  # a FormView would treat PUT as POST

    def form_invalid(self, form):
        wait = locked_for(form.data.get("username"), _request_ip(self.request))
        if not wait:
            return super().form_invalid(form)
        context = self.get_context_data(form=form, try_again=ratelimit.describe_wait(wait))
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(wait)
        return response
