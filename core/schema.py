"""OpenAPI generation: every operation documents the errors it can give, in the API's one error shape."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance, get_doc
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from core.api import ErrorSerializer, StrictFieldsMixin

# Query parameters every list accepts that never make it answer 400 (a bad `page` is a 404).
PAGINATION_AND_ORDERING = {"page", "page_size", "ordering"}


class AutoSchema(SpectacularAutoSchema):
    """Documents the error responses every operation can give, in the one error shape, and that request bodies
    refuse unknown fields (StrictFieldsMixin)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {}
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = "The request body is invalid; `fields` says what to fix."
        elif self._validates_query():
            errors["400"] = "A query parameter is invalid; `fields` says which."
        if self._requires_auth():
            errors["401"] = "No valid credentials were sent."
            errors["403"] = "The user's role does not allow this."
        if "{" in self.path:
            errors["404"] = "No such object."
        elif self.method == "GET" and self._is_list_view() and self._get_paginator():
            errors["404"] = "No such page: `page` is past the last page or not a number."
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors["409"] = "The object's current state does not allow this; `message` says why."
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            errors["415"] = "The body's Content-Type is not one this operation accepts."
        if self.view.get_throttles():
            errors["429"] = "Too many requests; `Retry-After` says when to try again."
        for code, description in errors.items():
            responses.setdefault(
                code,
                self._get_response_for_code(OpenApiResponse(ErrorSerializer, description=description), code),
            )
        return responses

    def _resolve_path_parameters(self, variables):
        """Ids are integers. The router takes any path segment in their place, so that `/incidents/1.5/` is the
        API's JSON 404 (core.api.api_router), which drf-spectacular would document as "any string": a client
        generated from that schema, or a fuzzer, sent `/messages/preview/` as a GET of message "preview"."""
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] == "id" or parameter["name"].endswith("_pk"):
                parameter["schema"] = {"type": "integer"}
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if isinstance(force_instance(serializer), StrictFieldsMixin):
            if schema.get("description") == get_doc(StrictFieldsMixin):
                del schema["description"]  # the mixin's docstring says nothing about this serializer
            if direction == "request":
                schema["additionalProperties"] = False  # an unknown or read-only field is a 400
        return schema

    def _requires_auth(self) -> bool:
        return not any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())

    def _validates_query(self) -> bool:
        """A GET whose filters (django-filter) refuse values they cannot read, e.g. an unknown choice."""
        if self.method != "GET":
            return False
        return any(parameter["name"] not in PAGINATION_AND_ORDERING for parameter in self._get_filter_parameters())
