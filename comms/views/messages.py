"""Pages for messages: composer, edit, message page with deliveries, actions, approvals queue."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, When
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import DetailView

from comms import messaging
from comms.channels import REGISTRY, get_transport
from comms.choices import (
    MESSAGE_MACHINE,
    Audience,
    DeliveryStatus,
    MessagePhase,
    MessageState,
)
from comms.forms import (
    MessageForm,
    message_initial,
    template_content,
    template_initial,
)
from comms.lint import lint_message
from comms.models import Message, MessageTemplate
from comms.privacy import hides_recipient, without_addresses
from comms.rendering import render_all
from comms.retention import summarised_counts
from core.validators import whole_number
from core.views import REFUSALS, RolePermissionMixin, back_to
from incidents.models import Incident


def blank_initial(incident: Incident) -> dict:
    """A blank message for this incident: the phase its next message most likely has."""
    if not incident.is_open:
        phase = MessagePhase.RESOLUTION
    elif incident.messages.exists():
        phase = MessagePhase.UPDATE
    else:
        phase = MessagePhase.INITIAL
    channels = [kind for kind in ("statuspage", "email") if get_transport(kind).is_configured()]
    return {"phase": phase, "audience": Audience.PUBLIC, "channels": channels}


def channel_options(form: MessageForm) -> list[dict]:
    """Every channel as a checkbox; one that is not configured is shown disabled, with the reason."""
    selected = form["channels"].value() or []
    options = []
    for kind in REGISTRY:
        transport = get_transport(kind)
        options.append({
            "kind": kind,
            "label": transport.label,
            "checked": kind in selected,
            "configured": transport.is_configured(),
            "reason": transport.not_configured_reason(),
            "public_only": set(transport.audiences) == {Audience.PUBLIC},
        })
    return options


def preview_of(message: Message) -> dict:
    """What the preview panes show: each channel's rendering and the lint warnings. Nothing is saved."""
    return {"rendering": render_all(message).as_dict(), "lint": lint_message(message)}


def selected_template(form: MessageForm) -> MessageTemplate | None:
    if "template" not in form.fields:
        return None
    if form.is_bound:
        return form.cleaned_data.get("template") if form.is_valid() else None
    pk = form.initial.get("template")
    return MessageTemplate.objects.filter(pk=pk).first() if pk else None


def is_unchanged_template(form: MessageForm, template: MessageTemplate | None, incident: Incident) -> bool:
    """True when the content is exactly the template's, placeholders filled: it stays 'unchanged'."""
    if template is None:
        return False
    if not form.is_bound:
        return form.initial.get("template") == template.pk
    content = template_content(template, incident)
    return form.is_valid() and all(form.cleaned_data[name] == value for name, value in content.items())


def composer_context(request, incident, form, *, message=None, preview=None, embedded=False) -> dict:
    template = selected_template(form)
    can_publish = bool(
        message is None
        and template is not None
        and template.pre_approved
        and request.user.has_perm("comms.publish_preapproved_message")
        and is_unchanged_template(form, template, incident)
    )
    if message is None:
        action = reverse("message-create", args=[incident.pk])
    else:
        action = reverse("message-update", args=[message.pk])
    return {
        "incident": incident,
        "form": form,
        "editing": message,
        "part_fields": [form[name] for name in ("explain", "acknowledge", "resolve", "study")],
        "channel_options": channel_options(form),
        "templates": MessageTemplate.objects.all() if message is None else (),
        "selected_template": template,
        # The picker offers the template of the phase this message most likely has (the first of that phase).
        "picker_template": template or (
            MessageTemplate.objects.filter(phase=form.initial.get("phase")).order_by("pk").first()
            if message is None else None),
        "can_publish": can_publish,
        "preview": preview,
        "preview_url": reverse("api-message-preview-draft"),
        "form_action": action,
        "embedded": embedded,
    }


