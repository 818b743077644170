from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from comms.api.serializers import ComponentSerializer, IncidentSerializer, TimelineEntrySerializer
from comms.filters import IncidentFilter
from comms.models import Component, Incident
from config.api import ErrorSerializer, FilterSet, IdFilter
from sentiment.api.serializers import IncidentSentimentSerializer


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

    @extend_schema(
        responses={200: IncidentSentimentSerializer,
                   400: OpenApiResponse(ErrorSerializer, description="`bucket` is not a number from 1 to 1440.")},
        parameters=[OpenApiParameter("bucket", int, description="Minutes per bucket, from 1 to 1440; default 15.")],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def sentiment(self, request, pk=None):
        """Mention volume, mean compound and share negative in 15-minute buckets (`bucket` = minutes), with a
        marker at every public message and the mean compound in the hour before and after it."""
        from sentiment.trends import incident_series

        try:
            bucket = int(request.query_params.get("bucket", 15))
        except ValueError:
            bucket = 0
        if not 1 <= bucket <= 1440:
            raise ValidationError({"bucket": ["Minutes per bucket, from 1 to 1440."]})
        return Response(incident_series(self.get_object(), bucket, max_buckets=2000))

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request, pk=None):
        """The incident's append-only timeline, oldest first."""
        incident = self.get_object()
        entries = incident.timeline.select_related("actor")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)
