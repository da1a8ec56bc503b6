"""CryptaNet client library for Python: canonical encoding, identities, gateway calls.

See ``docs/clients.md`` in the repository for the protocol this implements.
"""

from .client import Client, Committed, SignedProposal, events
from .encoding import Proposal, encode_envelope, encode_signed_proposal, transient_hash, tx_id
from .errors import CryptanetError, ErrorDetail, NotValidError
from .identity import Identity, KeyFormatError

__all__ = [
    "Client",
    "Committed",
    "CryptanetError",
    "ErrorDetail",
    "Identity",
    "KeyFormatError",
    "NotValidError",
    "Proposal",
    "SignedProposal",
    "encode_envelope",
    "encode_signed_proposal",
    "events",
    "transient_hash",
    "tx_id",
]