def add_errors(form: MessageForm, error: ValidationError) -> None:
    """Put a ValidationError from comms.messaging on the form: on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def publish_time(message: Message):
    """'Publish' keeps a time the author chose in the future; otherwise it goes out now."""
    if message.state != MessageState.SCHEDULED and message.scheduled_for and message.scheduled_for > timezone.now():
        return message.scheduled_for
    return None


def published_text(message: Message) -> str:
    if message.scheduled_for and message.scheduled_for > timezone.now() + timezone.timedelta(seconds=30):
        return f"Published; it goes out at {timezone.localtime(message.scheduled_for):%Y-%m-%d %H:%M %Z}."
    return "Published; it is being sent now."


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("comms.add_message", raise_exception=True)
def message_create(request, pk):
    """The composer: from a template (?template=<id>) or blank; preview, save, submit or publish."""
    incident = get_object_or_404(Incident, pk=pk)
    if request.method != "POST":
        template = None
        if (chosen := whole_number(request.GET.get("template", ""))) is not None:
            template = MessageTemplate.objects.filter(pk=chosen).first()
        initial = template_initial(template, incident) if template else blank_initial(incident)
        form = MessageForm(initial=initial)
        return render(request, "comms/message_form.html", composer_context(request, incident, form))

    form = MessageForm(request.POST)
    action = request.POST.get("action", "save")
    preview = None
    if form.is_valid():
        fields = form.message_fields()
        template = form.cleaned_data["template"]
        if action == "preview":
            preview = preview_of(Message(incident=incident, author=request.user, **fields))
        else:
            if is_unchanged_template(form, template, incident):
                # Content left exactly as the template made it: let create_message fill it, so that the
                # message keeps the template's digest and stays publishable without a second approval.
                fields = {name: value for name, value in fields.items() if name not in messaging.CONTENT_FIELDS}
            try:
                with transaction.atomic():
                    message = messaging.create_message(
                        incident=incident, author=request.user, template=template, **fields
                    )
                    if action == "submit":
                        message = messaging.submit(message, actor=request.user)
                    elif action == "publish":
                        message = messaging.publish(message, actor=request.user, at=publish_time(message))
            except REFUSALS as refusal:
                messages.error(request, f"Nothing was saved: {refusal}")
            except ValidationError as error:
                add_errors(form, error)
            else:
                if action == "submit":
                    messages.success(request, "Saved and submitted for approval.")
                elif action == "publish":
                    messages.success(request, published_text(message))
                else:
                    messages.success(request, "Draft saved.")
                return redirect(message)
    context = composer_context(request, incident, form, preview=preview)
    return render(request, "comms/message_form.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("comms.change_message", raise_exception=True)
def message_update(request, pk):
    message = get_object_or_404(Message.objects.select_related("incident", "template"), pk=pk)
    messaging.check_may_change(message, request.user)  # 403: only its author or a lead edits a message
    incident = message.incident
    if not message.is_editable:
        messages.error(request, f"A {message.get_state_display().lower()} message can no longer be edited.")
        return redirect(message)
    if request.method != "POST":
        form = MessageForm(initial=message_initial(message), message=message)
        return render(request, "comms/message_form.html", composer_context(request, incident, form, message=message))

    form = MessageForm(request.POST, message=message)
    action = request.POST.get("action", "save")
    preview = None
    if form.is_valid():
        if action == "preview":
            preview = preview_of(Message(pk=message.pk, incident=incident, author=message.author,
                                         **form.message_fields()))
        else:
            was = message.state
            try:
                with transaction.atomic():
                    message = messaging.update_message(message, actor=request.user, **form.changed_fields())
                    if action == "submit" and message.state == MessageState.DRAFT:
                        message = messaging.submit(message, actor=request.user)
            except REFUSALS as refusal:
                messages.error(request, str(refusal))
            except ValidationError as error:
                add_errors(form, error)
            else:
                text = "Saved."
                if was in (MessageState.APPROVED, MessageState.SCHEDULED) and message.state == MessageState.SUBMITTED:
                    text = "Saved. The text changed after approval, so it needs approval again."
                elif action == "submit" and message.state == MessageState.SUBMITTED:
                    text = "Saved and submitted for approval."
                messages.success(request, text)
                return redirect(message)
    context = composer_context(request, incident, form, message=message, preview=preview)
    return render(request, "comms/message_form.html", context)


def message_actions(message: Message, user) -> dict:
    """Which buttons this user sees on this message now. The service layer still decides on each POST."""
    is_lead = user.has_perm("comms.approve_message")
    can_change = user.has_perm("comms.change_message") and (is_lead or message.author_id == user.pk)
    state = message.state
    preapproved = state in (MessageState.DRAFT, MessageState.SUBMITTED) and message.is_unchanged_preapproved
    return {
        "edit": can_change and message.is_editable,
        "submit": can_change and state == MessageState.DRAFT,
        "approve": is_lead and state == MessageState.SUBMITTED,
        "reject": is_lead and state == MessageState.SUBMITTED,
        "publish": (is_lead and state in (MessageState.APPROVED, MessageState.SCHEDULED))
        or (preapproved and user.has_perm("comms.publish_preapproved_message")),
        "cancel": can_change and MESSAGE_MACHINE.can(state, MessageState.CANCELLED),
        "retry": is_lead and state in (MessageState.PARTIALLY_FAILED, MessageState.FAILED),
    }


FINISHED_STATES = (MessageState.SENT, MessageState.PARTIALLY_FAILED, MessageState.FAILED, MessageState.CANCELLED)


def is_going_out(message: Message) -> bool:
    """Published to go out now (scheduled, due) but not yet claimed by dispatch: beat or a worker picks it up in
    seconds. Such a message is not 'Scheduled' for its readers, and 'Send now' would do nothing new."""
    return bool(
        message.state == MessageState.SCHEDULED
        and message.scheduled_for
        and message.scheduled_for <= timezone.now()
        and not message.dispatched_at
    )


def state_label(message: Message) -> str:
    """The state badge's text: what comms/_message_state.html shows, and what progress.js sets."""
    return "Going out now" if is_going_out(message) else message.get_state_display()


