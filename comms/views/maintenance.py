"""Maintenance windows for people: everyone signed in reads the list and a window's page; communications leads
write, approve and move windows. Every change goes through incidents.maintenance and comms.maintenance.approval,
as the API's do, so the pages refuse what the API refuses (the reason comes back as a message on the page)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from comms.maintenance import approval
from core.forms import DateTimeLocalInput, IdsChoiceField
from core.statemachine import TransitionNotAllowed
from core.views import RolePermissionMixin
from incidents import maintenance as windows
from incidents.choices import MAINTENANCE_MACHINE, MaintenanceApproval, MaintenanceState
from incidents.models import Component, Maintenance

FORM_FIELDS = ["title", "what", "why", "customer_impact", "customer_action", "components", "scheduled_for",
               "scheduled_until", "needs_verification", "four_eyes", "internal_notes"]


class MaintenanceForm(forms.ModelForm):
    components = IdsChoiceField(Component.objects.all(), required=False,
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text="Under maintenance while the window lasts.")

    class Meta:
        model = Maintenance
        fields = FORM_FIELDS
        widgets = {
            "scheduled_for": DateTimeLocalInput(),
            "scheduled_until": DateTimeLocalInput(),
            "what": forms.Textarea(attrs={"rows": 3}),
            "why": forms.Textarea(attrs={"rows": 2}),
            "customer_impact": forms.Textarea(attrs={"rows": 2}),
            "customer_action": forms.Textarea(attrs={"rows": 2}),
            "internal_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("scheduled_for"), cleaned.get("scheduled_until")
        if start and end and end <= start:
            self.add_error("scheduled_until", "The window must end after it starts.")
        return cleaned


class MaintenanceListView(RolePermissionMixin, ListView):
    permission_required = "incidents.view_maintenance"
    template_name = "comms/maintenance_list.html"
    context_object_name = "windows"

    def get_queryset(self):
        return Maintenance.objects.prefetch_related("components").order_by("-scheduled_for", "-pk")[:200]


class MaintenanceDetailView(RolePermissionMixin, DetailView):
    permission_required = "incidents.view_maintenance"
    template_name = "comms/maintenance_detail.html"
    context_object_name = "window"
    queryset = Maintenance.objects.select_related("author", "approver").prefetch_related("components",
                                                                                        "timeline__actor")

    def get_context_data(self, **kwargs):
        return super().get_context_data(actions=window_actions(self.object, self.request.user), **kwargs)


def window_actions(window: Maintenance, user) -> dict:
    """Which buttons this user sees; the services still decide on each POST."""
    writes = user.has_perm("incidents.change_maintenance")
    approves = user.has_perm(approval.APPROVE)
    return {
        "edit": writes and window.is_editable,
        "submit": writes and window.approval == MaintenanceApproval.DRAFT and window.is_editable,
        "approve": approves and window.approval == MaintenanceApproval.SUBMITTED and window.is_editable,
        "reject": approves and window.approval == MaintenanceApproval.SUBMITTED,
        "start": writes and window.state == MaintenanceState.SCHEDULED and window.is_public,
        "complete": writes and MAINTENANCE_MACHINE.can(window.state, MaintenanceState.COMPLETED),
        "cancel": writes and MAINTENANCE_MACHINE.can(window.state, MaintenanceState.CANCELLED),
    }


def _edit(request, window=None):
    form = MaintenanceForm(request.POST or None, instance=window)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in FORM_FIELDS if name != "components"}
        try:
            if window is None:
                window = windows.create_maintenance(author=request.user, components=form.cleaned_data["components"],
                                                    **fields)
            else:
                approval.check_may_change(window, request.user)
                window = windows.update_maintenance(window, actor=request.user,
                                                    components=form.cleaned_data["components"], **fields)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except TransitionNotAllowed as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"Maintenance window “{window.title}” saved.")
            return redirect(window)
    return render(request, "comms/maintenance_form.html", {"form": form, "object": window})


@permission_required("incidents.add_maintenance", raise_exception=True)
def maintenance_create(request):
    if request.method not in ("GET", "POST"):
        return _method_not_allowed()
    return _edit(request)


@permission_required("incidents.change_maintenance", raise_exception=True)
def maintenance_update(request, pk):
    if request.method not in ("GET", "POST"):
        return _method_not_allowed()
    return _edit(request, get_object_or_404(Maintenance, pk=pk))


def _method_not_allowed():
    from django.http import HttpResponseNotAllowed

    return HttpResponseNotAllowed(["GET", "POST"])


ACTIONS = {
    "submit": (lambda window, request: approval.submit(window, actor=request.user), "submitted for approval"),
    "approve": (lambda window, request: approval.approve(window, actor=request.user), "approved: it is public now"),
    "reject": (lambda window, request: approval.reject(window, actor=request.user,
                                                        reason=request.POST.get("reason", "")), "sent back"),
    "start": (lambda window, request: windows.start(window, actor=request.user), "started"),
    "complete": (lambda window, request: windows.complete(window, actor=request.user), "completed"),
    "cancel": (lambda window, request: windows.cancel(window, actor=request.user,
                                                      reason=request.POST.get("reason", "")[:300]), "cancelled"),
}


@require_POST
@permission_required("incidents.change_maintenance", raise_exception=True)
def maintenance_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404("No such action.")
    window = get_object_or_404(Maintenance, pk=pk)
    function, done = ACTIONS[action]
    try:
        function(window, request)
    except (TransitionNotAllowed, PermissionDenied) as refusal:
        messages.error(request, str(refusal) or "You may not do that.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{window.title}” {done}.")
    return redirect(window)
