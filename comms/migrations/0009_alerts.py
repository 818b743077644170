"""Alerts that open incidents (comms.alerts): the sources that post them, the label → component and severity label →
severity mappings, and one row per firing alert (one open per source and fingerprint). The default severity mapping
is data; admins edit it."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

DEFAULT_SEVERITIES = {
    "critical": "SEV1", "page": "SEV1", "sev1": "SEV1", "p1": "SEV1",
    "major": "SEV2", "high": "SEV2", "error": "SEV2", "sev2": "SEV2", "p2": "SEV2",
    "warning": "SEV3", "minor": "SEV3", "medium": "SEV3", "sev3": "SEV3", "p3": "SEV3",
    "info": "SEV4", "low": "SEV4", "none": "SEV4", "sev4": "SEV4", "p4": "SEV4",
}


def default_severity_mapping(apps, schema_editor):
    AlertSeverityMapping = apps.get_model("comms", "AlertSeverityMapping")
    for value, severity in DEFAULT_SEVERITIES.items():
        AlertSeverityMapping.objects.get_or_create(value=value, defaults={"severity": severity})


class Migration(migrations.Migration):
    dependencies = [("comms", "0008_free_text_limits"), ("incidents", "0004_free_text_limits")]

    operations = [
        migrations.CreateModel(
            name='AlertSeverityMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.CharField(help_text='Lower case, e.g. critical, warning, page.', max_length=50, unique=True)),
                ('severity', models.CharField(choices=[('SEV1', 'SEV1 – critical'), ('SEV2', 'SEV2 – major'), ('SEV3', 'SEV3 – minor'), ('SEV4', 'SEV4 – low')], max_length=4)),
            ],
            options={
                'ordering': ['severity', 'value'],
            },
        ),
        migrations.CreateModel(
            name='AlertSource',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('kind', models.CharField(choices=[('alertmanager', 'Prometheus Alertmanager'), ('grafana', 'Grafana alerting'), ('generic', 'Generic JSON')], help_text='The payload shape it posts.', max_length=16)),
                ('enabled', models.BooleanField(default=True, help_text="A disabled source's requests are refused (401).")),
                ('token_key', models.CharField(editable=False, max_length=12, unique=True)),
                ('token_digest', models.CharField(editable=False, max_length=64)),
                ('hmac_secret', models.CharField(blank=True, editable=False, help_text='Shared secret for the X-Signature header; empty: signatures are not accepted. Issued by the admin action and shown once.', max_length=128)),
                ('default_severity', models.CharField(choices=[('SEV1', 'SEV1 – critical'), ('SEV2', 'SEV2 – major'), ('SEV3', 'SEV3 – minor'), ('SEV4', 'SEV4 – low')], default='SEV3', help_text='An incident opened by an alert whose severity label is missing or not in the severity mapping.', max_length=4)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('last_seen_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('acknowledgement_template', models.ForeignKey(blank=True, help_text='The pre-approved acknowledgement drafted for an incident an alert opens; empty: the default “Initial acknowledgement” (or any pre-approved initial template).', limit_choices_to={'phase': 'initial', 'pre_approved': True}, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='comms.messagetemplate')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='AlertComponentMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(default='service', max_length=100)),
                ('value', models.CharField(max_length=200)),
                ('component', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='incidents.component')),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='component_mappings', to='comms.alertsource')),
            ],
            options={
                'ordering': ['source', 'label', 'value'],
                'constraints': [models.UniqueConstraint(fields=('source', 'label', 'value'), name='comms_alert_mapping_one_per_label_value')],
            },
        ),
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('fingerprint', models.CharField(max_length=200)),
                ('name', models.CharField(help_text="alertname, or the generic shape's summary.", max_length=200)),
                ('summary', models.CharField(blank=True, max_length=500)),
                ('labels', models.JSONField(blank=True, default=dict)),
                ('severity_label', models.CharField(blank=True, max_length=50)),
                ('severity', models.CharField(choices=[('SEV1', 'SEV1 – critical'), ('SEV2', 'SEV2 – major'), ('SEV3', 'SEV3 – minor'), ('SEV4', 'SEV4 – low')], max_length=4)),
                ('outcome', models.CharField(choices=[('opened', 'Opened an incident'), ('joined', 'Joined an open incident'), ('unmapped', 'No component mapped')], max_length=16)),
                ('url', models.URLField(blank=True, help_text='Where to see it (generatorURL, panel or dashboard).', max_length=1000)),
                ('starts_at', models.DateTimeField(blank=True, help_text='When it started firing, by its sender.', null=True)),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now, help_text='When it reached us: the alert time.')),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('component', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.component')),
                ('incident', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='incidents.incident')),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='comms.alertsource')),
            ],
            options={
                'ordering': ['-received_at', '-id'],
                'indexes': [models.Index(fields=['incident', 'received_at'], name='comms_alert_inciden_80d80a_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('resolved_at__isnull', True)), fields=('source', 'fingerprint'), name='comms_alert_one_open_per_fingerprint')],
            },
        ),
            migrations.RunPython(default_severity_mapping, migrations.RunPython.noop),
    ]
