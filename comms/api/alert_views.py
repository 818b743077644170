from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from comms.alerts.intake import receive
from comms.api.alert_auth import SOURCE_HEADER, AlertSourceAuthentication, FromAlertSource
from comms.api.alert_serializers import (
    AlertmanagerPayloadSerializer,
    AlertResultsSerializer,
    GenericAlertSerializer,
    GrafanaPayloadSerializer,
    read_payload,
)
from core.api import JSONParser


class AlertView(APIView):
    """Alerts from monitoring that open or join internal incidents (docs/api.md, "Alerts"). Posted by an alert
    source, authenticated by its bearer token or an HMAC-SHA256 signature of the body (`X-Signature: sha256=<hex>`,
    with `X-Alert-Source: <id>`); a user's token is refused (403). The body is the source's shape: Alertmanager's
    webhook (version 4), Grafana's webhook, or the generic shape (one alert, or `{"alerts": [...]}`). Each alert gets a
    result: opened incident N, joined incident N, duplicate (already firing), resolved, no component mapped, or no
    open alert (resolved, never seen firing). Nothing is made public."""

    authentication_classes = [AlertSourceAuthentication, TokenAuthentication]
    permission_classes = [FromAlertSource]
    throttle_scope = "alerts"
    parser_classes = [JSONParser]  # the signature is of the JSON body as sent

    @extend_schema(
        operation_id="alerts_create",
        request=PolymorphicProxySerializer(
            component_name="AlertPayload",
            serializers=[AlertmanagerPayloadSerializer, GrafanaPayloadSerializer, GenericAlertSerializer],
            resource_type_field_name=None,
        ),
        parameters=[
            OpenApiParameter(SOURCE_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
                             description="The alert source's id, for a signed request."),
            OpenApiParameter("source", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                             description="The alert source's id, for a signed request (instead of the header)."),
        ],
        responses={200: AlertResultsSerializer},
    )
    def post(self, request):
        alerts = read_payload(request.auth, request.data)
        return Response({"results": receive(request.auth, alerts)}, status=status.HTTP_200_OK)
