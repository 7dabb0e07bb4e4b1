"""The HTTP benchmark's URLconf: the project's URLs plus one baseline endpoint, served by the same gunicorn and the
same middleware (session, login, CSRF, headers) as the admin's issuance form it is compared with.

`POST /bench/raw-issuance/` (designation, shares) runs the minimum the rules need in raw psycopg: lock the plan
row, read the designation's unissued shares, insert the issuance, move the designation's and the plan's counters,
commit. 201 when recorded, 409 when the designation is full. No form, no history row, no other check: a floor
for what one HTTP request recording one issuance can cost on this stack.
"""

import datetime

import psycopg
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns


@require_POST
def raw_issuance(request):
    if not request.user.is_staff:
        raise PermissionDenied
    designation_id, shares = int(request.POST["designation"]), int(request.POST["shares"])
    with transaction.atomic():
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                "SELECT p.id FROM plan_admin_plan p JOIN plan_admin_boarddesignation d ON d.plan_id = p.id "
                "WHERE d.id = %s FOR UPDATE OF p",
                (designation_id,),
                prepare=True,
            )
            plan_id = cursor.fetchone()[0]
            cursor.execute(
                "SELECT shares - issued_shares FROM plan_admin_boarddesignation WHERE id = %s",
                (designation_id,),
                prepare=True,
            )
            if cursor.fetchone()[0] < shares:
                return HttpResponse("designation full", status=409)
            cursor.execute(
                "INSERT INTO plan_admin_issuance (designation_id, issue_date, shares, kind, price_per_share, "
                "debt_amount, debt_reference, reference, notes, entered_from_records, source_reference, "
                "submission_key, recorded_by_id, recorded_at) "
                "VALUES (%s, %s, %s, 'compensation', 0.05, NULL, '', '', '', false, '', NULL, %s, now())",
                (designation_id, datetime.date.today(), shares, request.user.pk),
                prepare=True,
            )
            cursor.execute(
                "UPDATE plan_admin_boarddesignation SET issued_shares = issued_shares + %s WHERE id = %s",
                (shares, designation_id),
                prepare=True,
            )
            cursor.execute(  # the issuance totals (IssuanceTotal), so that reconcile finds no drift afterwards
                "INSERT INTO plan_admin_issuancetotal (plan_id, year, category, issued_shares, issuances, "
                "cancellations) SELECT d.plan_id, d.year, p.category, %s, 1, 0 FROM plan_admin_boarddesignation d "
                "JOIN plan_admin_participant p ON p.id = d.participant_id WHERE d.id = %s "
                "ON CONFLICT (plan_id, year, category) DO UPDATE SET "
                "issued_shares = plan_admin_issuancetotal.issued_shares + excluded.issued_shares, "
                "issuances = plan_admin_issuancetotal.issuances + 1",
                (shares, designation_id),
                prepare=True,
            )
            cursor.execute(
                "UPDATE plan_admin_plan SET issued_shares = issued_shares + %s, "
                "committed_shares = committed_shares - %s WHERE id = %s",
                (shares, shares, plan_id),
                prepare=True,
            )
    return HttpResponse("recorded", status=201)


urlpatterns = [path("bench/raw-issuance/", raw_issuance), *project_urlpatterns]
