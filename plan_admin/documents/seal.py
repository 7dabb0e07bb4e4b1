"""The deployment's seal: a PDF signature (pyHanko) over the whole signed resolution.

The key and its certificate are PEM files whose paths come from the environment (RESOLUTION_SEAL_KEY,
RESOLUTION_SEAL_CERT, and RESOLUTION_SEAL_KEY_PASSPHRASE when the key is encrypted). `manage.py create_seal_key`
makes a self-signed demo pair (make run does it; never commit it). Anyone can check a signed resolution with

    pyhanko sign validate --trust seal-cert.pem --trust-replace --no-revocation-check resolution.pdf

which says INTACT:TRUSTED for the file as sealed and INVALID for a copy with any byte changed.
"""

import datetime
import io
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from ..exceptions import PlanRuleViolation

FIELD_NAME = "PlanAdminSeal"


class SealUnavailable(PlanRuleViolation):
    """The deployment's seal key is not configured or cannot be read: nothing is signed or decided without it."""

    default_code = "seal_unavailable"


def _paths() -> tuple[Path, Path]:
    key, cert = settings.RESOLUTION_SEAL_KEY, settings.RESOLUTION_SEAL_CERT
    if not key or not cert:
        raise SealUnavailable(
            "The deployment's seal key is not configured (RESOLUTION_SEAL_KEY and RESOLUTION_SEAL_CERT), so a signed "
            "resolution cannot be sealed: your signature was not recorded. Ask the administrator to set it up."
        )
    return Path(key), Path(cert)


def _signer():
    from pyhanko.sign import signers

    key, cert = _paths()
    if not key.is_file() or not cert.is_file():
        raise SealUnavailable(
            f"The deployment's seal key ({key}) or certificate ({cert}) cannot be read: your "
            "signature was not recorded. Ask the administrator to check RESOLUTION_SEAL_KEY."
        )
    passphrase = settings.RESOLUTION_SEAL_KEY_PASSPHRASE
    signer = signers.SimpleSigner.load(str(key), str(cert), key_passphrase=passphrase.encode() if passphrase else None)
    if signer is None:
        raise SealUnavailable(
            "The deployment's seal key could not be loaded (a wrong passphrase?): your signature was not recorded."
        )
    return signer


def seal(data: bytes, *, reason: str) -> bytes:
    """`data` sealed by an incremental update carrying a certifying PDF signature over the whole file."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        location=settings.RESOLUTION_SEAL_LOCATION,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    return signers.sign_pdf(writer, meta, signer=_signer()).getvalue()


def certificate_pem() -> bytes:
    _, cert = _paths()
    return cert.read_bytes()


def create_key(*, key_path: Path, cert_path: Path, common_name: str, organization: str, days: int = 3650) -> None:
    """Write a new EC P-256 key and a self-signed certificate for sealing (a demo, or until a CA-issued one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def validate(data: bytes, *, trust_pem: bytes | None = None):
    """pyHanko's validation of the seal: (intact, trusted, covers the whole file)."""
    import tempfile

    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with tempfile.NamedTemporaryFile(suffix=".pem") as pem:
        pem.write(trust_pem or certificate_pem())
        pem.flush()
        root = load_cert_from_pemder(pem.name)
    reader = PdfFileReader(io.BytesIO(data))
    signature = reader.embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    return status.intact and status.valid, status.trusted, status.coverage.name == "ENTIRE_FILE"
