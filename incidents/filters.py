import django_filters

from core.api import FilterSet, IdFilter
from incidents.choices import OPEN_STATUSES, IncidentKind, IncidentStatus, Severity
from incidents.models import Incident


class IncidentFilter(FilterSet):
    """The incident list's filters, for the page and the API: a date and time with any UTC offset filters as the
    instant it names (`9999-12-31T23:59:59-23:00` was a 500 on the page), an id must be a whole number."""

    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    kind = django_filters.ChoiceFilter(choices=IncidentKind.choices)
    open = django_filters.BooleanFilter(
        method="filter_open", label="Open", help_text="true: not yet resolved; false: resolved or closed."
    )
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    component = IdFilter(field_name="components", label="Component id")

    class Meta:
        model = Incident
        fields = ["status", "severity", "kind", "open", "started_after", "started_before", "component"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)
