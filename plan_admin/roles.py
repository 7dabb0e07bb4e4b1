"""The roles of DESIGN.md as Django groups, and the permissions each holds.

The data migration 0002_roles creates the groups from this table; tests walk the URLs against it.
"""

BOARD = "Board members"
STAFF = "Plan staff"
AUDITORS = "Auditors"

_MODELS = ["plan", "sharereservechange", "participant", "boarddesignation", "designationvote", "issuance",
           "issuancecancellation"]
_VIEW_ALL = [f"view_{model}" for model in _MODELS]
_EXPORT_ALL = ["export_plan", "export_sharereservechange", "export_participant", "export_boarddesignation",
               "export_issuance"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    BOARD: _VIEW_ALL + _EXPORT_ALL + ["vote_boarddesignation"],
    STAFF: _VIEW_ALL
    + _EXPORT_ALL
    + [
        "add_participant",
        "change_participant",
        "add_boarddesignation",
        "change_boarddesignation",  # withdraw a proposal
        "add_issuance",
        "add_issuancecancellation",
        "add_sharereservechange",
        "record_plan_term",
        "import_participant",
        "import_boarddesignation",
        "import_issuance",
    ],
    AUDITORS: _VIEW_ALL + _EXPORT_ALL,
}


def sync_role_groups(Group, Permission) -> None:
    """Create or update each role group with exactly its permissions.

    Takes the model classes so that the data migration (historical models) and code outside migrations (the
    demo loader, tests after a database flush) share it.
    """
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(content_type__app_label="plan_admin", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {role}: {sorted(missing)}")
        group.permissions.set(permissions)
