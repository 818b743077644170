"""Maintenance notices: one per window and key, delivered through Delivery rows (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('comms', '0009_alerts'),
        ('incidents', '0006_maintenance_windows'),
    ]

    operations = [
        migrations.CreateModel(
            name='MaintenanceNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('advance', 'Advance notice'), ('started', 'Started'), ('completed', 'Completed'), ('rescheduled', 'Rescheduled'), ('cancelled', 'Cancelled')], max_length=16)),
                ('key', models.CharField(help_text='e.g. advance:259200:v0, started, rescheduled:v1.', max_length=64)),
                ('first_line', models.CharField(max_length=300)),
                ('skipped', models.BooleanField(default=False, help_text='Never sent: a later notice of the same kind was due at the same time (an advance notice overtaken by a nearer one), so subscribers get only the latest.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('fanned_out_at', models.DateTimeField(blank=True, help_text='When every delivery row existed.', null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='delivery',
            name='delivery_of_a_message_or_a_reply',
        ),
        migrations.AddField(
            model_name='maintenancenotice',
            name='maintenance',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='incidents.maintenance'),
        ),
        migrations.AddField(
            model_name='delivery',
            name='notice',
            field=models.ForeignKey(blank=True, help_text='A notice about a maintenance window, instead of a message.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='comms.maintenancenotice'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(fields=('notice', 'channel', 'recipient'), name='one_notice_delivery_per_recipient'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.CheckConstraint(condition=models.Q(('message__isnull', False), ('notice__isnull', False), models.Q(('in_reply_to', ''), _negated=True), _connector='OR'), name='delivery_of_a_message_a_notice_or_a_reply'),
        ),
        migrations.AddConstraint(
            model_name='maintenancenotice',
            constraint=models.UniqueConstraint(fields=('maintenance', 'key'), name='one_maintenance_notice_per_key'),
        ),
    ]
