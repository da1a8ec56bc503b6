//! Where things live in this chaincode's namespace.
//!
//! * shipment: composite key `("shipment", id)`;
//! * reading: simple key `reading/<id>/<timestamp, 20 digits>`, so the
//!   readings of one shipment in a time window are one range query;
//! * open anomaly: composite key `("anomaly", id, <timestamp, 20 digits>)`.

use cryptanet_sdk::{composite_key, Error, Result};

/// Width of zero-padded timestamps: u64::MAX has 20 digits, so lexicographic
/// order equals numeric order.
const TS_WIDTH: usize = 20;

/// Key of a shipment record.
pub fn shipment(id: &str) -> Result<Vec<u8>> {
    check_id(id)?;
    composite_key("shipment", &[id])
}

/// Key of the reading of shipment `id` at `ts`.
pub fn reading(id: &str, ts: u64) -> Result<Vec<u8>> {
    check_id(id)?;
    Ok(format!("reading/{id}/{ts:0width$}", width = TS_WIDTH).into_bytes())
}

/// Key of the open anomaly of shipment `id` at `ts`.
pub fn anomaly(id: &str, ts: u64) -> Result<Vec<u8>> {
    check_id(id)?;
    composite_key("anomaly", &[id, &format!("{ts:0width$}", width = TS_WIDTH)])
}

/// Shipment ids are short printable ASCII without `/` (which separates
/// reading key parts).
fn check_id(id: &str) -> Result<()> {
    let ok =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            reason: format!("bad shipment id {id:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_keys_sort_by_time() {
        let a = reading("S1", 9).unwrap();
        let b = reading("S1", 10).unwrap();
        assert!(a < b);
        assert_eq!(a, b"reading/S1/00000000000000000009".to_vec());
        assert!(reading("a/b", 1).is_err());
        assert!(shipment("").is_err());
    }
}
