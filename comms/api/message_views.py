import django_filters
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from comms import messaging
from comms.api.message_serializers import (
    ConfirmStaleSerializer,
    DeliverySerializer,
    DraftPreviewSerializer,
    MessageSerializer,
    MessageTemplateSerializer,
    MessageUpdateSerializer,
    PreviewSerializer,
    PublishSerializer,
    ReasonSerializer,
    SubscriberSerializer,
)
from comms.choices import DeliveryStatus, MessagePhase, MessageState
from comms.lint import as_dicts, lint_message
from comms.models import Delivery, Message, MessageTemplate, Subscriber
from comms.rendering import render_all
from core.api import ErrorSerializer, FilterSet, RolePermissions


class MessageFilter(FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=MessageState.choices)
    phase = django_filters.MultipleChoiceFilter(choices=MessagePhase.choices)

    class Meta:
        model = Message
        fields = ["incident", "state", "phase", "audience"]


class DeliveryFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Delivery
        fields = ["status"]


class SubscriberFilter(FilterSet):
    class Meta:
        model = Subscriber
        fields = ["confirmed_at"]


def preview_body(message: Message) -> dict:
    return {**render_all(message).as_dict(), "lint": as_dicts(lint_message(message))}


class ApproverPermissions(RolePermissions):
    """Approving, rejecting and retrying deliveries need the approve_message permission (communications leads)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm("comms.approve_message")


@extend_schema_view(
    update=extend_schema(request=MessageUpdateSerializer, responses=MessageSerializer),
    partial_update=extend_schema(request=MessageUpdateSerializer, responses=MessageSerializer),
)
class MessageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """EARS messages. Communications leads, account managers and support write drafts; only communications
    leads approve (for SEV1/SEV2, not their own); an unchanged pre-approved template may be published by a
    lead or support user at once. A move the state does not allow answers 409 with the reason."""

    queryset = Message.objects.select_related("incident", "author", "approver", "template")
    throttle_scope = None  # previews have a stricter rate of their own (core.api.ApiRateThrottle)
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    ordering_fields = ["created_at", "scheduled_for", "submitted_at"]

    def _act(self, request, function, serializer_class=None, **kwargs):
        message = self.get_object()
        if serializer_class is not None:
            body = serializer_class(data=request.data)
            body.is_valid(raise_exception=True)
            kwargs.update(body.validated_data)
        message = function(message, actor=request.user, **kwargs)
        message.refresh_from_db()
        return Response(MessageSerializer(message, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Ask a communications lead to approve this draft."""
        return self._act(request, messaging.submit)

    @extend_schema(request=ConfirmStaleSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ApproverPermissions])
    def approve(self, request, pk=None):
        """Approve (communications leads). With `scheduled_for` set it is then scheduled; else publish it."""
        return self._act(request, messaging.approve, ConfirmStaleSerializer)

    @extend_schema(request=ReasonSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ApproverPermissions])
    def reject(self, request, pk=None):
        """Send it back to the author as a draft, with the reason."""
        return self._act(request, messaging.reject, ReasonSerializer)

    @extend_schema(request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel before sending."""
        return self._act(request, messaging.cancel)

    @extend_schema(request=PublishSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Send now (or at `at`): an approved message (leads), or an unchanged pre-approved draft (leads, support)."""
        return self._act(request, messaging.publish, PublishSerializer)

    @extend_schema(responses=PreviewSerializer)
    @action(detail=True, methods=["get"], throttle_scope="preview")
    def preview(self, request, pk=None):
        """Every channel's rendering of this message, and its lint warnings."""
        return Response(preview_body(self.get_object()))

    @extend_schema(request=DraftPreviewSerializer, responses=PreviewSerializer)
    @action(detail=False, methods=["post"], url_path="preview", throttle_scope="preview")
    def preview_draft(self, request):
        """Render an unsaved draft (nothing is stored), for live previews while writing."""
        body = DraftPreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(preview_body(Message(author=request.user, **body.validated_data)))

    @extend_schema(
        responses={200: DeliverySerializer(many=True),
                   400: OpenApiResponse(ErrorSerializer, description="`status` is not a delivery status.")},
        parameters=[OpenApiParameter("status", str, many=True, enum=DeliveryStatus.values,
                                     description="Only deliveries in these statuses.")],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        """Every delivery of this message, per channel and recipient. Filter with `status`; the paginated `count`
        is then the number in those statuses.

        Email recipients are subscribers, account contacts or colleagues: their addresses are shown only to users
        who may read subscribers (`comms.view_subscriber`, communications leads). For everyone else an email
        delivery's `recipient` is null and addresses in its `last_error` read "[address hidden]"; they see the
        channel, status, attempts and counts. Other channels' recipients (`statuspage`, `x`, `endpoint:<id>`) are
        shown to every reader."""
        message = self.get_object()
        rows = DeliveryFilter(request.query_params, queryset=message.deliveries.order_by("channel", "pk"))
        if not rows.is_valid():  # an unknown status is a 400, as in every other filter (and no NUL reaches SQL)
            raise ValidationError(translate_validation(rows.errors))
        page = self.paginate_queryset(rows.qs)
        return self.get_paginated_response(
            DeliverySerializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ApproverPermissions])
    def retry(self, request, pk=None):
        """Queue this message's failed deliveries again (communications leads)."""
        message = self.get_object()
        messaging.retry_failed(message, request.user)
        message.refresh_from_db()
        return Response(MessageSerializer(message, context=self.get_serializer_context()).data,
                        status=status.HTTP_202_ACCEPTED)


class MessageTemplateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Templates per phase with {placeholders}. Everyone who writes messages reads them; communications
    leads create and edit them (and decide which are pre-approved)."""

    queryset = MessageTemplate.objects.all()
    serializer_class = MessageTemplateSerializer
    filterset_fields = ["phase", "pre_approved"]

    def perform_create(self, serializer):
        serializer.save(written_by=self.request.user)  # an author of messages left as it makes them (four eyes)

    def perform_update(self, serializer):
        serializer.save(written_by=self.request.user)


class SubscriberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Status page email subscribers (communications leads only). A subscriber added here still has to
    confirm through the email it receives before any update is sent to it."""

    queryset = Subscriber.objects.prefetch_related("components")
    serializer_class = SubscriberSerializer
    filterset_class = SubscriberFilter
