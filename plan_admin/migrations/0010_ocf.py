"""What plan-admin keeps of the Open Cap Format for a plan (plan_admin.models.interop.OcfObject), append-only like
the ledger: the table gets the append-only triggers of plan_admin/db/append_only.py."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from plan_admin.db import append_only

TABLES = ["plan_admin_ocfobject"]


def install(apps, schema_editor):
    append_only.install(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    append_only.uninstall(schema_editor.connection, TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ('plan_admin', '0009_import_records'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OcfObject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('issuer', 'Issuer details'), ('stock_class', 'Stock class'), ('stock_plan', 'Stock plan'), ('stakeholder', 'Stakeholder (participant)'), ('stock_legend_template', 'Stock legend template'), ('document', 'Document'), ('reserve_change', 'Reserve change'), ('designation', 'Designation'), ('year_closing', 'Year closing'), ('lapse', 'Designation lapse'), ('issuance', 'Issuance'), ('cancellation', 'Cancellation'), ('package', 'Imported package')], max_length=32)),
                ('local_id', models.BigIntegerField(blank=True, help_text='The pk of the ledger row it is, if any.', null=True)),
                ('ocf_id', models.CharField(blank=True, help_text='Its OCF id; empty: plan-admin derives it.', max_length=300)),
                ('data', models.JSONField(blank=True, default=dict, help_text='The OCF fields plan-admin does not hold itself.')),
                ('content', models.BinaryField(blank=True, help_text="A kept document's file, as it was imported.", null=True)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ocf_objects', to='plan_admin.plan')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['plan', 'kind', 'pk'],
                'indexes': [models.Index(fields=['plan', 'kind', 'local_id'], name='ocf_object_lookup')],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['issuer', 'stock_class', 'stock_plan', 'stakeholder', 'stock_legend_template', 'document', 'reserve_change', 'designation', 'year_closing', 'lapse', 'issuance', 'cancellation', 'package'])), name='ocf_object_kind_valid')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
