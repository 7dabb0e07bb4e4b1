"""Confirmations of history entered from records (made by board members on the board's page), and users."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from ..models import RecordConfirmation
from .base import ReadOnlyAdmin


@admin.register(RecordConfirmation)
class RecordConfirmationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "record", "confirmed_by", "confirmed_at"]
    list_select_related = [
        "confirmed_by",
        "designation__participant",
        "reserve_change",
        "issuance__designation",
        "cancellation",
    ]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class LedgerUserAdmin(UserAdmin):
    """Users are deactivated, never deleted: the ledger keeps who recorded, proposed and voted on what.

    Groups and permissions are plain labelled lists (the two-pane filter widget fails axe-core's ARIA checks), and
    the login and joining times are shown, not edited (their split date/time inputs have no labels).
    """

    filter_horizontal = ()
    readonly_fields = ["last_login", "date_joined"]

    def has_delete_permission(self, request, obj=None):
        return False
