"""Fill in what the legal-record model adds to a ledger recorded before it.

- Decided designations get their decision date (the local day of the decision's record) and source (votes).
- Each designation records the user its participant was linked to: they may not vote on it.
- Each plan's committed-shares counter becomes the unissued balance of its approved designations, all years. A
  ledger where that balance plus the shares issued exceeds the reserve cannot take the new rule (DESIGN rule 3)
  without a board decision: the migration stops and says which plan and by how much.
"""

from django.db import migrations
from django.db.models import F, Sum
from django.utils import timezone


def backfill(apps, schema_editor):
    BoardDesignation = apps.get_model("plan_admin", "BoardDesignation")
    Plan = apps.get_model("plan_admin", "Plan")
    for designation in BoardDesignation.objects.select_related("participant").iterator():
        fields = {"designated_user_id": designation.participant.user_id}
        if designation.status in ("approved", "rejected") and designation.decided_at:
            fields["decided_on"] = timezone.localtime(designation.decided_at).date()
            fields["decision_source"] = "votes"
            fields["decision_reference"] = "Votes of the board in plan-admin"
        BoardDesignation.objects.filter(pk=designation.pk).update(**fields)
    for plan in Plan.objects.all():
        committed = (
            BoardDesignation.objects.filter(plan=plan, status="approved")
            .aggregate(total=Sum(F("shares") - F("issued_shares")))["total"]
            or 0
        )
        if plan.issued_shares + committed > plan.authorized_shares:
            raise RuntimeError(
                f"Plan #{plan.pk} ({plan.company_name} {plan.name}) has {plan.issued_shares:,} shares issued and "
                f"{committed:,} committed to approved designations, more than its {plan.authorized_shares:,} "
                "authorized: the board must increase the reserve, or designations must lapse, before this migration."
            )
        Plan.objects.filter(pk=plan.pk).update(committed_shares=committed)


class Migration(migrations.Migration):
    dependencies = [("plan_admin", "0004_legal_record")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
