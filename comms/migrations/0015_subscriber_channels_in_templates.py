from django.db import migrations

SUBSCRIBER_CHANNELS = ("subscriber_hooks", "sms")


def add_subscriber_channels(apps, schema_editor):
    """Templates that email subscribers also reach those who subscribed by Slack, Teams, Discord, webhook or SMS:
    a subscriber chose the channel; the author should not have to remember it. A channel that is not configured
    (Twilio unset) is left out when a message is made from the template, as before."""
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for template in MessageTemplate.objects.all():
        if "email" in template.channels:
            missing = [kind for kind in SUBSCRIBER_CHANNELS if kind not in template.channels]
            if missing:
                template.channels = [*template.channels, *missing]
                template.save(update_fields=["channels"])


def remove_subscriber_channels(apps, schema_editor):
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for template in MessageTemplate.objects.all():
        kept = [kind for kind in template.channels if kind not in SUBSCRIBER_CHANNELS]
        if kept != template.channels:
            template.channels = kept
            template.save(update_fields=["channels"])


class Migration(migrations.Migration):
    dependencies = [("comms", "0014_delivery_summaries")]
    operations = [migrations.RunPython(add_subscriber_channels, remove_subscriber_channels)]
