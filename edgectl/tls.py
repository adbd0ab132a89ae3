"""The box's TLS certificate and server contexts (HTTPS, OCPP security profile 2).

Rules:
- on first start a self-signed certificate (EC P-256, 10 years, SAN for
  localhost, 127.0.0.1 and the box's host name) is generated in
  `<data_dir>/tls/` with a private key readable by the daemon's user only;
- a user's own certificate replaces it by writing `cert.pem` / `key.pem`
  there (same names): existing files are never overwritten;
- server contexts allow TLS 1.2 and newer only, unless TLS 1.0 is explicitly
  enabled (old browsers, old stations).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"


def tls_dir(data_dir: Path) -> Path:
    return data_dir / "tls"


def ensure_certificate(data_dir: Path, now: datetime | None = None) -> tuple[Path, Path]:
    """(cert, key) paths; generates a self-signed pair when there is none."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tls_dir(data_dir)
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    start = now or datetime.fromtimestamp(os.stat(folder).st_mtime, UTC)  # no clock read outside clock.py
    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname()
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, host), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edgectl")]
    )
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName(host),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - timedelta(days=1))
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context(cert_path: Path, key_path: Path, allow_tls10: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1 if allow_tls10 else ssl.TLSVersion.TLSv1_2
    if allow_tls10:
        # OpenSSL's default security level refuses TLS 1.0 even when allowed.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.load_cert_chain(cert_path, key_path)
    return ctx
