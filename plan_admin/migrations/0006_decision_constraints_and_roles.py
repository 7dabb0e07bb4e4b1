"""The constraints that need the backfilled rows, and the role groups' new permissions."""

import django.db.models.expressions
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from plan_admin.roles import sync_role_groups


def sync_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need the new models' ones now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    # missing_ok: later migrations add models whose permissions the role table also lists, and sync again.
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), missing_ok=True)


class Migration(migrations.Migration):
    dependencies = [("plan_admin", "0005_backfill_decisions_and_commitments")]

    operations = [
        migrations.AddConstraint(
            model_name='boarddesignation',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['proposed', 'withdrawn']), models.Q(('decided_on__isnull', False), models.Q(('decision_source', ''), _negated=True)), _connector='OR'), name='designation_decided_has_date'),
        ),
        migrations.AddConstraint(
            model_name='plan',
            constraint=models.CheckConstraint(condition=models.Q(('issued_shares__lte', django.db.models.expressions.CombinedExpression(models.F('authorized_shares'), '-', models.F('committed_shares')))), name='plan_issued_and_committed_within_authorized'),
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
