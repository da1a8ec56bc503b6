"""Machine-readable errors from a peer.

A failed RPC carries a ``google.rpc.Status`` in the ``grpc-status-details-bin``
trailer whose ``details`` hold one ``cryptanet.v1.ErrorDetail``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Optional

import grpc
from grpc_status import rpc_status


@dataclass(frozen=True)
class ErrorDetail:
    """The reason a peer gave for a failed call."""

    status: grpc.StatusCode
    code: str
    message: str
    endorser: Optional[str]


class CryptanetError(Exception):
    """A failed RPC, with the peer's ``ErrorDetail`` when it sent one."""

    def __init__(
        self, rpc: str, status: grpc.StatusCode, message: str, detail: Optional[ErrorDetail]
    ):
        reason = detail.code if detail else "-"
        super().__init__(f"{rpc}: {status.name} ({reason}): {message}")
        self.rpc = rpc
        self.status = status
        self.detail = detail


class NotValidError(Exception):
    """A transaction committed with a validation code other than VALID."""

    def __init__(self, tx_id: str, code: str, block: int):
        super().__init__(f"transaction {tx_id} committed as {code} in block {block}")
        self.tx_id = tx_id
        self.code = code
        self.block = block


def error_detail(err: grpc.RpcError, common_pb2: ModuleType) -> Optional[ErrorDetail]:
    """Extracts the ``cryptanet.v1.ErrorDetail`` of a failed call, if any."""
    status = rpc_status.from_call(err)
    if status is None:
        return None
    for any_msg in status.details:
        detail = common_pb2.ErrorDetail()
        if any_msg.Is(detail.DESCRIPTOR) and any_msg.Unpack(detail):
            endorser = detail.endorser if detail.HasField("endorser") else None
            return ErrorDetail(err.code(), detail.code, detail.message, endorser)
    return None


def wrap(rpc: str, err: grpc.RpcError, common_pb2: ModuleType) -> CryptanetError:
    """A ``CryptanetError`` for a failed call."""
    return CryptanetError(rpc, err.code(), err.details() or "", error_detail(err, common_pb2))
