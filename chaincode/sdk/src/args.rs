//! Typed arguments: how a raw argument becomes a Rust value.
//!
//! Arguments travel as bytes. Numbers and text are UTF-8 decimal/text (as a
//! Fabric client would send them); JSON arguments go through
//! [`crate::Context::json_arg`].

use alloc::string::String;
use alloc::vec::Vec;

/// A type an argument can be parsed into.
pub trait FromArg: Sized {
    /// Name used in error messages, e.g. `"u64"`.
    const EXPECTED: &'static str;
    /// Parses the raw argument, `None` when it is not a valid value.
    fn from_arg(raw: &[u8]) -> Option<Self>;
}

impl FromArg for Vec<u8> {
    const EXPECTED: &'static str = "byte string";
    fn from_arg(raw: &[u8]) -> Option<Self> {
        Some(raw.to_vec())
    }
}

impl FromArg for String {
    const EXPECTED: &'static str = "UTF-8 string";
    fn from_arg(raw: &[u8]) -> Option<Self> {
        String::from_utf8(raw.to_vec()).ok()
    }
}

impl FromArg for bool {
    const EXPECTED: &'static str = "bool";
    fn from_arg(raw: &[u8]) -> Option<Self> {
        match raw {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl FromArg for $t {
            const EXPECTED: &'static str = stringify!($t);
            fn from_arg(raw: &[u8]) -> Option<Self> {
                core::str::from_utf8(raw).ok()?.parse().ok()
            }
        }
    )*};
}
int_arg!(u8, u16, u32, u64, i32, i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(u64::from_arg(b"42"), Some(42));
        assert_eq!(i32::from_arg(b"-7500"), Some(-7500));
        assert_eq!(u32::from_arg(b"-1"), None);
        assert_eq!(u8::from_arg(b"256"), None);
        assert_eq!(bool::from_arg(b"true"), Some(true));
        assert_eq!(bool::from_arg(b"yes"), None);
        assert_eq!(String::from_arg(&[0xFF]), None);
        assert_eq!(String::from_arg(b"Org1MSP").as_deref(), Some("Org1MSP"));
    }
}