def delivery_counts(message: Message) -> list[dict]:
    """Per channel: how many deliveries are in each status, and the total. Counts only, never a recipient. The rows
    retention summarised and deleted (comms.retention) are counted from their summary."""
    rows = {row["channel"]: row for row in (
        message.deliveries.values("channel")
        .annotate(total=Count("pk"), **{s: Count("pk", filter=Q(status=s)) for s in DeliveryStatus.values})
    )}
    for (channel, status), count in summarised_counts(message).items():
        row = rows.setdefault(channel, {"channel": channel, "total": 0, **dict.fromkeys(DeliveryStatus.values, 0)})
        row[status] += count
        row["total"] += count
    return [rows[channel] for channel in sorted(rows)]


def progress_text(message: Message, counts: list[dict]) -> str:
    """One line on how sending goes, e.g. 'Sent 1,980 of 2,000 · 3 failed'; '' while there is nothing to say."""
    state = message.state
    if state == MessageState.CANCELLED:
        return "Cancelled; it will not be sent." if not counts else "Cancelled."
    if state == MessageState.SCHEDULED and not is_going_out(message):
        when = timezone.localtime(message.scheduled_for) if message.scheduled_for else None
        return f"Scheduled to go out at {when:%Y-%m-%d %H:%M %Z}." if when else ""
    if state not in (MessageState.SCHEDULED, MessageState.SENDING, *FINISHED_STATES):
        return ""
    if not counts:
        if state in FINISHED_STATES:
            return f"{message.get_state_display()}: there were no recipients."
        return "Going out now…"
    total = sum(row["total"] for row in counts)
    sent = sum(row[DeliveryStatus.SENT] for row in counts)
    failed = sum(row[DeliveryStatus.FAILED] for row in counts)
    skipped = sum(row[DeliveryStatus.SKIPPED] for row in counts)
    text = f"Sent {sent:,} of {total:,}"
    if failed:
        text += f" · {failed:,} failed"
    if skipped:
        text += f" · {skipped:,} skipped"
    if state in FINISHED_STATES:
        return f"Finished: {text[0].lower()}{text[1:]}."
    if state == MessageState.SENDING and not message.fanned_out_at:
        text += " · still preparing deliveries"
    return f"{text}…"


def delivery_progress(message: Message) -> dict:
    """What the message page's live region shows, and what GET messages/<pk>/progress/ answers."""
    counts = delivery_counts(message)
    return {
        "state": message.state,
        "label": state_label(message),
        "going_out": is_going_out(message) or message.state == MessageState.SENDING,
        "finished": message.state in FINISHED_STATES,
        "text": progress_text(message, counts),
        "channels": counts,
    }


@require_GET
@permission_required("comms.view_message", raise_exception=True)
def message_progress(request, pk):
    """Delivery progress as JSON for progress.js: state, counts per channel and status, finished or not.
    Counts only: recipients' addresses stay on the message page, for those who may read subscribers."""
    message = get_object_or_404(Message, pk=pk)
    return JsonResponse(delivery_progress(message), headers={"Cache-Control": "no-store"})


