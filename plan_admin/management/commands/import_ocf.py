"""`manage.py import_ocf PATH --plan-name NAME [--skip-unsupported] [--dry-run]`: replay an OCF package as a new
plan, through the services, as history entered from records (plan_admin/interop/ocf_import.py).

All or nothing: one refused object and nothing is written; the report names every refused object. Rows entered
from records then wait on the board's page for a board member's confirmation.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plan_admin.interop.ocf_import import import_package


class Command(BaseCommand):
    help = "Import an OCF 1.2.0 package (a directory, a .zip or a manifest file) as a new plan, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--plan-name", help="The new plan's name (default: the package's stock plan name).")
        parser.add_argument(
            "--skip-unsupported",
            action="store_true",
            help="Skip (and list) options, warrants, convertibles, vesting and other objects "
            "plan-admin does not hold, instead of refusing the package.",
        )
        parser.add_argument(
            "--effective-date",
            type=datetime.date.fromisoformat,
            help="The plan's effective date (YYYY-MM-DD), when the package does not say it.",
        )
        parser.add_argument(
            "--required-approvals",
            type=int,
            help="Approving votes a decision of the board needs (default: the package's, or 1).",
        )
        parser.add_argument("--stock-plan", help="The id of the STOCK_PLAN to import, when the package has several.")
        parser.add_argument("--as-user", help="The username recorded as having entered the history.")
        parser.add_argument("--dry-run", action="store_true", help="Check and replay, then roll everything back.")

    def handle(self, *args, **options):
        user = None
        if options["as_user"]:
            user = get_user_model().objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"There is no user {options['as_user']!r}.")
        report = import_package(
            options["path"],
            by=user,
            plan_name=options["plan_name"],
            commit=not options["dry_run"],
            skip_unsupported=options["skip_unsupported"],
            effective_date=options["effective_date"],
            required_approvals=options["required_approvals"],
            stock_plan=options["stock_plan"],
        )
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"{report.package}: refused, nothing was imported.")
        if report.committed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported as plan #{report.plan.pk}. Its history waits on /board/records/ for a board member's "
                    "confirmation."
                )
            )
        else:
            self.stdout.write("Dry run: nothing was written.")
