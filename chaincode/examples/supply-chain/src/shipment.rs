//! Registering shipments and transferring custody.

use crate::keys;
use crate::model::{Shipment, Spec};
use cryptanet_sdk::{Context, Error, Result};

/// `RegisterShipment(id, product, quantity, origin, destination, custodian,
/// temp_min_mc, temp_max_mc, humidity_min_pm, humidity_max_pm)`.
pub fn register(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let key = keys::shipment(&id)?;
    if ctx.get_state(&key)?.is_some() {
        return Err(Error::Invalid {
            reason: format!("shipment {id} already exists"),
        });
    }
    let spec = Spec {
        temp_min_mc: ctx.arg(6)?,
        temp_max_mc: ctx.arg(7)?,
        humidity_min_pm: ctx.arg(8)?,
        humidity_max_pm: ctx.arg(9)?,
    };
    if spec.temp_min_mc > spec.temp_max_mc || spec.humidity_min_pm > spec.humidity_max_pm {
        return Err(Error::Invalid {
            reason: "spec minimum above maximum".into(),
        });
    }
    let shipment = Shipment {
        id,
        product: ctx.arg(1)?,
        quantity: ctx.arg(2)?,
        origin: ctx.arg(3)?,
        destination: ctx.arg(4)?,
        custodian: ctx.arg(5)?,
        registered_by: ctx.creator_msp_id().into(),
        spec,
    };
    ctx.put_json(&key, &shipment)?;
    Ok(serde_json::to_vec(&shipment)?)
}

/// `TransferCustody(id, new_custodian)`: only the current custodian may.
pub fn transfer(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let to: String = ctx.arg(1)?;
    let key = keys::shipment(&id)?;
    let mut shipment: Shipment = ctx.must_get_json(&key, "shipment")?;
    require_custodian(ctx, &shipment)?;
    if to.is_empty() || to == shipment.custodian {
        return Err(Error::Invalid {
            reason: "new custodian must be another org".into(),
        });
    }
    shipment.custodian = to;
    ctx.put_json(&key, &shipment)?;
    Ok(serde_json::to_vec(&shipment)?)
}

/// Fails unless the caller's org is the shipment's custodian.
pub fn require_custodian(ctx: &Context, shipment: &Shipment) -> Result<()> {
    if ctx.creator_msp_id() == shipment.custodian {
        Ok(())
    } else {
        Err(Error::Forbidden {
            reason: format!(
                "{} is not the custodian of {}",
                ctx.creator_msp_id(),
                shipment.id
            ),
        })
    }
}
