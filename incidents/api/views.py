from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ErrorSerializer
from incidents import history, services
from incidents.api.serializers import (
    ComponentGroupSerializer,
    ComponentSerializer,
    IncidentSerializer,
    TimelineEntrySerializer,
    UptimeQuerySerializer,
    UptimeSerializer,
)
from incidents.filters import IncidentFilter
from incidents.models import Component, ComponentGroup, Incident


class ComponentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Components of the service. Everyone signed in reads; communications leads create and change."""

    queryset = Component.objects.all()
    serializer_class = ComponentSerializer
    filterset_fields = ["tier", "status", "group"]
    ordering_fields = ["display_order", "name", "tier"]

    @extend_schema(parameters=[UptimeQuerySerializer], responses={
        200: UptimeSerializer, 400: OpenApiResponse(ErrorSerializer, description="A bad date or range.")})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def uptime(self, request, pk=None):
        """Uptime per day from the component's status history, in your time zone (`time_zone`): each day's worst
        status, minutes in each status, weighted minutes down and the public incidents that touched it.
        Major outage counts fully, partial outage 0.3, degraded performance and maintenance not at all."""
        component = self.get_object()
        return Response({"component": component.pk, **_uptime_report([component], request)})


def _uptime_report(components, request) -> dict:
    query = UptimeQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    days = query.validated_data
    if not components:
        return {"from": days["from"].isoformat(), "to": days["to"].isoformat(),
                "time_zone": str(timezone.get_current_timezone()), "uptime_percent": None, "down_minutes": "0",
                "known_minutes": "0", "days": []}
    return history.report(components, days["from"], days["to"], timezone.get_current_timezone())


class ComponentGroupViewSet(viewsets.ModelViewSet):
    """Component groups (e.g. "EU region"), shown together on the status page with the worst status of their
    components. Everyone signed in reads; communications leads create, change and delete them (deleting a group
    leaves its components on their own). A component joins a group through its own `group` field."""

    queryset = ComponentGroup.objects.prefetch_related("components")
    serializer_class = ComponentGroupSerializer
    ordering_fields = ["position", "name"]

    @extend_schema(parameters=[UptimeQuerySerializer], responses={
        200: UptimeSerializer, 400: OpenApiResponse(ErrorSerializer, description="A bad date or range.")})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def uptime(self, request, pk=None):
        """The group's uptime: at each moment it is as bad as its worst component."""
        group = self.get_object()
        return Response({"group": group.pk, **_uptime_report(list(group.components.all()), request)})


class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents. Everyone signed in reads; communications leads create and change them.

    Incidents are records and are never deleted through the API. A status change follows the allowed
    moves (see `allowed_statuses`); a refused move answers 409 with the reason.
    """

    queryset = Incident.objects.select_related("commander").prefetch_related("components")
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    ordering_fields = ["started_at", "severity", "status", "updated_at"]

    @extend_schema(request=None, responses={200: IncidentSerializer,
                                            403: OpenApiResponse(ErrorSerializer, description="Not a lead.")})
    @action(detail=True, methods=["post"], url_path="show-on-status-page", filter_backends=[])
    def show_on_status_page(self, request, pk=None):
        """Make an internal incident public: its title, impact summary, status and components show on the status
        page, its feed and the v2 JSON from now on (never its internal notes). Communications leads only. A new
        incident is internal until this, or until its first public message goes out; a security incident only
        this way. Idempotent."""
        incident = services.show_on_status_page(self.get_object(), actor=request.user)
        return Response(IncidentSerializer(incident, context=self.get_serializer_context()).data)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request, pk=None):
        """The incident's append-only timeline, oldest first."""
        incident = self.get_object()
        entries = incident.timeline.select_related("actor")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)
