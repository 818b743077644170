"""Pages for incidents: dashboard, list, detail, create, edit, status changes."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, TemplateView, UpdateView

from accounts.views import affected_accounts_context
from comms import approvals
from comms import hooks as comms_hooks
from comms.alerts import intake as alert_intake
from comms.alerts import metrics as alert_metrics
from comms.choices import MessagePhase, MessageState
from comms.forms import (
    IncidentForm,
    MessageForm,
    StatusForm,
)
from comms.models import AlertSource, MessageTemplate
from comms.views.messages import blank_initial, composer_context
from core.statemachine import TransitionNotAllowed
from core.views import RolePermissionMixin
from incidents import hooks, services
from incidents.choices import INCIDENT_MACHINE, IncidentStatus, Severity
from incidents.filters import IncidentFilter
from incidents.models import Component, Incident, TimelineEntry


class DashboardView(RolePermissionMixin, TemplateView):
    permission_required = "incidents.view_incident"
    template_name = "comms/dashboard.html"

    def get_context_data(self, **kwargs):
        open_incidents = (
            Incident.objects.open()
            .prefetch_related("components")
            .annotate(awaiting_approval=Count("messages", filter=Q(messages__state=MessageState.SUBMITTED)))
            .order_by("severity", "started_at")
        )
        by_severity = [
            (severity, [i for i in open_incidents if i.severity == severity]) for severity in Severity
        ]
        week_ago = timezone.now() - timezone.timedelta(days=7)
        return super().get_context_data(
            by_severity=by_severity,
            open_count=len(open_incidents),
            recently_resolved=Incident.objects.not_open().filter(resolved_at__gte=week_ago).order_by("-resolved_at")[:10],
            components=Component.objects.all(),
            awaiting_approval=approvals.awaiting_count_for(self.request),  # None: approves nothing
            approves_messages=self.request.user.has_perm("comms.approve_message"),
            dashboard_panels=[shown for panel in comms_hooks.dashboard_panels if (shown := panel(self.request))],
            # Alert to first public acknowledgement, once alerts are set up (comms.alerts.metrics).
            alert_medians=alert_metrics.median_times() if AlertSource.objects.exists() else None,
            **kwargs,
        )


class IncidentListView(RolePermissionMixin, TemplateView):
    permission_required = "incidents.view_incident"
    template_name = "comms/incident_list.html"

    def get_context_data(self, **kwargs):
        filterset = IncidentFilter(self.request.GET, queryset=Incident.objects.prefetch_related("components"))
        page = Paginator(filterset.qs, 25).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            filter=filterset,
            page=page,
            query=query.urlencode(),
            statuses=IncidentStatus.choices,
            severities=Severity.choices,
            **kwargs,
        )


class IncidentDetailView(RolePermissionMixin, DetailView):
    permission_required = "incidents.view_incident"
    template_name = "comms/incident_detail.html"
    queryset = Incident.objects.select_related("commander").prefetch_related(
        "components", Prefetch("timeline", queryset=TimelineEntry.objects.select_related("actor"), to_attr="entries")
    )

    def get_context_data(self, **kwargs):
        incident = self.object
        context = super().get_context_data(
            next_statuses=[(s, IncidentStatus(s).label) for s in INCIDENT_MACHINE.allowed_from(incident.status)],
            can_change=self.request.user.has_perm("incidents.change_incident"),
            incident_messages=incident.messages.select_related("author").order_by("-created_at", "-id"),
            resolution_template=resolution_template_to_offer(incident),
            **kwargs,
        )
        alerts = list(incident.alerts.select_related("source", "component").order_by("received_at", "pk"))
        if alerts:
            context.update(incident_alerts=alerts, alert_times=alert_metrics.for_incident(incident),
                           suggest_monitoring=alert_intake.suggests_monitoring(incident))
        if self.request.user.has_perm("accounts.view_impact"):
            context.update(affected_accounts_context(self.request, incident))
        context["incident_panels"] = []
        for panel in hooks.page_panels:
            if shown := panel(self.request, incident):
                template, panel_context = shown
                context["incident_panels"].append(template)
                context.update(panel_context)
        if self.request.user.has_perm("comms.add_message"):
            form = MessageForm(initial=blank_initial(incident))
            context.update(composer_context(self.request, incident, form, embedded=True))
        return context


class IncidentCreateView(RolePermissionMixin, CreateView):
    permission_required = "incidents.add_incident"
    form_class = IncidentForm
    template_name = "comms/incident_form.html"

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        components = data.pop("components")
        component_status = data.pop("component_status", "")
        self.object = services.create_incident(actor=self.request.user, components=components, **data)
        if component_status:
            services.set_affected_components_status(self.object, component_status, actor=self.request.user)
        messages.success(self.request, f"Incident “{self.object.title}” opened.")
        return redirect(self.object)


class IncidentUpdateView(RolePermissionMixin, UpdateView):
    permission_required = "incidents.change_incident"
    form_class = IncidentForm
    model = Incident
    template_name = "comms/incident_form.html"

    def form_valid(self, form):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        components = data.pop("components", None)
        component_status = data.pop("component_status", None)
        services.update_incident(self.object, actor=self.request.user, components=components, **data)
        if component_status is not None:
            services.set_affected_components_status(self.object, component_status, actor=self.request.user)
        messages.success(self.request, "Incident updated.")
        return redirect(self.object)


def resolution_template_to_offer(incident: Incident) -> MessageTemplate | None:
    """Once resolved, until a resolution message is written: the template to tell customers with."""
    if incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
        return None
    written = incident.messages.filter(phase=MessagePhase.RESOLUTION).exclude(state=MessageState.CANCELLED)
    if written.exists():
        return None
    return MessageTemplate.objects.filter(phase=MessagePhase.RESOLUTION).order_by("pk").first()


@require_POST
@permission_required("incidents.change_incident", raise_exception=True)
def change_incident_status(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status to move to.")
    elif form.cleaned_data["status"] == IncidentStatus.RESOLVED and request.POST.get("confirm") != "1":
        # Resolving is what customers will be told: ask once, and say what comes next.
        return render(request, "comms/incident_resolve.html", {"incident": incident, "note": form.cleaned_data["note"]})
    else:
        try:
            services.change_status(
                incident, form.cleaned_data["status"], actor=request.user, note=form.cleaned_data["note"]
            )
        except TransitionNotAllowed as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"Status is now {IncidentStatus(form.cleaned_data['status']).label.lower()}.")
            if form.cleaned_data["status"] == IncidentStatus.RESOLVED:
                messages.info(request, "Tell customers: write the resolution message (below).")
    return redirect(incident)


@require_POST
@permission_required("incidents.change_incident", raise_exception=True)
def show_incident_on_status_page(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    services.show_on_status_page(incident, actor=request.user)
    messages.success(request, "The incident is now on the status page.")
    return redirect(incident)


def coming_soon(request, area: str, issue: str):
    return render(request, "comms/coming_soon.html", {"area": area, "issue": issue})




