"""The status page's forms for webhook subscriptions: the URL and what to hear about, then the code."""

from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.core.exceptions import ValidationError

from comms.endpoints.kinds import kind_of
from comms.endpoints.subscriptions import normal_code
from comms.models import SubscriberEndpoint
from comms.models.endpoints import CODE_LENGTH
from core.forms import IdsChoiceField
from core.outbound import validate_outbound_url
from incidents.models import Component, ComponentGroup


class ComponentChoicesForm(forms.Form):
    """What to hear about: the part of the form "Add to Slack" posts on (comms.endpoints.slack_oauth)."""

    components = IdsChoiceField(
        Component.objects.all(), required=False, widget=forms.CheckboxSelectMultiple, label="Only updates about",
        help_text="Leave all unticked to hear about everything.",
    )
    groups = IdsChoiceField(
        ComponentGroup.objects.filter(components__isnull=False).distinct(), required=False,
        widget=forms.CheckboxSelectMultiple, label="Or whole groups",
        help_text="A group stands for all of its components.",
    )


class EndpointSubscribeForm(ComponentChoicesForm):
    field_order = ["kind", "url", "components", "groups"]

    kind = forms.ChoiceField(
        choices=SubscriberEndpoint.Kind.choices, widget=forms.RadioSelect, initial=SubscriberEndpoint.Kind.SLACK,
        label="Post updates to",
    )
    url = forms.URLField(
        max_length=500, assume_scheme="https", label="Webhook URL",
        help_text="Only the channel it posts to sees updates; the URL is never shown on this site.",
    )

    def kinds_help(self) -> list[tuple[str, str]]:
        return [(kind_of(value).label, kind_of(value).url_help) for value, _ in SubscriberEndpoint.Kind.choices]

    def clean(self):
        data = super().clean()
        kind, url = data.get("kind"), data.get("url")
        if not kind or not url:
            return data
        try:
            kind_of(kind).check_url(url)
        except ValidationError as error:
            self.add_error("url", error)
            return data
        try:
            validate_outbound_url(url)  # https, and a public address now (checked again at every send)
        except ValidationError:
            # One sentence, never the reason: "… resolves to 10.0.3.7, a private address" would let any visitor
            # look up the names of the network EARS runs in (staff pages and the logs keep the detail).
            self.add_error("url", "EARS posts only to public https:// addresses, and this URL is not one.")
        data["url"] = urlunsplit(urlsplit(url)._replace(fragment=""))  # never sent: not part of what is stored
        return data


class EndpointConfirmForm(forms.Form):
    code = forms.CharField(
        label="Confirmation code", max_length=CODE_LENGTH + 4,
        help_text="The code in the message we just posted to your channel or webhook, e.g. ABCD-EFGH.",
        error_messages={"required": "Enter the code from the message we posted."},
    )

    def clean_code(self):
        code = normal_code(self.cleaned_data["code"])
        if len(code) != CODE_LENGTH:
            raise ValidationError(f"The code has {CODE_LENGTH} letters and digits, e.g. ABCD-EFGH.")
        return code
