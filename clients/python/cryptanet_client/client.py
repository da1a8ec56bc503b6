"""A client connected to one gateway peer, signing as one identity.

The flow for an update: build and sign a ``Proposal`` → ``Gateway.Endorse``
→ sign ``prepared_transaction`` exactly as received → ``Gateway.Submit`` the
``Envelope`` → ``Gateway.CommitStatus``. Queries use ``Gateway.Evaluate``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Union

import grpc

from . import encoding, stubs
from .errors import NotValidError, wrap
from .identity import Identity

Arg = Union[str, bytes]

#: Default deadline of unary calls, seconds.
CALL_TIMEOUT = 30.0
#: Default wait for a commit, seconds (the peer itself waits at most 60 s).
COMMIT_TIMEOUT = 60.0
NONCE_LEN = 24


@dataclass(frozen=True)
class SignedProposal:
    """A proposal, its canonical bytes and the encoded ``SignedProposal``."""

    proposal: encoding.Proposal
    proposal_bytes: bytes
    signed_bytes: bytes

    @property
    def tx_id(self) -> str:
        """The transaction id (lower-case hex)."""
        return self.proposal.tx_id()


@dataclass(frozen=True)
class Committed:
    """A committed transaction."""

    tx_id: str
    validation_code: str
    block_number: int
    result: object  # cryptanet.v1.Response


def _arg_bytes(arg: Arg) -> bytes:
    return arg.encode("utf-8") if isinstance(arg, str) else bytes(arg)


class Client:
    """An identity plus a channel to one gateway peer."""

    def __init__(self, target: str, identity: Identity, modules: Optional[Dict] = None):
        """Connects to ``target`` (``host:port``, plaintext) as ``identity``."""
        self.identity = identity
        self.pb = modules or stubs.load()
        self.channel = grpc.insecure_channel(target)
        self.gateway = self.pb["gateway_pb2_grpc"].GatewayStub(self.channel)
        self.deliver = self.pb["deliver_pb2_grpc"].DeliverStub(self.channel)
        self.admin = self.pb["admin_pb2_grpc"].AdminStub(self.channel)

    def close(self) -> None:
        """Closes the channel."""
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def proposal(
        self,
        chaincode: str,
        function: str,
        args: Sequence[Arg],
        transient: Optional[encoding.Transient] = None,
    ) -> SignedProposal:
        """A signed proposal with a fresh random nonce (hence a fresh tx id)."""
        transient = list(transient or [])
        proposal = encoding.Proposal(
            chaincode=chaincode,
            function=function,
            args=[_arg_bytes(a) for a in args],
            creator=self.identity.cert_der,
            nonce=os.urandom(NONCE_LEN),
            timestamp_ms=int(time.time() * 1000),
            transient_hash=encoding.transient_hash(transient),
        )
        proposal_bytes = proposal.encode()
        signature = self.identity.sign(proposal_bytes)
        signed = encoding.encode_signed_proposal(proposal_bytes, signature, transient)
        return SignedProposal(proposal, proposal_bytes, signed)

    def _wire(self, signed: SignedProposal) -> object:
        return self.pb["gateway_pb2"].SignedProposal(signed_proposal=signed.signed_bytes)

    def _call(self, name: str, method, request, timeout: float):
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as err:
            raise wrap(name, err, self.pb["common_pb2"]) from err

    def evaluate(
        self, chaincode: str, function: str, args: Sequence[Arg], timeout: float = CALL_TIMEOUT
    ):
        """Runs a query on the gateway peer; returns the chaincode ``Response``."""
        signed = self.proposal(chaincode, function, args)
        reply = self._call("Evaluate", self.gateway.Evaluate, self._wire(signed), timeout)
        return reply.result

    def endorse(
        self, signed: SignedProposal, orgs: Sequence[str] = (), timeout: float = CALL_TIMEOUT
    ):
        """Collects endorsements; returns the ``EndorseResponse``."""
        request = self.pb["gateway_pb2"].EndorseRequest(
            signed_proposal=self._wire(signed), endorsing_orgs=list(orgs)
        )
        reply = self._call("Endorse", self.gateway.Endorse, request, timeout)
        if reply.tx_id != signed.tx_id:
            raise ValueError(f"gateway answered tx id {reply.tx_id}, expected {signed.tx_id}")
        return reply

    def submit(self, endorsed, timeout: float = CALL_TIMEOUT) -> str:
        """Signs ``endorsed.prepared_transaction`` as received and submits the envelope."""
        payload = endorsed.prepared_transaction
        envelope = encoding.encode_envelope(payload, self.identity.sign(payload))
        return self.submit_envelope(envelope, timeout)

    def submit_envelope(self, envelope: bytes, timeout: float = CALL_TIMEOUT) -> str:
        """Submits canonical ``Envelope`` bytes for ordering; returns the tx id."""
        request = self.pb["gateway_pb2"].SubmitRequest(envelope=envelope)
        return self._call("Submit", self.gateway.Submit, request, timeout).tx_id

    def commit_status(self, tx_id: str, timeout: float = COMMIT_TIMEOUT):
        """Waits (at most ``timeout`` s) for the commit; returns ``CommitStatusResponse``."""
        request = self.pb["gateway_pb2"].CommitStatusRequest(tx_id=tx_id)
        return self._call("CommitStatus", self.gateway.CommitStatus, request, timeout)

    def code_name(self, code: int) -> str:
        """The name of a ``ValidationCode`` number."""
        return self.pb["common_pb2"].ValidationCode.Name(code)

    def invoke(
        self,
        chaincode: str,
        function: str,
        args: Sequence[Arg],
        orgs: Sequence[str] = (),
        timeout: float = COMMIT_TIMEOUT,
    ) -> Committed:
        """Endorse, sign, submit and wait; raises ``NotValidError`` unless VALID."""
        signed = self.proposal(chaincode, function, args)
        endorsed = self.endorse(signed, orgs)
        tx_id = self.submit(endorsed)
        status = self.commit_status(tx_id, timeout)
        code = self.code_name(status.validation_code)
        if code != "VALID":
            raise NotValidError(tx_id, code, status.block_number)
        return Committed(tx_id, code, status.block_number, endorsed.result)

    def chaincode_events(
        self, chaincode: str, start_block: Optional[int] = None, timeout: Optional[float] = None
    ):
        """Streams ``ChaincodeEventsResponse`` messages; ``cancel()`` the result to stop."""
        request = self.pb["gateway_pb2"].ChaincodeEventsRequest(chaincode=chaincode)
        if start_block is not None:
            request.start_block = start_block
        return self.gateway.ChaincodeEvents(request, timeout=timeout)

    def filtered_blocks(self, first: int, last: int, timeout: float = CALL_TIMEOUT) -> List:
        """``Deliver.FilteredBlocks`` from block ``first`` to ``last`` inclusive."""
        request = self.pb["deliver_pb2"].DeliverRequest(number=first, stop=last)
        try:
            return list(self.deliver.FilteredBlocks(request, timeout=timeout))
        except grpc.RpcError as err:
            raise wrap("FilteredBlocks", err, self.pb["common_pb2"]) from err


def events(stream) -> Iterable:
    """Flattens a ``ChaincodeEvents`` stream into (block_number, ChaincodeEvent) pairs."""
    for message in stream:
        for event in message.events:
            yield message.block_number, event
