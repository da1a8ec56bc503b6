"""End to end against a running 4-org network with `supply-chain` deployed.

A 2-8 °C shipment is registered; a 5 °C reading commits VALID and raises no
event; a 14 °C reading commits VALID on every peer and a subscribed client
receives `AnomalyDetected` naming the temperature breach; Deliver's filtered
blocks agree. Also checks that a chaincode refusal (a non-custodian records
a reading) and a badly signed envelope come back with a
`cryptanet.v1.ErrorDetail`.

Environment (set by scripts/test-python-client.sh):
  CRYPTANET_CRYPTO    the network's crypto/ directory
  CRYPTANET_GATEWAYS  comma-separated host:port of every peer, org order
"""

import json
import os
import queue
import sys
import threading
import time
import unittest

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cryptanet_client import (  # noqa: E402
    Client,
    CryptanetError,
    Identity,
    encode_envelope,
    events,
    stubs,
)

CHAINCODE = "supply-chain"
TEMP_HIGH = 1  # cryptanet_sdk::detect::rule::TEMP_HIGH
EVENT_WAIT = 30.0  # seconds


def env(name):
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest(f"{name} not set: run scripts/test-python-client.sh")
    return value


class AnomalyEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        crypto = env("CRYPTANET_CRYPTO")
        cls.gateways = env("CRYPTANET_GATEWAYS").split(",")
        cls.pb = stubs.load()
        cls.identity = Identity.load(crypto, "Org1MSP")
        cls.client = Client(cls.gateways[0], cls.identity, cls.pb)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def subscribe(self):
        """Streams events from the next block on into a queue, in a thread."""
        info = self.client.admin.PeerInfo(self.pb["admin_pb2"].PeerInfoRequest(), timeout=10)
        stream = self.client.chaincode_events(CHAINCODE, start_block=info.height + 1)
        received = queue.Queue()

        def pump():
            try:
                for block, event in events(stream):
                    received.put((block, event))
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.CANCELLED:
                    received.put(err)

        threading.Thread(target=pump, daemon=True).start()
        self.addCleanup(stream.cancel)
        return received

    def commit_everywhere(self, tx_id, block):
        for target in self.gateways:
            with Client(target, self.identity, self.pb) as peer:
                status = peer.commit_status(tx_id, timeout=30)
                self.assertEqual(peer.code_name(status.validation_code), "VALID", target)
                self.assertEqual(status.block_number, block, target)

    def test_hot_reading_raises_anomaly_event_and_normal_one_does_not(self):
        received = self.subscribe()
        shipment = f"PY-{os.getpid()}-{int(time.time())}"
        registered = self.client.invoke(
            CHAINCODE,
            "RegisterShipment",
            [shipment, "vaccines", "100", "Basel", "Oslo", "Org1MSP", "2000", "8000", "300", "450"],
        )
        self.assertEqual(registered.result.status, 200, registered.result.message)

        t0 = int(time.time() * 1000)
        normal = self.client.invoke(
            CHAINCODE, "RecordReading", [shipment, str(t0), "5000", "400", "100", "47.0,8.0"]
        )
        self.assertFalse(json.loads(normal.result.payload)["anomalous"])

        hot = self.client.invoke(
            CHAINCODE,
            "RecordReading",
            [shipment, str(t0 + 60_000), "14000", "400", "100", "47.0,8.0"],
        )
        reading = json.loads(hot.result.payload)
        self.assertTrue(reading["anomalous"])
        self.assertEqual(reading["rules"], TEMP_HIGH)
        self.assertGreater(hot.block_number, normal.block_number)
        self.commit_everywhere(hot.tx_id, hot.block_number)

        deadline = time.monotonic() + EVENT_WAIT
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            self.assertGreater(remaining, 0, f"no AnomalyDetected for {hot.tx_id}; saw {seen}")
            try:
                item = received.get(timeout=remaining)
            except queue.Empty:
                continue
            if isinstance(item, Exception):
                raise item
            block, event = item
            seen.append((block, event.tx_id, event.event_name))
            # Events arrive in block order, so an event of the normal reading
            # would have arrived before the anomaly's.
            self.assertNotEqual(event.tx_id, normal.tx_id, "normal reading raised an event")
            if event.tx_id == hot.tx_id:
                break
        self.assertEqual(block, hot.block_number)
        self.assertEqual(event.chaincode, CHAINCODE)
        self.assertEqual(event.event_name, "AnomalyDetected")
        payload = json.loads(event.payload)
        self.assertEqual(payload["shipment"], shipment)
        self.assertEqual(payload["timestamp_ms"], t0 + 60_000)
        self.assertEqual(payload["rules"], TEMP_HIGH, "the breach is temperature above the range")
        self.assertTrue(0 < payload["score_ppm"] <= 1_000_000, payload)

        # The same from Deliver: per transaction, its code and event.
        blocks = self.client.filtered_blocks(normal.block_number, hot.block_number)
        self.assertEqual(
            [b.number for b in blocks], list(range(normal.block_number, hot.block_number + 1))
        )
        txs = {tx.tx_id: tx for b in blocks for tx in b.txs}
        for tx in (txs[normal.tx_id], txs[hot.tx_id]):
            self.assertEqual(self.client.code_name(tx.validation_code), "VALID")
        self.assertFalse(txs[normal.tx_id].HasField("chaincode_event"))
        self.assertEqual(txs[hot.tx_id].chaincode_event.event_name, "AnomalyDetected")
        self.assertEqual(txs[hot.tx_id].chaincode_event.payload, event.payload)

        readings = self.client.evaluate(
            CHAINCODE, "GetReadings", [shipment, str(t0), str(t0 + 120_000)]
        )
        flags = [(r["temp_mc"], r["anomalous"]) for r in json.loads(readings.payload)]
        self.assertEqual(flags, [(5000, False), (14000, True)])

    def test_chaincode_refusal_carries_error_detail(self):
        shipment = f"PY-OWN-{os.getpid()}-{int(time.time())}"
        self.client.invoke(
            CHAINCODE,
            "RegisterShipment",
            [shipment, "insulin", "10", "Basel", "Oslo", "Org1MSP", "2000", "8000", "300", "450"],
        )
        other = Identity.load(env("CRYPTANET_CRYPTO"), "Org2MSP")
        with Client(self.gateways[1], other, self.pb) as org2:
            signed = org2.proposal(
                CHAINCODE, "RecordReading", [shipment, "1", "5000", "400", "10", "0,0"]
            )
            with self.assertRaises(CryptanetError) as caught:
                org2.endorse(signed)
        self.assertEqual(caught.exception.status, grpc.StatusCode.ABORTED)
        self.assertIsNotNone(caught.exception.detail, "no cryptanet.v1.ErrorDetail in the trailer")
        self.assertEqual(caught.exception.detail.code, "CHAINCODE_ERROR")
        self.assertIn("not the custodian", caught.exception.detail.message)

    def test_badly_signed_envelope_is_refused_with_error_detail(self):
        signed = self.client.proposal(
            CHAINCODE,
            "RegisterShipment",
            [f"PY-BAD-{os.getpid()}", "x", "1", "a", "b", "Org1MSP", "0", "1", "0", "1"],
        )
        endorsed = self.client.endorse(signed)
        stranger = Ed25519PrivateKey.generate()
        payload = endorsed.prepared_transaction
        with self.assertRaises(CryptanetError) as caught:
            self.client.submit_envelope(encode_envelope(payload, stranger.sign(payload)))
        self.assertEqual(caught.exception.status, grpc.StatusCode.PERMISSION_DENIED)
        self.assertIsNotNone(caught.exception.detail, "no cryptanet.v1.ErrorDetail in the trailer")
        self.assertEqual(caught.exception.detail.code, "BAD_SIGNATURE")

if __name__ == "__main__":
    unittest.main()
