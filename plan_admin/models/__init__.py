"""The plan ledger: a plan, its share reserve, participants, yearly board designations and issuances.

One module per aggregate:

- plan.py          the Plan, its share reserve changes, the board's proposals to change the plan (reserve,
                   termination) with their votes, and the closing of a plan's year
- participants.py  the people and firms who may be designated
- designations.py  the board's yearly designations, their votes and their lapses; their count per plan, year and
                   status (a counter table)
- issuances.py     shares issued against a designation, and their cancellations; their totals per plan, year
                   and participant category (a counter table)
- records.py       the board's confirmation of history entered from records (before the ledger start date)
- imports.py       the record of committed spreadsheet imports (the same file is never imported twice)
- decisions.py     what every board decision and every vote has in common
- interop.py       what plan-admin keeps of the Open Cap Format for a plan (ids, fields it does not hold)
- resolutions.py   resolutions of the board (written consents, meetings' records), their signatures and documents

Every write goes through plan_admin.services; the constraints are the backstop that holds even if a service is
wrong, and plan_admin.db.append_only installs the triggers that make the record append-only in the database
itself. Counters (Plan.authorized_shares, issued_shares, committed_shares, BoardDesignation.issued_shares,
IssuanceTotal and DesignationTotal) are kept in step by the services and checked against the ledger rows by
`manage.py reconcile`.
"""

# Second-factor enrolment links: a model of this app, kept with the security code that uses it.
from ..security.models import EnrolmentLink
from .decisions import MAX_YEAR, MIN_YEAR, DecisionSource, VoteDecision
from .designations import BoardDesignation, DesignationLapse, DesignationTotal, DesignationVote
from .imports import ImportRecord
from .interop import OcfObject
from .issuances import Issuance, IssuanceCancellation, IssuanceQuerySet, IssuanceTotal
from .participants import Participant
from .plan import Plan, PlanProposal, PlanProposalVote, PlanYearClosing, ShareReserveChange
from .records import RecordConfirmation
from .resolutions import (
    NotificationPreference,
    Resolution,
    ResolutionDecline,
    ResolutionDocument,
    ResolutionItem,
    ResolutionNotice,
    ResolutionSignatory,
    ResolutionSignature,
    ResolutionWithdrawal,
)

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "BoardDesignation",
    "DecisionSource",
    "DesignationLapse",
    "DesignationTotal",
    "DesignationVote",
    "EnrolmentLink",
    "ImportRecord",
    "Issuance",
    "IssuanceCancellation",
    "IssuanceQuerySet",
    "IssuanceTotal",
    "NotificationPreference",
    "OcfObject",
    "Participant",
    "Plan",
    "PlanProposal",
    "PlanProposalVote",
    "PlanYearClosing",
    "RecordConfirmation",
    "Resolution",
    "ResolutionDecline",
    "ResolutionDocument",
    "ResolutionItem",
    "ResolutionNotice",
    "ResolutionSignatory",
    "ResolutionSignature",
    "ResolutionWithdrawal",
    "ShareReserveChange",
    "VoteDecision",
]
