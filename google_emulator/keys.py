"""The RSA key that signs id_tokens, published as a certificate and a JWKS."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    """One RSA key pair plus a self-signed certificate for it."""

    def __init__(self, private_pem: str | None = None) -> None:
        if private_pem:
            self.private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = hashlib.sha1(public_der).hexdigest()
        self.certificate_pem = self._certificate()

    def private_pem(self) -> str:
        """The private key as PKCS#8 PEM, for the state file."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def _certificate(self) -> str:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "copilot-google-emulator")])
        start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(int(self.kid[:16], 16))
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=365 * 30))
            .sign(self.private_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT with this key's `kid` in the header."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def certs_v1(self) -> dict[str, str]:
        """Google's `/oauth2/v1/certs` shape: `{kid: PEM certificate}`."""
        return {self.kid: self.certificate_pem}

    def jwks(self) -> dict[str, Any]:
        """Google's `/oauth2/v3/certs` shape: a JWK Set."""
        numbers = self.private_key.public_key().public_numbers()
        key = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _b64uint(numbers.n),
            "e": _b64uint(numbers.e),
        }
        return {"keys": [key]}
