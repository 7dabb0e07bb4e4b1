"""Make the record append-only in the database itself (plan_admin/db/append_only.py says what is refused)."""

from django.db import migrations

from plan_admin.db import append_only

# The tables as this migration knows them; later migrations add theirs, and post_migrate reinstalls them all.
TABLES = append_only.ALL_TABLES


def install(apps, schema_editor):
    append_only.install(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    append_only.uninstall(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("plan_admin", "0006_decision_constraints_and_roles")]

    operations = [migrations.RunPython(install, uninstall)]
