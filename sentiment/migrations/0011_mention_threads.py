"""The thread a mention belongs to (the post or comment it answers, and where that is), and what a reply on its
network needs when the external id is not enough (LinkedIn)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0010_more_sources")]
    operations = [
        migrations.AddField(
            model_name="mention",
            name="in_reply_to_id",
            field=models.CharField(
                blank=True, max_length=200,
                help_text="The post or comment it answers, as the network names it (a Mastodon status id, a Bluesky "
                          "at:// URI, a Facebook post or comment id, a LinkedIn post or comment URN, a blog's comment "
                          "id)."),
        ),
        migrations.AddField(
            model_name="mention",
            name="in_reply_to_url",
            field=models.URLField(blank=True, help_text="Where that post or comment is.", max_length=500),
        ),
        migrations.AddField(
            model_name="mention",
            name="network_ref",
            field=models.CharField(
                blank=True, max_length=200,
                help_text="What a reply on the network needs when the external id is not enough (LinkedIn: the post's "
                          "URN and the URN of the comment to answer under)."),
        ),
    ]
