//! The host functions chaincode imports from module `cryptanet`, one per
//! `cryptanet_sdk::abi::import` name.

use super::{charge, give, guarded, read, write, HostState};
use crate::error::{Error, Result};
use cryptanet_sdk::abi::{self, import};
use cryptanet_types::{ChaincodeEvent, Response};
use wasmtime::{Caller, Engine, Linker};

type Ctx<'a> = Caller<'a, HostState>;

/// Longest event name, bytes.
const MAX_EVENT_NAME: usize = 256;
/// Longest model id, bytes.
const MAX_MODEL_ID: usize = 1024;
/// Longest log line or response message, bytes.
const MAX_MESSAGE: usize = 4096;

/// A linker holding every host function of the ABI.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut l = Linker::new(engine);
    let m = abi::IMPORT_MODULE;
    let link = |e: wasmtime::Error| Error::Link {
        reason: format!("{e:#}"),
    };
    l.func_wrap(m, import::GET_CONTEXT, |mut c: Ctx<'_>| {
        guarded(&mut c, |c| {
            let ctx = c.data().context.clone();
            give(c, ctx)
        })
    })
    .map_err(link)?;
    l.func_wrap(m, import::READ_RETURN, |mut c: Ctx<'_>, p: i32, n: i32| {
        guarded(&mut c, |c| read_return(c, p, n))
    })
    .map_err(link)?;
    l.func_wrap(m, import::GET_STATE, |mut c: Ctx<'_>, kp: i32, kl: i32| {
        guarded(&mut c, |c| {
            let key = key(c, kp, kl)?;
            charge(c, key.len())?;
            match c.data_mut().sim.get(&key)? {
                Some(v) => give(c, v),
                None => Ok(abi::NONE),
            }
        })
    })
    .map_err(link)?;
    l.func_wrap(
        m,
        import::PUT_STATE,
        |mut c: Ctx<'_>, kp: i32, kl: i32, vp: i32, vl: i32| {
            guarded(&mut c, |c| {
                let key = key(c, kp, kl)?;
                let limit = c.data().config.max_value_len;
                let value = read(c, vp, vl, "value", limit)?;
                charge(c, key.len() + value.len())?;
                c.data_mut().sim.put(&key, &value)?;
                Ok(0)
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(m, import::DEL_STATE, |mut c: Ctx<'_>, kp: i32, kl: i32| {
        guarded(&mut c, |c| {
            let key = key(c, kp, kl)?;
            charge(c, key.len())?;
            c.data_mut().sim.del(&key)?;
            Ok(0)
        })
    })
    .map_err(link)?;
    l.func_wrap(
        m,
        import::GET_STATE_BY_RANGE,
        |mut c: Ctx<'_>, sp: i32, sl: i32, ep: i32, el: i32, limit: i32| {
            guarded(&mut c, |c| {
                let max = c.data().config.max_key_len;
                let start = read(c, sp, sl, "key", max)?;
                let end = read(c, ep, el, "key", max)?;
                charge(c, start.len() + end.len())?;
                let limit = range_limit(c, limit);
                let rows = c.data_mut().sim.range(&start, &end, limit)?;
                give(c, encode_rows(rows))
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(
        m,
        import::GET_BY_PARTIAL_COMPOSITE_KEY,
        |mut c: Ctx<'_>, pp: i32, pl: i32, limit: i32| {
            guarded(&mut c, |c| {
                let prefix = key(c, pp, pl)?;
                charge(c, prefix.len())?;
                let limit = range_limit(c, limit);
                let rows = c.data_mut().sim.by_partial_composite_key(&prefix, limit)?;
                give(c, encode_rows(rows))
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(
        m,
        import::GET_HISTORY_FOR_KEY,
        |mut c: Ctx<'_>, kp: i32, kl: i32| {
            guarded(&mut c, |c| {
                let key = key(c, kp, kl)?;
                charge(c, key.len())?;
                let limit = c.data().config.max_range_results;
                let entries = c.data_mut().sim.history(&key, limit)?;
                let mut out = Vec::new();
                abi::start_list(&mut out, entries.len() * abi::HISTORY_FIELDS);
                for e in entries {
                    let mut version = e.version.block.to_le_bytes().to_vec();
                    version.extend_from_slice(&e.version.tx.to_le_bytes());
                    abi::push_item(&mut out, e.tx_id.as_bytes());
                    abi::push_item(&mut out, &version);
                    abi::push_item(&mut out, &[u8::from(e.value.is_some())]);
                    abi::push_item(&mut out, e.value.as_deref().unwrap_or_default());
                }
                give(c, out)
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(
        m,
        import::SET_EVENT,
        |mut c: Ctx<'_>, np: i32, nl: i32, pp: i32, pl: i32| {
            guarded(&mut c, |c| {
                let name = read(c, np, nl, "event name", MAX_EVENT_NAME)?;
                let limit = c.data().config.max_event_len;
                let payload = read(c, pp, pl, "event payload", limit)?;
                charge(c, name.len() + payload.len())?;
                let name = String::from_utf8(name)
                    .ok()
                    .filter(|n| !n.is_empty())
                    .ok_or(Error::InvalidArgument { call: "set_event" })?;
                // One event per transaction: a later call replaces it (Fabric).
                c.data_mut().event = Some(ChaincodeEvent { name, payload });
                Ok(0)
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(
        m,
        import::DETECT,
        |mut c: Ctx<'_>, mp: i32, ml: i32, fp: i32, fl: i32| {
            guarded(&mut c, |c| {
                let model = read(c, mp, ml, "model id", MAX_MODEL_ID)?;
                let limit = c.data().config.max_value_len;
                let features = read(c, fp, fl, "features", limit)?;
                charge(c, model.len() + features.len())?;
                let verdict = c.data().detector.detect(&model, &features)?;
                give(c, verdict)
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(
        m,
        import::LOG,
        |mut c: Ctx<'_>, level: i32, p: i32, n: i32| {
            guarded(&mut c, |c| {
                let msg = read(
                    c,
                    p,
                    n.clamp(0, MAX_MESSAGE as i32),
                    "log line",
                    MAX_MESSAGE,
                )?;
                charge(c, msg.len())?;
                let msg = String::from_utf8_lossy(&msg);
                let ns = c.data().sim.namespace();
                match level {
                    abi::level::ERROR => {
                        tracing::error!(target: "chaincode", chaincode = ns, "{msg}")
                    }
                    abi::level::WARN => {
                        tracing::warn!(target: "chaincode", chaincode = ns, "{msg}")
                    }
                    abi::level::INFO => {
                        tracing::info!(target: "chaincode", chaincode = ns, "{msg}")
                    }
                    _ => tracing::debug!(target: "chaincode", chaincode = ns, "{msg}"),
                }
                Ok(0)
            })
        },
    )
    .map_err(link)?;
    l.func_wrap(
        m,
        import::SET_RESPONSE,
        |mut c: Ctx<'_>, status: i32, mp: i32, ml: i32, pp: i32, pl: i32| {
            guarded(&mut c, |c| set_response(c, status, (mp, ml), (pp, pl)))
        },
    )
    .map_err(link)?;
    Ok(l)
}

fn key(c: &Ctx<'_>, p: i32, n: i32) -> Result<Vec<u8>> {
    let max = c.data().config.max_key_len;
    read(c, p, n, "key", max)
}

fn range_limit(c: &Ctx<'_>, requested: i32) -> usize {
    let max = c.data().config.max_range_results;
    match usize::try_from(requested) {
        Ok(n) if n > 0 => n.min(max),
        _ => max,
    }
}

fn encode_rows(rows: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::new();
    abi::start_list(&mut out, rows.len() * 2);
    for (k, v) in &rows {
        abi::push_item(&mut out, k);
        abi::push_item(&mut out, v);
    }
    out
}

fn read_return(c: &mut Ctx<'_>, ptr: i32, len: i32) -> Result<i64> {
    let Some(bytes) = c.data_mut().ret.take() else {
        return Ok(abi::ERR_NO_RETURN);
    };
    if bytes.len() != len as u32 as usize {
        return Ok(abi::ERR_NO_RETURN);
    }
    write(c, ptr, &bytes)?;
    Ok(0)
}

fn set_response(c: &mut Ctx<'_>, status: i32, msg: (i32, i32), payload: (i32, i32)) -> Result<i64> {
    if c.data().response.is_some() {
        return Ok(abi::ERR_RESPONSE_ALREADY_SET);
    }
    let status = u32::try_from(status).map_err(|_| Error::InvalidArgument {
        call: "set_response",
    })?;
    let message = read(c, msg.0, msg.1, "response message", MAX_MESSAGE)?;
    let limit = c.data().config.max_response_len;
    let payload = read(c, payload.0, payload.1, "response payload", limit)?;
    charge(c, message.len() + payload.len())?;
    c.data_mut().response = Some(Response {
        status,
        message: String::from_utf8_lossy(&message).into_owned(),
        payload,
    });
    Ok(0)
}
