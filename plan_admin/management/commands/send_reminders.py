"""Remind board members of resolutions awaiting their signature. Meant for cron, e.g. daily:

    0 8 * * *  cd /srv/plan-admin && .venv/bin/python manage.py send_reminders

A director is reminded at most once per RESOLUTION_REMINDER_DAYS (default 3) since the last email about that
resolution, and never after turning reminders off (/account/notifications/).
"""

from django.core.management.base import BaseCommand

from plan_admin.notifications.resolutions import send_reminders


class Command(BaseCommand):
    help = "Email reminders about resolutions awaiting a board member's signature (at most once per interval)."

    def handle(self, *args, **options):
        sent = send_reminders()
        self.stdout.write(f"{sent} reminder{'s' if sent != 1 else ''} sent.")
