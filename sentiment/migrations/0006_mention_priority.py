"""Priority and reply target of flagged mentions (sentiment.flagging.rank), and when an overdue one was announced.

The columns are nullable or take a constant default, which PostgreSQL adds without rewriting the table. Not
atomic, so that the index builds concurrently (`CREATE INDEX CONCURRENTLY`) while mentions keep arriving, as in
0003_mention_indexes; elsewhere it is a plain index. It holds only flagged mentions waiting for an answer.
Mentions flagged before this migration get a priority when rescored (`manage.py rescore_mentions`).
"""

from django.db import migrations, models

from core.db import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("sentiment", "0005_customer_service_lexicon")]

    operations = [
        migrations.AddField(
            model_name="mention",
            name="priority",
            field=models.CharField(blank=True, choices=[("critical", "Critical"), ("high", "High"),
                                                        ("normal", "Normal")], max_length=8),
        ),
        migrations.AddField(
            model_name="mention",
            name="reply_due_at",
            field=models.DateTimeField(blank=True, help_text="received_at + the reply target of the priority.",
                                       null=True),
        ),
        migrations.AddField(
            model_name="mention",
            name="overdue_alerted_at",
            field=models.DateTimeField(blank=True, help_text="When people were told it is past its reply target "
                                                             "(once).", null=True),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(condition=models.Q(("flagged", True), ("review_state__in", ("new", "in_review"))),
                               fields=["priority", "reply_due_at"], name="mention_urgent"),
        ),
    ]
