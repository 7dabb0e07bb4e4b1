"""The roles of DESIGN.md as Django groups, the permissions each holds, and who counts as a board member.

The data migrations (0002_roles, then 0006 for the legal-record models) create the groups from this table; tests
walk the URLs against it. Permissions gate pages and admin actions; the board's decisions themselves are gated by
membership of the board group (`is_board_member`), because a superuser holds every permission implicitly.
"""

BOARD = "Board members"
STAFF = "Plan staff"
AUDITORS = "Auditors"

_MODELS = [
    "plan",
    "sharereservechange",
    "participant",
    "boarddesignation",
    "designationvote",
    "issuance",
    "issuancecancellation",
    "planproposal",
    "planproposalvote",
    "designationlapse",
    "planyearclosing",
    "recordconfirmation",
    "resolution",
    "resolutiondocument",
    "resolutionsignature",
    "resolutiondecline",
    "resolutionwithdrawal",
]
_VIEW_ALL = [f"view_{model}" for model in _MODELS]
_EXPORT_ALL = [
    "export_plan",
    "export_sharereservechange",
    "export_participant",
    "export_boarddesignation",
    "export_issuance",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    BOARD: _VIEW_ALL
    + _EXPORT_ALL
    + ["vote_boarddesignation", "vote_planproposal", "confirm_past_records", "sign_resolution"],
    STAFF: _VIEW_ALL
    + _EXPORT_ALL
    + [
        "add_participant",
        "change_participant",
        "add_boarddesignation",
        "change_boarddesignation",  # withdraw a proposal
        "add_planproposal",  # propose a reserve change or the plan's termination
        "change_planproposal",  # withdraw it
        "add_resolution",  # gather open proposals into a resolution for the board's signatures
        "change_resolution",  # withdraw it
        "add_issuance",
        "add_issuancecancellation",
        "add_designationlapse",
        "close_plan_year",
        "record_plan_term",  # the plan's effective date, a fact of the plan document
        "record_past_records",
        "import_participant",
        "import_boarddesignation",
        "import_issuance",
    ],
    AUDITORS: _VIEW_ALL + _EXPORT_ALL,
}


def is_board_member(user) -> bool:
    """Whether `user` sits on the board: an active member of the board group, superuser or not."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    cached = getattr(user, "_plan_admin_board_member", None)
    if cached is None:
        cached = user.groups.filter(name=BOARD).exists()
        user._plan_admin_board_member = cached
    return cached


def sync_role_groups(Group, Permission, *, missing_ok: bool = False) -> None:
    """Create or update each role group with exactly its permissions.

    Takes the model classes so that the data migrations (historical models) and code outside migrations (the
    demo loader, tests after a database flush) share it. `missing_ok` is for the first data migration, which runs
    before later migrations have created the models whose permissions the table also lists.
    """
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(content_type__app_label="plan_admin", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing and not missing_ok:
            raise RuntimeError(f"Permissions missing for {role}: {sorted(missing)}")
        group.permissions.set(permissions)
