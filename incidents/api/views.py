from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ErrorSerializer
from incidents import services
from incidents.api.serializers import ComponentSerializer, IncidentSerializer, TimelineEntrySerializer
from incidents.filters import IncidentFilter
from incidents.models import Component, Incident


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
