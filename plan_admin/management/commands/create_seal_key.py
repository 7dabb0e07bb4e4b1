"""Create the deployment's seal key and self-signed certificate (make run does it for the demo).

    manage.py create_seal_key [--key PATH] [--cert PATH] [--organization NAME] [--force]

Paths default to RESOLUTION_SEAL_KEY / RESOLUTION_SEAL_CERT. An existing key is kept unless --force: replacing it
does not invalidate documents already sealed, but they then validate only against the old certificate, so keep it.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from plan_admin.documents import seal


class Command(BaseCommand):
    help = "Create a seal key and self-signed certificate for resolutions (for a demo, or until a CA-issued one)."

    def add_arguments(self, parser):
        parser.add_argument("--key", default=settings.RESOLUTION_SEAL_KEY)
        parser.add_argument("--cert", default=settings.RESOLUTION_SEAL_CERT)
        parser.add_argument("--organization", default="plan-admin demo")
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, key, cert, organization, force, **options):
        if not key or not cert:
            raise CommandError("Set RESOLUTION_SEAL_KEY and RESOLUTION_SEAL_CERT, or pass --key and --cert.")
        key_path, cert_path = Path(key), Path(cert)
        if key_path.exists() and cert_path.exists() and not force:
            self.stdout.write(f"Seal key exists: {key_path} (certificate {cert_path}).")
            return
        seal.create_key(
            key_path=key_path,
            cert_path=cert_path,
            common_name=f"{organization} resolution seal",
            organization=organization,
        )
        self.stdout.write(f"Seal key created: {key_path} (certificate {cert_path}). Keep the key secret.")