class MessageDetailView(RolePermissionMixin, DetailView):
    permission_required = "comms.view_message"
    template_name = "comms/message_detail.html"
    context_object_name = "msg"
    queryset = Message.objects.select_related("incident", "author", "approver", "template")
    deliveries_per_page = 50

    def get_context_data(self, **kwargs):
        message = self.object
        user = self.request.user
        status = self.request.GET.get("status", "")
        if status not in DeliveryStatus.values:
            status = ""
        rows = message.deliveries.annotate(
            failed_first=Case(When(status=DeliveryStatus.FAILED, then=0), default=1, output_field=IntegerField())
        ).order_by("failed_first", "channel", "pk")
        if status:
            rows = rows.filter(status=status)
        progress = delivery_progress(message)
        actions = message_actions(message, user)
        if progress["going_out"]:
            actions["publish"] = False  # already due: 'Send now' would only move it to now again
        deliveries = Paginator(rows, self.deliveries_per_page).get_page(self.request.GET.get("page"))
        # Recipients' email addresses only for those who may read subscribers (comms.privacy); others see counts.
        for delivery in deliveries:
            hidden = hides_recipient(delivery, user)
            delivery.shown_recipient = None if hidden else delivery.recipient
            delivery.shown_error = without_addresses(delivery.last_error) if hidden else delivery.last_error
        return super().get_context_data(
            incident=message.incident,
            preview=preview_of(message),
            actions=actions,
            four_eyes=messaging.four_eyes_refusal(message, user) if actions["approve"] else "",
            publish_label=publish_label(message),
            delivery_counts=progress["channels"],
            progress=progress,
            deliveries=deliveries,
            delivery_status=status,
            delivery_statuses=DeliveryStatus.choices,
            **kwargs,
        )


def publish_label(message: Message) -> str:
    if message.state == MessageState.SCHEDULED:
        return "Send now"
    when = publish_time(message)
    return f"Publish for {timezone.localtime(when):%H:%M %Z}" if when else "Publish now"


# Each action needs one of these permissions before the service layer has its say; without any the answer is 403.
ACTION_PERMISSIONS = {
    "submit": ("comms.change_message",),
    "cancel": ("comms.change_message",),
    "approve": ("comms.approve_message",),
    "reject": ("comms.approve_message",),
    "retry": ("comms.approve_message",),
    # Leads publish approved messages, leads and support unchanged pre-approved drafts: messaging decides which.
    "publish": ("comms.approve_message", "comms.publish_preapproved_message"),
}


def _approve(message, request):
    message = messaging.approve(message, actor=request.user, confirm_stale=request.POST.get("confirm_stale") == "1")
    if message.state == MessageState.SCHEDULED and message.scheduled_for > timezone.now():
        return f"Approved; it goes out at {timezone.localtime(message.scheduled_for):%Y-%m-%d %H:%M %Z}."
    if message.state == MessageState.SCHEDULED:
        return "Approved; it is being sent now."
    return "Approved. Publish it when it should go out."


def _reject(message, request):
    messaging.reject(message, actor=request.user, reason=request.POST.get("reason", ""))
    return "Sent back to the author as a draft, with your reason."


def _publish(message, request):
    was = message.state
    message = messaging.publish(message, actor=request.user, at=publish_time(message),
                                confirm_stale=request.POST.get("confirm_stale") == "1")
    if message.scheduled_for and message.scheduled_for > timezone.now() + timezone.timedelta(seconds=30):
        return published_text(message)
    # The badge says "Going out now" until dispatch claims it, and the page follows the sending live.
    if was == MessageState.SCHEDULED:
        return "Moved to now; it is going out now."
    return "Published; it is going out now."


def _submit(message, request):
    messaging.submit(message, actor=request.user)
    return "Submitted for approval."


def _cancel(message, request):
    messaging.cancel(message, actor=request.user)
    return "Cancelled; it will not be sent."


def _retry(message, request):
    count = messaging.retry_failed(message, request.user)
    if not count:
        return "There were no failed deliveries to retry."
    return f"{count:,} failed deliver{'y' if count == 1 else 'ies'} queued again."


ACTIONS = {
    "submit": _submit, "approve": _approve, "reject": _reject, "publish": _publish, "cancel": _cancel,
    "retry": _retry,
}


@require_POST
def message_action(request, pk, action):
    """One POST per button on the message page and the approvals queue; refusals come back as messages."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    if not any(request.user.has_perm(permission) for permission in ACTION_PERMISSIONS[action]):
        raise PermissionDenied
    message = get_object_or_404(Message.objects.select_related("incident", "template"), pk=pk)
    try:
        outcome = ACTIONS[action](message, request)
    except REFUSALS as refusal:
        messages.error(request, str(refusal))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, outcome)
    return back_to(request, message)

