"""Content-Security-Policy on every response (docs/configuration.md "Content Security Policy").

Django 5.2 has none of its own. The policy is the SECURE_CSP setting, a dict of directive → sources in the shape
Django 6.0's `django.middleware.csp` reads, so moving to it later is a change of middleware. The pages load their
scripts and styles from static files only: no inline script, event handler, `style` attribute or `<style>` block.

A page that shows something needing one more source adds it to its own response with `allow(request, …)`; the
email preview, for one, allows the style attributes of the email's template by their hashes.
"""

import base64
import hashlib

from django.conf import settings

HEADER = "Content-Security-Policy"


def source_hash(text: str) -> str:
    """The source expression that allows exactly this inline text (a script, or with 'unsafe-hashes' a style
    attribute's value)."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def allow(request, directive: str, *sources: str) -> None:
    """Add sources to one directive of the policy sent with this request's response, and no other."""
    extra = request.__dict__.setdefault("csp_extra", {})
    listed = extra.setdefault(directive, [])
    listed.extend(source for source in sources if source not in listed)


def policy(extra: dict[str, list[str]] | None = None) -> str:
    directives = {name: list(sources) for name, sources in settings.SECURE_CSP.items()}
    for name, sources in (extra or {}).items():
        listed = directives.setdefault(name, [])
        listed.extend(source for source in sources if source not in listed)
    return "; ".join(" ".join((name, *sources)) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Sends SECURE_CSP (plus what the request allowed) unless the response set a policy of its own.

    With DEBUG on, error responses go without it: Django's debug pages style and script themselves inline.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not settings.SECURE_CSP or HEADER in response:
            return response
        if settings.DEBUG and response.status_code >= 400:
            return response
        response[HEADER] = policy(getattr(request, "csp_extra", None))
        return response
