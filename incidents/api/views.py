from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from core.api import FilterSet, IdFilter
from incidents.api.serializers import ComponentSerializer, IncidentSerializer, TimelineEntrySerializer
from incidents.filters import IncidentFilter
from incidents.models import Component, Incident


class IncidentApiFilter(FilterSet, IncidentFilter):
    component = IdFilter(field_name="components", label="Component id")


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
    filterset_fields = ["tier", "status"]
    ordering_fields = ["display_order", "name", "tier"]


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
    filterset_class = IncidentApiFilter
    ordering_fields = ["started_at", "severity", "status", "updated_at"]

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request, pk=None):
        """The incident's append-only timeline, oldest first."""
        incident = self.get_object()
        entries = incident.timeline.select_related("actor")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)
