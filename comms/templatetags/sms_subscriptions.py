"""{% sms_subscriptions_offered as offered %}: whether the status page offers SMS subscriptions (Twilio is set up)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def sms_subscriptions_offered() -> bool:
    return settings.TWILIO_CONFIGURED
