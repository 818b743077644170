from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from comms.api.maintenance_serializers import (
    CancelSerializer,
    MaintenanceReasonSerializer,
    MaintenanceSerializer,
    MaintenanceUpdateSerializer,
    RescheduleSerializer,
)
from comms.api.message_views import ApproverPermissions
from comms.maintenance import approval
from core.api import FilterSet, RolePermissions
from incidents import maintenance as windows
from incidents.models import Maintenance


class MaintenanceFilter(FilterSet):
    class Meta:
        model = Maintenance
        fields = ["state", "approval"]


class WriterPermissions(RolePermissions):
    """Starting, completing, cancelling and rescheduling need incidents.change_maintenance (communications leads)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm("incidents.change_maintenance")


@extend_schema_view(
    update=extend_schema(request=MaintenanceUpdateSerializer, responses=MaintenanceSerializer),
    partial_update=extend_schema(request=MaintenanceUpdateSerializer, responses=MaintenanceSerializer),
)
class MaintenanceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Maintenance windows. Every role reads them; communications leads write, approve (with four eyes when the
    window asks for it), start, complete, cancel and reschedule them. Nothing is public until approved; an edit
    or a new time after approval needs approval again. A move the state does not allow answers 409 with the
    reason."""

    queryset = Maintenance.objects.select_related("author", "approver").prefetch_related(
        "components", "timeline__actor")
    serializer_class = MaintenanceSerializer
    filterset_class = MaintenanceFilter
    ordering_fields = ["scheduled_for", "created_at"]

    def _act(self, request, function, serializer_class=None, **kwargs):
        window = self.get_object()
        if serializer_class is not None:
            body = serializer_class(data=request.data)
            body.is_valid(raise_exception=True)
            kwargs.update(body.validated_data)
        function(window, actor=request.user, **kwargs)
        return Response(MaintenanceSerializer(self.get_queryset().get(pk=window.pk),
                                              context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[WriterPermissions])
    def submit(self, request, pk=None):
        """Ask a communications lead to approve it."""
        return self._act(request, approval.submit)

    @extend_schema(request=None, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ApproverPermissions])
    def approve(self, request, pk=None):
        """Approve it (communications leads; another lead when it asks for four eyes): it shows publicly, and its
        notices go to subscribers when due."""
        return self._act(request, approval.approve)

    @extend_schema(request=MaintenanceReasonSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ApproverPermissions])
    def reject(self, request, pk=None):
        """Send it back to its author as a draft, with the reason."""
        return self._act(request, approval.reject, MaintenanceReasonSerializer)

    @extend_schema(request=None, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[WriterPermissions])
    def start(self, request, pk=None):
        """Start it now, before its time (approved windows only); beat starts it at its time otherwise."""
        return self._act(request, windows.start)

    @extend_schema(request=None, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[WriterPermissions])
    def complete(self, request, pk=None):
        """Complete it: in progress (early) or verifying."""
        return self._act(request, windows.complete)

    @extend_schema(request=CancelSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[WriterPermissions])
    def cancel(self, request, pk=None):
        """Cancel a scheduled window; subscribers who were told of it are told."""
        return self._act(request, windows.cancel, CancelSerializer)

    @extend_schema(request=RescheduleSerializer, responses=MaintenanceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[WriterPermissions])
    def reschedule(self, request, pk=None):
        """New times for a scheduled window: it needs approval again, then subscribers who were told are told."""
        return self._act(request, windows.reschedule, RescheduleSerializer)
