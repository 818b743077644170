"""The approvals page: everything waiting for the signed-in user's approval (messages, compensation), and for
leads what is approved but not out yet."""

from django.utils import timezone
from django.views.generic import TemplateView

from comms import approvals
from comms.choices import MessageState
from comms.lint import lint_message, quiet_period_until
from comms.models import Message
from core.views import RolePermissionMixin


class ApprovalsView(RolePermissionMixin, TemplateView):
    """Leads: messages waiting for approval (those they wrote on SEV1/SEV2 marked "needs another lead"),
    compensation above the limit, approved messages not yet published, scheduled ones. Account managers: the
    compensation on their accounts that they approve themselves (at or below the limit)."""

    template_name = "comms/approvals.html"

    def has_permission(self):
        return approvals.sees_approvals(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        now = timezone.now()
        messages = approvals.waiting_messages(user)
        quiet_until = quiet_period_until()
        for message in messages:
            message.waited = now - (message.submitted_at or message.created_at)
            message.warning_count = len(lint_message(message, quiet_until=quiet_until))
        compensations = approvals.waiting_compensations(user)
        for compensation in compensations:
            compensation.waited = now - compensation.state_changed_at
        is_lead = user.has_perm(approvals.APPROVE_MESSAGE)
        base = Message.objects.select_related("incident", "author", "approver", "template")
        return super().get_context_data(
            waiting_messages=messages,
            waiting_compensations=compensations,
            waiting_count=(sum(1 for message in messages if not message.four_eyes)
                           + sum(1 for compensation in compensations if not compensation.needs_other_lead)),
            needs_another_lead=(sum(1 for message in messages if message.four_eyes)
                                + sum(1 for compensation in compensations if compensation.needs_other_lead)),
            is_lead=is_lead,
            approved=base.filter(state=MessageState.APPROVED).order_by("approved_at", "pk") if is_lead else (),
            scheduled=base.filter(state=MessageState.SCHEDULED).order_by("scheduled_for", "pk") if is_lead else (),
            **kwargs,
        )
