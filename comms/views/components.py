"""Components for everyone signed in to read; communications leads create and edit them and set their status
(through incidents.services.set_component_status, so the status page follows)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, ListView, UpdateView

from comms.forms import ComponentForm, ComponentGroupForm, ComponentStatusForm
from core.views import RolePermissionMixin
from incidents import services
from incidents.choices import ComponentStatus
from incidents.models import Component, ComponentGroup


class ComponentListView(RolePermissionMixin, ListView):
    permission_required = "incidents.view_component"
    model = Component
    template_name = "comms/component_list.html"
    context_object_name = "components"

    def get_queryset(self):
        return Component.objects.select_related("group")

    def get_context_data(self, **kwargs):
        groups = list(ComponentGroup.objects.prefetch_related("components"))
        for group in groups:
            group.members = list(group.components.all())
            group.derived_status = group.status_of(group.members)
        return super().get_context_data(statuses=ComponentStatus.choices, groups=groups, **kwargs)


class ComponentEditMixin(RolePermissionMixin):
    model = Component
    form_class = ComponentForm
    template_name = "comms/component_form.html"
    success_url = reverse_lazy("component-list")

    def form_valid(self, form):
        self.object = form.save()
        messages.success(self.request, f"Component “{self.object.name}” saved.")
        return redirect(self.success_url)


class ComponentCreateView(ComponentEditMixin, CreateView):
    permission_required = "incidents.add_component"


class ComponentUpdateView(ComponentEditMixin, UpdateView):
    permission_required = "incidents.change_component"


class ComponentGroupEditMixin(RolePermissionMixin):
    """Groups are public (the status page shows each with its components' worst status); leads manage them."""

    model = ComponentGroup
    form_class = ComponentGroupForm
    template_name = "comms/component_group_form.html"
    success_url = reverse_lazy("component-list")

    def form_valid(self, form):
        self.object = form.save()
        messages.success(self.request, f"Group “{self.object.name}” saved.")
        return redirect(self.success_url)


class ComponentGroupCreateView(ComponentGroupEditMixin, CreateView):
    permission_required = "incidents.add_componentgroup"


class ComponentGroupUpdateView(ComponentGroupEditMixin, UpdateView):
    permission_required = "incidents.change_componentgroup"


@require_POST
@permission_required("incidents.change_component", raise_exception=True)
def set_component_status(request, pk):
    component = get_object_or_404(Component, pk=pk)
    form = ComponentStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Choose a status for {component.name}.")
    else:
        status = form.cleaned_data["status"]
        services.set_component_status(component, status, actor=request.user)
        messages.success(request, f"{component.name} is now {ComponentStatus(status).label.lower()}.")
    return redirect("component-list")
