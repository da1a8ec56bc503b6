//! Read-only functions. Their responses are JSON; they write nothing.

use crate::keys;
use crate::model::{Reading, Shipment};
use cryptanet_sdk::{Context, Error, Result};
use serde::Serialize;

/// Upper bound on records returned by one query.
const MAX_RESULTS: u32 = 1000;

/// `GetShipment(id)`.
pub fn shipment(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let s: Shipment = ctx.must_get_json(&keys::shipment(&id)?, "shipment")?;
    Ok(serde_json::to_vec(&s)?)
}

/// `GetReadings(id, from_ms, to_ms)`: readings with `from <= ts < to`.
pub fn readings(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let from: u64 = ctx.arg(1)?;
    let to: u64 = ctx.arg(2)?;
    if from > to {
        return Err(Error::Invalid {
            reason: "from is after to".into(),
        });
    }
    let kvs = ctx.range(
        &keys::reading(&id, from)?,
        &keys::reading(&id, to)?,
        MAX_RESULTS,
    )?;
    let list = kvs
        .iter()
        .map(|(_, v)| serde_json::from_slice::<Reading>(v))
        .collect::<core::result::Result<Vec<_>, _>>()?;
    Ok(serde_json::to_vec(&list)?)
}

/// One entry of `GetHistory`.
#[derive(Serialize)]
struct HistoryItem {
    tx_id: String,
    block: u64,
    tx: u32,
    deleted: bool,
    shipment: Option<Shipment>,
}

/// `GetHistory(id)`: every committed version of the shipment record.
pub fn history(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let entries = ctx.history(&keys::shipment(&id)?)?;
    let items = entries
        .into_iter()
        .map(|e| {
            Ok(HistoryItem {
                tx_id: e.tx_id.iter().map(|b| format!("{b:02x}")).collect(),
                block: e.block,
                tx: e.tx,
                deleted: e.value.is_none(),
                shipment: match e.value {
                    Some(v) => Some(serde_json::from_slice(&v)?),
                    None => None,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::to_vec(&items)?)
}

/// `GetOpenAnomalies([id])`: open anomalies of one shipment, or of all.
pub fn open_anomalies(ctx: &mut Context) -> Result<Vec<u8>> {
    let kvs = if ctx.args().is_empty() {
        ctx.by_partial_composite_key("anomaly", &[], MAX_RESULTS)?
    } else {
        let id: String = ctx.arg(0)?;
        keys::shipment(&id)?; // validates the id
        ctx.by_partial_composite_key("anomaly", &[&id], MAX_RESULTS)?
    };
    let list = kvs
        .iter()
        .map(|(_, v)| serde_json::from_slice::<serde_json::Value>(v))
        .collect::<core::result::Result<Vec<_>, _>>()?;
    Ok(serde_json::to_vec(&list)?)
}
