"""`manage.py reconcile`: recompute every counter from the ledger rows and report any drift.

Exits with status 0 and a one-line "No drift" summary when the counters agree with the ledger; otherwise lists
each problem in plain words and exits non-zero (CommandError). Reads only.
"""

from django.core.management.base import BaseCommand, CommandError

from plan_admin.models import Plan
from plan_admin.reconcile import reconcile


class Command(BaseCommand):
    help = "Check Plan and designation counters against the ledger rows; exit non-zero on any drift."

    def add_arguments(self, parser):
        parser.add_argument("--plan", type=int, help="Only check the plan with this id.")

    def handle(self, *args, **options):
        plan = None
        if options.get("plan") is not None:
            plan = Plan.objects.filter(pk=options["plan"]).first()
            if plan is None:
                raise CommandError(f"There is no plan #{options['plan']}.")
        report = reconcile(plan=plan)
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.summary()))
            return
        for problem in report.problems:
            self.stderr.write(f"- {problem}")
        raise CommandError(report.summary())
