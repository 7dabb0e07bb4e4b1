"""Resolutions of the board (issue 12): written consents and meetings' records with their signatures, declines,
withdrawals, documents and emails; debt-settlement terms on designations; a decision source for resolutions; the
role groups' new permissions; the append-only triggers of the new tables."""
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from plan_admin.db import append_only
from plan_admin.roles import sync_role_groups

NEW_TABLES = ("plan_admin_boarddesignation", "plan_admin_resolution", "plan_admin_notificationpreference",
              "plan_admin_resolutionitem", "plan_admin_resolutionsignatory", "plan_admin_resolutionsignature",
              "plan_admin_resolutiondecline", "plan_admin_resolutionwithdrawal", "plan_admin_resolutiondocument",
              "plan_admin_resolutionnotice")


def install_triggers(apps, schema_editor):
    append_only.install(schema_editor.connection, NEW_TABLES)


def uninstall_triggers(apps, schema_editor):
    append_only.uninstall(schema_editor.connection, NEW_TABLES[1:])


def sync_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need the new models' ones now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):

    dependencies = [
        ('plan_admin', '0010_ocf'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reminders', models.BooleanField(default=True, help_text='Send me reminders about resolutions I have not signed.')),
                ('changed_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='Resolution',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('written_consent', 'Written consent in lieu of a meeting'), ('meeting', 'Resolutions adopted at a meeting of the board')], max_length=16)),
                ('title', models.CharField(max_length=300)),
                ('meeting_date', models.DateField(blank=True, help_text='For a meeting: the day the board met.', null=True)),
                ('required_signatures', models.PositiveSmallIntegerField(help_text="Every director entitled to sign, for a written consent; the plan's required approvals, for a meeting.")),
                ('status', models.CharField(choices=[('pending', 'Out for signature'), ('effective', 'In effect'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], default='pending', max_length=16)),
                ('prepared_at', models.DateTimeField(auto_now_add=True)),
                ('effective_on', models.DateField(blank=True, help_text='The date the board acted.', null=True)),
                ('closed_at', models.DateTimeField(blank=True, help_text='When it took effect, was declined or withdrawn.', null=True)),
            ],
            options={
                'ordering': ['-prepared_at', '-pk'],
                'permissions': [('sign_resolution', 'Can sign or decline resolutions of the board')],
            },
        ),
        migrations.CreateModel(
            name='ResolutionDecline',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField()),
                ('declined_at', models.DateTimeField(auto_now_add=True)),
                ('client_address', models.GenericIPAddressField(blank=True, null=True)),
            ],
            options={
                'ordering': ['resolution', 'declined_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ResolutionDocument',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('for_signature', 'Document for signature'), ('signed', 'Signed and sealed document')], max_length=16)),
                ('file_name', models.CharField(help_text="The file's name in the resolutions storage.", max_length=300)),
                ('sha256', models.CharField(max_length=64)),
                ('size', models.PositiveBigIntegerField()),
                ('chain_sha256', models.CharField(blank=True, help_text="For the signed document: the last link of the signatures' hash chain, which the document states.", max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['resolution', 'created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ResolutionItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField()),
            ],
            options={
                'ordering': ['resolution', 'position'],
            },
        ),
        migrations.CreateModel(
            name='ResolutionNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('invitation', 'Invitation to sign'), ('reminder', 'Reminder'), ('effective', 'Resolution in effect'), ('declined', 'Resolution declined')], max_length=16)),
                ('sent_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['resolution', 'sent_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ResolutionSignatory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('director_name', models.CharField(help_text="The director's name as the document gives it.", max_length=300)),
                ('entitled', models.BooleanField()),
                ('recusal', models.TextField(blank=True, help_text='Why this director does not sign (empty when entitled).')),
            ],
            options={
                'ordering': ['resolution', 'director_name', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ResolutionSignature',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('signer_name', models.CharField(max_length=300)),
                ('signed_at', models.DateTimeField()),
                ('client_address', models.GenericIPAddressField(blank=True, null=True)),
                ('document_sha256', models.CharField(help_text='SHA-256 of the PDF bytes the director signed.', max_length=64)),
                ('second_factor', models.BooleanField(default=False, help_text='Whether an authenticator code was entered.')),
                ('previous_sha256', models.CharField(max_length=64)),
                ('chain_sha256', models.CharField(max_length=64, unique=True)),
            ],
            options={
                'ordering': ['resolution', 'signed_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ResolutionWithdrawal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField()),
                ('withdrawn_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name='boarddesignation',
            name='consideration_finding',
            field=models.TextField(blank=True, help_text="For an approved debt settlement: the board's finding that cancelling the debt is adequate consideration for the shares."),
        ),
        migrations.AddField(
            model_name='boarddesignation',
            name='debt_amount',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='The debt the shares settle.', max_digits=16, null=True, validators=[django.core.validators.MinValueValidator(0)]),
        ),
        migrations.AddField(
            model_name='boarddesignation',
            name='debt_reference',
            field=models.CharField(blank=True, help_text="The creditor's invoice, note, claim.", max_length=200),
        ),
        migrations.AddField(
            model_name='boarddesignation',
            name='kind',
            field=models.CharField(choices=[('compensation', 'Compensation'), ('debt_settlement', 'Debt settlement')], default='compensation', max_length=16),
        ),
        migrations.AddField(
            model_name='boarddesignation',
            name='price_per_share',
            field=models.DecimalField(blank=True, decimal_places=6, help_text='For a debt settlement: the price at which the debt buys shares.', max_digits=14, null=True),
        ),
        migrations.AddField(
            model_name='historicalboarddesignation',
            name='consideration_finding',
            field=models.TextField(blank=True, help_text="For an approved debt settlement: the board's finding that cancelling the debt is adequate consideration for the shares."),
        ),
        migrations.AddField(
            model_name='historicalboarddesignation',
            name='debt_amount',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='The debt the shares settle.', max_digits=16, null=True, validators=[django.core.validators.MinValueValidator(0)]),
        ),
        migrations.AddField(
            model_name='historicalboarddesignation',
            name='debt_reference',
            field=models.CharField(blank=True, help_text="The creditor's invoice, note, claim.", max_length=200),
        ),
        migrations.AddField(
            model_name='historicalboarddesignation',
            name='kind',
            field=models.CharField(choices=[('compensation', 'Compensation'), ('debt_settlement', 'Debt settlement')], default='compensation', max_length=16),
        ),
        migrations.AddField(
            model_name='historicalboarddesignation',
            name='price_per_share',
            field=models.DecimalField(blank=True, decimal_places=6, help_text='For a debt settlement: the price at which the debt buys shares.', max_digits=14, null=True),
        ),
        migrations.AlterField(
            model_name='boarddesignation',
            name='decision_source',
            field=models.CharField(blank=True, choices=[('votes', 'Votes of the board in plan-admin'), ('records', "Entered from the board's records"), ('resolution', 'A resolution of the board signed in plan-admin')], max_length=16),
        ),
        migrations.AlterField(
            model_name='historicalboarddesignation',
            name='decision_source',
            field=models.CharField(blank=True, choices=[('votes', 'Votes of the board in plan-admin'), ('records', "Entered from the board's records"), ('resolution', 'A resolution of the board signed in plan-admin')], max_length=16),
        ),
        migrations.AlterField(
            model_name='historicalplanproposal',
            name='decision_source',
            field=models.CharField(blank=True, choices=[('votes', 'Votes of the board in plan-admin'), ('records', "Entered from the board's records"), ('resolution', 'A resolution of the board signed in plan-admin')], max_length=16),
        ),
        migrations.AlterField(
            model_name='planproposal',
            name='decision_source',
            field=models.CharField(blank=True, choices=[('votes', 'Votes of the board in plan-admin'), ('records', "Entered from the board's records"), ('resolution', 'A resolution of the board signed in plan-admin')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='boarddesignation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('consideration_finding', ''), ('debt_amount__isnull', True), ('debt_reference', ''), ('kind', 'compensation'), ('price_per_share__isnull', True)), models.Q(('debt_amount__gt', 0), ('kind', 'debt_settlement'), ('price_per_share__gt', 0), models.Q(('debt_reference', ''), _negated=True)), _connector='OR'), name='designation_debt_terms_match_kind'),
        ),
        migrations.AddConstraint(
            model_name='boarddesignation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'debt_settlement'), ('status__in', ['approved', 'lapsed']), _negated=True), models.Q(('consideration_finding', ''), _negated=True), _connector='OR'), name='designation_debt_settlement_has_finding'),
        ),
        migrations.AddField(
            model_name='notificationpreference',
            name='user',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='notification_preference', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='resolution',
            name='plan',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='resolutions', to='plan_admin.plan'),
        ),
        migrations.AddField(
            model_name='resolution',
            name='prepared_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='resolutiondecline',
            name='director',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='resolutiondecline',
            name='resolution',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='declines', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutiondocument',
            name='resolution',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutionitem',
            name='designation',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='resolution_items', to='plan_admin.boarddesignation'),
        ),
        migrations.AddField(
            model_name='resolutionitem',
            name='proposal',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='resolution_items', to='plan_admin.planproposal'),
        ),
        migrations.AddField(
            model_name='resolutionitem',
            name='resolution',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='items', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutionnotice',
            name='recipient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='resolutionnotice',
            name='resolution',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notices', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutionsignatory',
            name='director',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='resolutionsignatory',
            name='resolution',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signatories', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutionsignature',
            name='resolution',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signatures', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutionsignature',
            name='signer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='resolutionwithdrawal',
            name='resolution',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='withdrawal', to='plan_admin.resolution'),
        ),
        migrations.AddField(
            model_name='resolutionwithdrawal',
            name='withdrawn_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='resolution',
            index=models.Index(fields=['status', 'plan'], name='resolution_status_plan'),
        ),
        migrations.AddConstraint(
            model_name='resolution',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'effective', 'declined', 'withdrawn'])), name='resolution_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='resolution',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'written_consent'), ('meeting_date__isnull', True)), models.Q(('kind', 'meeting'), ('meeting_date__isnull', False)), _connector='OR'), name='resolution_meeting_has_date'),
        ),
        migrations.AddConstraint(
            model_name='resolution',
            constraint=models.CheckConstraint(condition=models.Q(('required_signatures__gte', 1)), name='resolution_needs_a_signature'),
        ),
        migrations.AddConstraint(
            model_name='resolution',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'effective'), _negated=True), ('effective_on__isnull', False), _connector='OR'), name='resolution_effective_has_date'),
        ),
        migrations.AddConstraint(
            model_name='resolution',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'pending'), ('closed_at__isnull', False), _connector='OR'), name='resolution_closed_has_moment'),
        ),
        migrations.AddConstraint(
            model_name='resolutiondecline',
            constraint=models.UniqueConstraint(fields=('resolution', 'director'), name='resolution_declined_once'),
        ),
        migrations.AddConstraint(
            model_name='resolutiondecline',
            constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='resolution_decline_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='resolutiondocument',
            constraint=models.UniqueConstraint(fields=('resolution', 'kind'), name='resolution_document_once_per_kind'),
        ),
        migrations.AddConstraint(
            model_name='resolutiondocument',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['for_signature', 'signed'])), name='resolution_document_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='resolutionitem',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('designation__isnull', False), ('proposal__isnull', True)), models.Q(('designation__isnull', True), ('proposal__isnull', False)), _connector='OR'), name='resolution_item_is_one_proposal'),
        ),
        migrations.AddConstraint(
            model_name='resolutionitem',
            constraint=models.UniqueConstraint(fields=('resolution', 'position'), name='resolution_item_position_unique'),
        ),
        migrations.AddConstraint(
            model_name='resolutionitem',
            constraint=models.UniqueConstraint(fields=('resolution', 'designation'), name='resolution_item_designation_once'),
        ),
        migrations.AddConstraint(
            model_name='resolutionitem',
            constraint=models.UniqueConstraint(fields=('resolution', 'proposal'), name='resolution_item_proposal_once'),
        ),
        migrations.AddIndex(
            model_name='resolutionnotice',
            index=models.Index(fields=['resolution', 'recipient', 'kind'], name='resolution_notice_lookup'),
        ),
        migrations.AddConstraint(
            model_name='resolutionnotice',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'invitation')), fields=('resolution', 'recipient'), name='resolution_one_invitation_per_director'),
        ),
        migrations.AddConstraint(
            model_name='resolutionsignatory',
            constraint=models.UniqueConstraint(fields=('resolution', 'director'), name='resolution_signatory_once'),
        ),
        migrations.AddConstraint(
            model_name='resolutionsignatory',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('entitled', True), ('recusal', '')), models.Q(('entitled', False), models.Q(('recusal', ''), _negated=True)), _connector='OR'), name='resolution_recusal_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='resolutionsignature',
            constraint=models.UniqueConstraint(fields=('resolution', 'signer'), name='resolution_signed_once'),
        ),
        migrations.AddConstraint(
            model_name='resolutionwithdrawal',
            constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='resolution_withdrawal_has_reason'),
        ),
        migrations.RunPython(install_triggers, uninstall_triggers),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
