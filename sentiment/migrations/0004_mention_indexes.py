"""Partial indexes on mentions: a mention enters an index only once it is flagged, linked, assigned (or while it
waits to be scored), instead of every mention in nine indexes (docs/benchmarks.md, ingest).

Not atomic, so that on PostgreSQL the new indexes build concurrently, while mentions keep arriving, before the old
ones are dropped (each drop a brief lock, committed on its own)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.db import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0002_compensation_value"),
        ("comms", "0009_message_account"),
        ("sentiment", "0003_mention_account"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("flagged", True)), fields=["review_state", "-posted_at"],
                               name="mention_queue"),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("flagged", True)), fields=["compound"],
                               name="mention_queue_negative"),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("incident__isnull", False)), fields=["incident", "posted_at"],
                               name="mention_incident"),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("account__isnull", False)), fields=["account", "incident", "label"],
                               name="mention_account"),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("assignee__isnull", False)), fields=["assignee"],
                               name="mention_assignee"),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("scored_at__isnull", True)), fields=["received_at"],
                               name="mention_unscored"),
        ),
        migrations.RemoveIndex(model_name="mention", name="sentiment_m_flagged_10a952_idx"),
        migrations.RemoveIndex(model_name="mention", name="sentiment_m_inciden_965801_idx"),
        migrations.RemoveIndex(model_name="mention", name="sentiment_m_account_7c510b_idx"),
        migrations.AlterField(
            model_name="mention",
            name="account",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="mentions",
                                    to="accounts.account"),
        ),
        migrations.AlterField(
            model_name="mention",
            name="assignee",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="assigned_mentions",
                                    to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="mention",
            name="compound",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="mention",
            name="incident",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="mentions",
                                    to="comms.incident"),
        ),
    ]
