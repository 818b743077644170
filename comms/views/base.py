from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied

from comms.statemachine import TransitionNotAllowed

# What the service layer raises when a rule refuses an action; pages show it as a message.
REFUSALS = (TransitionNotAllowed, PermissionDenied)


class RolePermissionMixin(PermissionRequiredMixin):
    """Signed-in users without the permission get 403 rather than a loop back to the login page."""

    raise_exception = True
