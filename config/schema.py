"""OpenAPI generation: every operation documents the errors it can give, in the API's one error shape."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from config.api import ErrorSerializer


class AutoSchema(SpectacularAutoSchema):
    """Documents the error responses every operation can give, in the one error shape."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {}
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = "The request body is invalid; `fields` says what to fix."
        if self._requires_auth():
            errors["401"] = "No valid credentials were sent."
            errors["403"] = "The user's role does not allow this."
        if "{" in self.path:
            errors["404"] = "No such object."
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors["409"] = "The object's current state does not allow this; `message` says why."
        for code, description in errors.items():
            responses.setdefault(
                code,
                self._get_response_for_code(OpenApiResponse(ErrorSerializer, description=description), code),
            )
        return responses

    def _requires_auth(self) -> bool:
        return not any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())
