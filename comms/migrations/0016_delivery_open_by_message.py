from django.db import migrations, models


class Migration(migrations.Migration):
    """A partial index of the deliveries still to send, per message: whether a message is done is asked after every
    batch, and counting all its rows each time grew with the square of its recipients."""

    dependencies = [("comms", "0015_subscriber_channels_in_templates")]

    operations = [
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(condition=models.Q(("status__in", ["queued", "sending"])), fields=["message"],
                               name="delivery_open_by_message"),
        ),
    ]
