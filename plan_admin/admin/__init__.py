"""The staff's admin. Every write is a service form calling plan_admin.services; ledger rows are read-only.

Nothing is deleted from the ledger through the admin (nor in the database: see plan_admin/db/append_only.py):
mistakes are cancelled, proposals withdrawn, designations lapse. History pages are read-only for everyone.
"""

from ..imports import admin as _imports_admin  # noqa: F401  (registers the record of committed imports)
from ..security import admin as _security_admin  # noqa: F401  (registers the second-factor enrolment links)
from . import designations, issuances, participants, plan, records  # noqa: F401  (registers the admins)
