"""The board's download of a plan as an OCF 1.2.0 package (for board members, staff and auditors)."""

import tempfile

from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from ..models import Plan
from . import ocf_schema
from .ocf_export import OcfExportRefused, export_plan


@require_safe
@permission_required("plan_admin.view_plan", raise_exception=True)
@permission_required("plan_admin.export_plan", raise_exception=True)
def plan_ocf_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan as a .ocf.zip, written to a temporary file (streamed from the database) and sent from there."""
    plan = get_object_or_404(Plan, pk=pk)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        export_plan(plan, spool)
    except (OcfExportRefused, ocf_schema.OcfSchemaMissing) as refusal:
        spool.close()
        return render(request, "plan_admin/ocf_refused.html", {"plan": plan, "message": str(refusal)}, status=409)
    spool.seek(0)
    filename = f"{slugify(plan.company_name)}-{slugify(plan.name)}-{timezone.localdate():%Y-%m-%d}.ocf.zip"
    return FileResponse(spool, as_attachment=True, filename=filename, content_type="application/zip")
