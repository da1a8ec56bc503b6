"""The canonical encoding CryptaNet peers sign and verify.

Peers encode everything that is hashed or signed with bincode 2.0.1 in its
``standard()`` configuration (little-endian, variable-length integers) through
serde. This module writes the same bytes for the few structures a client
builds: ``Proposal``, ``SignedProposal``, ``Envelope`` and the transient map.
It is pure: no I/O, no clock, no randomness.

Rules, as bincode applies them to the Rust types in ``node/types``:

* ``u8``: one raw byte.
* ``u32``/``u64``/lengths: varint. ``n < 251`` is one byte; otherwise a marker
  byte (251: u16, 252: u32, 253: u64) followed by ``n`` little-endian.
* ``String``, ``Vec<u8>``, serde ``bytes``: varint length, then the bytes.
* ``Vec<T>``: varint element count, then each element.
* tuples and structs: fields in declaration order, no tags or names.
* ``Digest`` (``[u8; 32]`` via serde derive): 32 raw bytes, no length.
* ``Signature`` (custom ``serialize_bytes``): varint length 64, then 64 bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

#: Transient data: private (name, value) pairs that never reach the ledger.
Transient = List[Tuple[str, bytes]]

DIGEST_LEN = 32
SIGNATURE_LEN = 64


def varint(n: int) -> bytes:
    """Encodes an unsigned integer as a bincode 2 varint."""
    if n < 0 or n >= 1 << 64:
        raise ValueError(f"varint out of range: {n}")
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfb" + n.to_bytes(2, "little")
    if n < 1 << 32:
        return b"\xfc" + n.to_bytes(4, "little")
    return b"\xfd" + n.to_bytes(8, "little")


def encode_bytes(b: bytes) -> bytes:
    """Encodes a ``Vec<u8>`` (or serde bytes): length, then the bytes."""
    return varint(len(b)) + bytes(b)


def encode_str(s: str) -> bytes:
    """Encodes a ``String``: UTF-8 length, then the UTF-8 bytes."""
    return encode_bytes(s.encode("utf-8"))


def encode_digest(d: bytes) -> bytes:
    """Encodes a ``Digest``: exactly 32 raw bytes, no length prefix."""
    if len(d) != DIGEST_LEN:
        raise ValueError(f"digest must be {DIGEST_LEN} bytes, got {len(d)}")
    return bytes(d)


def encode_signature(sig: bytes) -> bytes:
    """Encodes a ``Signature``: serde bytes, so length 64 then the bytes."""
    if len(sig) != SIGNATURE_LEN:
        raise ValueError(f"signature must be {SIGNATURE_LEN} bytes, got {len(sig)}")
    return encode_bytes(sig)


def encode_transient(transient: Transient) -> bytes:
    """Encodes a ``Vec<(String, Vec<u8>)>``."""
    out = bytearray(varint(len(transient)))
    for name, value in transient:
        out += encode_str(name)
        out += encode_bytes(value)
    return bytes(out)


def sha3(data: bytes) -> bytes:
    """SHA3-256, the digest of every CryptaNet hash."""
    return hashlib.sha3_256(data).digest()


def transient_hash(transient: Transient) -> bytes:
    """``Proposal.transient_hash``: SHA3-256 of the encoded transient map."""
    return sha3(encode_transient(transient))


def tx_id(nonce: bytes, creator_der: bytes) -> str:
    """``tx_id = SHA3-256(nonce || creator certificate DER)``, lower-case hex."""
    return sha3(bytes(nonce) + bytes(creator_der)).hex()


@dataclass(frozen=True)
class Proposal:
    """What a client asks chaincode to do (``cryptanet_types::Proposal``)."""

    chaincode: str
    function: str
    args: Sequence[bytes]
    creator: bytes
    nonce: bytes
    timestamp_ms: int
    transient_hash: bytes = field(default_factory=lambda: transient_hash([]))

    def encode(self) -> bytes:
        """The canonical bytes the creator signs."""
        out = bytearray()
        out += encode_str(self.chaincode)
        out += encode_str(self.function)
        out += varint(len(self.args))
        for arg in self.args:
            out += encode_bytes(arg)
        out += encode_bytes(self.creator)
        out += encode_bytes(self.nonce)
        out += varint(self.timestamp_ms)
        out += encode_digest(self.transient_hash)
        return bytes(out)

    def tx_id(self) -> str:
        """The transaction id this proposal gets."""
        return tx_id(self.nonce, self.creator)


def encode_signed_proposal(
    proposal_bytes: bytes, signature: bytes, transient: Transient
) -> bytes:
    """Canonical ``SignedProposal { proposal_bytes, signature, transient }``."""
    return encode_bytes(proposal_bytes) + encode_signature(signature) + encode_transient(transient)


def encode_envelope(payload: bytes, signature: bytes) -> bytes:
    """Canonical ``Envelope { payload, signature }``.

    ``payload`` must be ``EndorseResponse.prepared_transaction`` exactly as
    received: it is wrapped as opaque bytes, never decoded and re-encoded.
    """
    return encode_bytes(payload) + encode_signature(signature)
