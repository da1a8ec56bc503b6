"""Client identities: an X.509 certificate and its ed25519 key.

``cryptanet orgs generate`` writes each identity as ``cert.pem`` and
``private.key`` (PKCS#8, PEM) under ``crypto/<MspId>/<role>/``. The key files
are RFC 5958 "OneAsymmetricKey" v2 documents that also carry the public key,
which the ``cryptography`` package's PKCS#8 loader refuses (``extra data``),
so this module reads the few DER fields itself and hands the 32-byte seed to
``cryptography``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# DER of the ed25519 algorithm identifier: SEQUENCE { OID 1.3.101.112 }.
_ED25519_ALG = bytes.fromhex("300506032b6570")


class KeyFormatError(ValueError):
    """A key file is not an ed25519 PKCS#8 key, or does not match its certificate."""


def _pem_body(pem: bytes, label: str) -> bytes:
    begin = f"-----BEGIN {label}-----".encode()
    end = f"-----END {label}-----".encode()
    start = pem.find(begin)
    stop = pem.find(end, start + len(begin))
    if start < 0 or stop < 0:
        raise KeyFormatError(f"no PEM block {label!r}")
    return base64.b64decode(b"".join(pem[start + len(begin) : stop].split()))


def _der_item(der: bytes, pos: int) -> Tuple[int, bytes, int]:
    """Reads one DER TLV at ``pos``: (tag, content, position after it)."""
    if pos + 2 > len(der):
        raise KeyFormatError("truncated DER")
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        width = first & 0x7F
        if width == 0 or width > 4 or pos + width > len(der):
            raise KeyFormatError("bad DER length")
        length = int.from_bytes(der[pos : pos + width], "big")
        pos += width
    if pos + length > len(der):
        raise KeyFormatError("truncated DER")
    return tag, der[pos : pos + length], pos + length


def ed25519_seed_from_pkcs8(der: bytes) -> Tuple[bytes, Optional[bytes]]:
    """Returns (32-byte seed, embedded public key or None) of a PKCS#8 v1/v2 key."""
    tag, body, end = _der_item(der, 0)
    if tag != 0x30 or end != len(der):
        raise KeyFormatError("PKCS#8 key is not one SEQUENCE")
    tag, version, pos = _der_item(body, 0)
    if tag != 0x02 or version not in (b"\x00", b"\x01"):
        raise KeyFormatError("unsupported PKCS#8 version")
    alg_end = pos + len(_ED25519_ALG)
    if body[pos:alg_end] != _ED25519_ALG:
        raise KeyFormatError("not an ed25519 key")
    tag, wrapped, pos = _der_item(body, alg_end)
    if tag != 0x04:
        raise KeyFormatError("private key is not an OCTET STRING")
    tag, seed, inner_end = _der_item(wrapped, 0)
    if tag != 0x04 or len(seed) != 32 or inner_end != len(wrapped):
        raise KeyFormatError("ed25519 private key is not a 32-byte OCTET STRING")
    public = None
    while pos < len(body):
        tag, content, pos = _der_item(body, pos)
        if tag == 0x81:  # [1] IMPLICIT BIT STRING publicKey
            if len(content) != 33 or content[0] != 0:
                raise KeyFormatError("bad embedded public key")
            public = content[1:]
    return seed, public


@dataclass(frozen=True)
class Identity:
    """A member's certificate (DER) and signing key."""

    msp_id: str
    cert_der: bytes
    key: Ed25519PrivateKey

    @staticmethod
    def from_seed(msp_id: str, cert_der: bytes, seed: bytes) -> "Identity":
        """An identity from a raw 32-byte ed25519 seed."""
        return Identity(msp_id, cert_der, Ed25519PrivateKey.from_private_bytes(seed))

    @staticmethod
    def load(crypto_dir: str, msp_id: str, role: str = "client") -> "Identity":
        """Loads ``crypto_dir/<msp_id>/<role>/{cert.pem,private.key}``.

        Checks that the key's public half is the certificate's public key.
        """
        base = os.path.join(crypto_dir, msp_id, role)
        with open(os.path.join(base, "cert.pem"), "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        with open(os.path.join(base, "private.key"), "rb") as f:
            seed, embedded = ed25519_seed_from_pkcs8(_pem_body(f.read(), "PRIVATE KEY"))
        identity = Identity.from_seed(msp_id, cert.public_bytes(Encoding.DER), seed)
        public = identity.public_key()
        cert_public = cert.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if public != cert_public or (embedded is not None and embedded != public):
            raise KeyFormatError(f"{base}: private key does not match the certificate")
        return identity

    def public_key(self) -> bytes:
        """The raw 32-byte ed25519 public key."""
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte ed25519 signature over exactly ``message``."""
        return self.key.sign(message)
