"""Every URL pattern of the URL conf, recursively, as the authorization matrix names it."""

import re
from dataclasses import dataclass, field

from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# A named group that is a plain list of words, e.g. (?P<action>submit|approve|reject): one matrix key per word.
ENUMERATED = re.compile(r"\(\?P<(?P<group>\w+)>(?P<choices>[\w-]+(?:\|[\w-]+)+)\)")
ROUTE_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^()]*\)")


@dataclass(frozen=True)
class Route:
    key: str  # the matrix key: the URL name (namespaced), plus [variant] for an enumerated group
    name: str | None  # the name to reverse(), namespaced
    namespace: str | None
    pieces: tuple  # the patterns from the root, for building a path when there is no name
    fixed: dict = field(default_factory=dict, hash=False)  # kwargs fixed by the variant, e.g. {"action": "approve"}
    view: object = field(default=None, hash=False, compare=False)

    @property
    def route(self) -> str:
        return "".join(str(piece.pattern) for piece in self.pieces)

    @property
    def is_api(self) -> bool:
        """Django REST framework answers it: 401 to anonymous clients rather than the login page."""
        from rest_framework.views import APIView

        cls = getattr(self.view, "cls", None)
        return isinstance(cls, type) and issubclass(cls, APIView)

    @property
    def api_methods(self) -> frozenset[str] | None:
        """A viewset route's methods, from its action map; None for other views. HEAD is GET's (DRF adds it to the
        map at the first request)."""
        actions = getattr(self.view, "actions", None)
        return frozenset(method.upper() for method in actions) - {"HEAD"} if actions else None

    @property
    def params(self) -> set[str]:
        """The path parameters it needs, besides the fixed ones and a format suffix."""
        names = set()
        for piece in self.pieces:
            if isinstance(piece.pattern, RoutePattern):
                names |= {m["name"] for m in ROUTE_PARAM.finditer(str(piece.pattern))}
            else:
                names |= set(re.findall(r"\(\?P<(\w+)>", str(piece.pattern)))
        return names - set(self.fixed) - {"format"}

    def sample_path(self, values: dict) -> str:
        """A path for a pattern without a name: each parameter from `values` (by name), else '1'."""
        parts = []
        for piece in self.pieces:
            text = str(piece.pattern)
            if isinstance(piece.pattern, RoutePattern):
                text = ROUTE_PARAM.sub(lambda m: str(values.get(m["name"], 1)), text)
            else:
                text = REGEX_GROUP.sub(lambda m: str(values.get(m["name"], 1)), text.lstrip("^").rstrip("$"))
                text = text.replace("\\.", ".").replace("/?", "/")
            parts.append(text)
        return "/" + "".join(parts)


def _variants(pattern) -> list[dict]:
    if not isinstance(pattern, RegexPattern):
        return [{}]
    variants = [{}]
    for match in ENUMERATED.finditer(str(pattern)):
        variants = [{**v, match["group"]: choice} for v in variants for choice in match["choices"].split("|")]
    return variants


def _walk(patterns, pieces=(), namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from _walk(pattern.url_patterns, (*pieces, pattern), inner)
            continue
        name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
        chain = (*pieces, pattern)
        for fixed in _variants(pattern.pattern):
            label = name or "".join(str(piece.pattern) for piece in chain)
            key = label + "".join(f"[{value}]" for value in fixed.values())
            yield Route(key=key, name=name, namespace=namespace, pieces=chain, fixed=fixed, view=pattern.callback)


def all_routes() -> list[Route]:
    """Every pattern of the URL conf, one Route per variant; format-suffix duplicates of API routes included."""
    return list(_walk(get_resolver().url_patterns))


def distinct_routes() -> dict[str, Route]:
    """One Route per matrix key (the first pattern with that key: not the `.json` format-suffix duplicate)."""
    routes = {}
    for route in all_routes():
        routes.setdefault(route.key, route)
    return routes
