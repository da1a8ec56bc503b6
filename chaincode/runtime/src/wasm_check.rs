//! Static checks on module bytes before compilation.
//!
//! A start function would run at instantiation, before the entry point and
//! outside what the chaincode ABI promises, so modules with one are refused.
//! wasmtime validates everything else; this walker only needs the section
//! framing (id byte, LEB128 size), and any framing error is reported as an
//! invalid module rather than a panic.

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"\0asm";
const START_SECTION: u8 = 8;

/// Fails with [`Error::StartFunction`] when `wasm` has a start section, and
/// with [`Error::InvalidModule`] when its framing is broken.
pub fn reject_start_section(wasm: &[u8]) -> Result<()> {
    let bad = |reason: &str| Error::InvalidModule {
        reason: reason.to_owned(),
    };
    if wasm.len() < 8 || &wasm[..4] != MAGIC {
        return Err(bad("missing wasm magic"));
    }
    if wasm[4..8] != [1, 0, 0, 0] {
        return Err(bad("not a core wasm module (version 1)"));
    }
    let mut rest = &wasm[8..];
    while let Some((&id, after)) = rest.split_first() {
        let (size, after) = leb128_u32(after).ok_or_else(|| bad("bad section size"))?;
        if id == START_SECTION {
            return Err(Error::StartFunction);
        }
        let size = size as usize;
        if size > after.len() {
            return Err(bad("section runs past the end"));
        }
        rest = &after[size..];
    }
    Ok(())
}

fn leb128_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut value: u32 = 0;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        value |= u32::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [u8; 8] = [0, b'a', b's', b'm', 1, 0, 0, 0];

    #[test]
    fn detects_start_and_framing_errors() {
        assert!(reject_start_section(&HEADER).is_ok());
        // A custom section (id 0) of 3 bytes, then a start section.
        let mut m = HEADER.to_vec();
        m.extend_from_slice(&[0, 3, 1, b'x', 9]);
        assert!(reject_start_section(&m).is_ok());
        m.extend_from_slice(&[START_SECTION, 1, 0]);
        assert!(matches!(
            reject_start_section(&m),
            Err(Error::StartFunction)
        ));
        assert!(matches!(
            reject_start_section(b"junk"),
            Err(Error::InvalidModule { .. })
        ));
        let mut truncated = HEADER.to_vec();
        truncated.extend_from_slice(&[1, 0x80]);
        assert!(matches!(
            reject_start_section(&truncated),
            Err(Error::InvalidModule { .. })
        ));
        let mut overlong = HEADER.to_vec();
        overlong.extend_from_slice(&[1, 10, 0]);
        assert!(reject_start_section(&overlong).is_err());
    }
}
