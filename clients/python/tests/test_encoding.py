"""The Python encoder against the golden vectors the Rust codec is pinned to.

``node/types/tests/golden_encoding.rs`` checks the same file with the peers'
own encoder, so passing both means the two agree byte for byte.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cryptanet_client import encoding  # noqa: E402
from cryptanet_client.identity import (  # noqa: E402
    Identity,
    KeyFormatError,
    ed25519_seed_from_pkcs8,
)

GOLDEN = os.path.join(os.path.dirname(__file__), "golden.json")


def load_golden():
    with open(GOLDEN, encoding="utf-8") as f:
        return json.load(f)


class GoldenVectors(unittest.TestCase):
    def setUp(self):
        self.g = load_golden()
        self.want = self.g["expected"]
        p = self.g["proposal"]
        self.proposal = encoding.Proposal(
            chaincode=p["chaincode"],
            function=p["function"],
            args=[a.encode("utf-8") for a in p["args"]],
            creator=bytes.fromhex(p["creator"]),
            nonce=bytes.fromhex(p["nonce"]),
            timestamp_ms=int(p["timestamp_ms"]),
        )
        self.transient = [(k, bytes.fromhex(v)) for k, v in self.g["transient"]]
        self.identity = Identity.from_seed(
            "Org1MSP", self.proposal.creator, bytes.fromhex(self.g["signing_seed"])
        )
        self.fixed_signature = bytes.fromhex(self.g["fixed_signature"])
        self.payload = bytes.fromhex(self.g["envelope_payload"])

    def test_varints(self):
        self.assertGreaterEqual(len(self.g["varints"]), 8)
        for n, want in self.g["varints"]:
            self.assertEqual(encoding.varint(int(n)).hex(), want, n)

    def test_transient_hashes(self):
        self.assertEqual(encoding.transient_hash([]).hex(), self.want["transient_hash_empty"])
        self.assertEqual(encoding.transient_hash(self.transient).hex(), self.want["transient_hash"])

    def test_proposal_tx_id_and_signature(self):
        proposal_bytes = self.proposal.encode()
        self.assertEqual(proposal_bytes.hex(), self.want["proposal_bytes"])
        self.assertEqual(self.proposal.tx_id(), self.want["tx_id"])
        signature = self.identity.sign(proposal_bytes)
        self.assertEqual(signature.hex(), self.want["proposal_signature"])
        signed = encoding.encode_signed_proposal(proposal_bytes, signature, [])
        self.assertEqual(signed.hex(), self.want["signed_proposal"])

    def test_signed_proposal_with_transient(self):
        signed = encoding.encode_signed_proposal(
            self.proposal.encode(), self.fixed_signature, self.transient
        )
        self.assertEqual(signed.hex(), self.want["signed_proposal_fixed_signature_with_transient"])

    def test_envelopes(self):
        fixed = encoding.encode_envelope(self.payload, self.fixed_signature)
        self.assertEqual(fixed.hex(), self.want["envelope_fixed_signature"])
        signature = self.identity.sign(self.payload)
        self.assertEqual(signature.hex(), self.want["envelope_signature"])
        envelope = encoding.encode_envelope(self.payload, signature)
        self.assertEqual(envelope.hex(), self.want["envelope"])


class Rules(unittest.TestCase):
    def test_varint_rejects_out_of_range(self):
        for n in (-1, 1 << 64):
            with self.assertRaises(ValueError):
                encoding.varint(n)

    def test_fixed_sizes_are_enforced(self):
        with self.assertRaises(ValueError):
            encoding.encode_digest(b"\x00" * 31)
        with self.assertRaises(ValueError):
            encoding.encode_envelope(b"payload", b"\x00" * 63)

    def test_payload_is_wrapped_not_reencoded(self):
        # Arbitrary bytes (not a valid TxPayload) pass through untouched.
        payload = bytes(range(256)) * 3
        env = encoding.encode_envelope(payload, b"\x01" * 64)
        self.assertEqual(env[:3], b"\xfb" + len(payload).to_bytes(2, "little"))
        self.assertEqual(env[3 : 3 + len(payload)], payload)
        self.assertEqual(env[3 + len(payload) :], b"\x40" + b"\x01" * 64)


class Pkcs8(unittest.TestCase):
    # RFC 8410 section 10.3 example key (v1, no public key) and the same seed
    # as a v2 document carrying its public key, the form `cryptanet orgs
    # generate` writes.
    SEED = bytes.fromhex("d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842")
    V1 = bytes.fromhex("302e020100300506032b657004220420") + SEED

    def test_v1_and_v2_give_the_seed(self):
        seed, public = ed25519_seed_from_pkcs8(self.V1)
        self.assertEqual((seed, public), (self.SEED, None))
        pub = Identity.from_seed("X", b"", self.SEED).public_key()
        # The public key RFC 8410 section 10.1 gives for this private key.
        rfc_public = "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        self.assertEqual(pub.hex(), rfc_public)
        body = bytes.fromhex("020101300506032b657004220420") + self.SEED + b"\x81\x21\x00" + pub
        v2 = b"\x30" + bytes([len(body)]) + body
        self.assertEqual(ed25519_seed_from_pkcs8(v2), (self.SEED, pub))

    def test_rejects_other_keys_and_trailing_bytes(self):
        with self.assertRaises(KeyFormatError):
            ed448 = self.V1.replace(bytes.fromhex("2b6570"), bytes.fromhex("2b6571"))
            ed25519_seed_from_pkcs8(ed448)
        with self.assertRaises(KeyFormatError):
            ed25519_seed_from_pkcs8(self.V1 + b"\x00")
        with self.assertRaises(KeyFormatError):
            ed25519_seed_from_pkcs8(self.V1[:-1])


if __name__ == "__main__":
    unittest.main()
