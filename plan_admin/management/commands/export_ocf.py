"""`manage.py export_ocf --plan ID --out PATH`: the plan's ledger as an OCF 1.2.0 package (plan_admin/interop).

PATH is a directory, or a file ending in .zip (e.g. plan.ocf.zip). Every object is validated against the official
schemas (settings.OCF_SCHEMA_DIR) as it is written; a refusal names the object and the field and exits 1.
"""

import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plan_admin.interop import ocf_schema
from plan_admin.interop.ocf_export import OcfExportRefused, export_plan
from plan_admin.models import Plan


class Command(BaseCommand):
    help = "Export a plan's ledger as an OCF 1.2.0 package (a directory, or a .zip)."

    def add_arguments(self, parser):
        parser.add_argument("--plan", type=int, required=True, help="The plan's id.")
        parser.add_argument("--out", required=True, help="A directory, or a path ending in .zip.")

    def handle(self, *args, **options):
        plan = Plan.objects.filter(pk=options["plan"]).first()
        if plan is None:
            raise CommandError(f"There is no plan {options['plan']}.")
        out = Path(options["out"])
        if out.suffix.lower() != ".zip" and out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty: export into a new or empty directory.")
        # Written beside the destination first: a refused export leaves nothing half-written behind.
        staging = Path(tempfile.mkdtemp(prefix=".ocf-", dir=out.parent if out.parent.exists() else None))
        target = staging / (out.name if out.suffix.lower() == ".zip" else "package")
        try:
            result = export_plan(plan, target)
        except (OcfExportRefused, ocf_schema.OcfSchemaMissing) as refusal:
            shutil.rmtree(staging, ignore_errors=True)
            raise CommandError(str(refusal)) from None
        if out.suffix.lower() == ".zip":
            target.replace(out)
        else:
            out.mkdir(parents=True, exist_ok=True)
            for path in target.iterdir():
                path.replace(out / path.name)
        shutil.rmtree(staging, ignore_errors=True)
        self.stdout.write(
            f"{plan}: {result.summary()} Written to {out}; every object validates against OCF {ocf_schema.OCF_VERSION}."
        )
