//! Reference supply-chain chaincode for CryptaNet.
//!
//! Functions (arguments are UTF-8 text; numbers in decimal):
//!
//! | function | arguments | who |
//! |---|---|---|
//! | `RegisterShipment` | id, product, quantity, origin, destination, custodian MSP id, temp min/max (m°C), humidity min/max (‰) | any org |
//! | `RecordReading` | id, timestamp (unix ms), temperature (m°C), humidity (‰), quantity, location | current custodian |
//! | `TransferCustody` | id, new custodian MSP id | current custodian |
//! | `ResolveAnomaly` | id, timestamp | current custodian |
//! | `GetShipment` | id | anyone |
//! | `GetReadings` | id, from (incl.), to (excl.) | anyone |
//! | `GetHistory` | id | anyone |
//! | `GetOpenAnomalies` | id, or nothing for all shipments | anyone |
//!
//! `RecordReading` asks the host's detector for a verdict, stores the reading
//! with it and, when anomalous, records an open anomaly and emits the
//! `AnomalyDetected` event. It returns the verdict (shipment, timestamp,
//! `anomalous`, `score_ppm`, `rules`, `explanation`), not the whole stored
//! reading: the response is signed by every endorser and hashed by every
//! peer, and the reading is already in the write set (`GetReadings` reads
//! it back).

mod keys;
mod model;
mod queries;
mod reading;
mod shipment;

use cryptanet_sdk::{entry, Context, Error, Result};

entry!(handle);

fn handle(ctx: &mut Context) -> Result<Vec<u8>> {
    match ctx.function() {
        "RegisterShipment" => shipment::register(ctx),
        "TransferCustody" => shipment::transfer(ctx),
        "RecordReading" => reading::record(ctx),
        "ResolveAnomaly" => reading::resolve(ctx),
        "GetShipment" => queries::shipment(ctx),
        "GetReadings" => queries::readings(ctx),
        "GetHistory" => queries::history(ctx),
        "GetOpenAnomalies" => queries::open_anomalies(ctx),
        other => Err(Error::UnknownFunction {
            function: other.into(),
        }),
    }
}
