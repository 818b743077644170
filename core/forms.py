from django import forms
from django.conf import settings

from core.models import Preferences, available_time_zones
from core.validators import whole_number

# The continents and oceans of the IANA database; the select groups zones under them. Other names the database
# also knows (US/Eastern, Etc/GMT+5, …) are accepted but not offered, unless one is someone's current choice.
TIME_ZONE_REGIONS = (
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific",
)


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField for ids a visitor posts: a value that is not a whole number within the range of an
    id ("99999999999999999999999", "²", "1.5") is refused as an invalid choice before any query is made (SQLite
    raises OverflowError on an integer past 64 bits, which would be a 500)."""

    def _check_values(self, value):
        for item in value or ():
            if whole_number(item) is None:
                raise forms.ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                            params={"pk": str(item)[:40]})
        return super()._check_values(value)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def time_zone_choices(current: str = "") -> list:
    """Blank (the site's zone), UTC, then the zones of each region as an option group: "America" › "New York"."""
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in TIME_ZONE_REGIONS}
    for name in sorted(available_time_zones()):
        region, _, place = name.partition("/")
        if region in groups and place:
            groups[region].append((name, place.replace("_", " ")))
    choices = [("", f"The site's time zone ({settings.TIME_ZONE})"), ("UTC", "UTC")]
    choices += [(region, zones) for region, zones in groups.items() if zones]
    offered = {name for region_zones in groups.values() for name, _ in region_zones} | {"UTC"}
    if current and current not in offered:
        choices.append(("Other", [(current, current)]))
    return choices


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["time_zone"]
        labels = {"time_zone": "Time zone"}
        help_texts = {"time_zone": "Every time the pages show is in this zone, and times you enter are read in it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        field.widget = forms.Select(choices=time_zone_choices(self.instance.time_zone))
