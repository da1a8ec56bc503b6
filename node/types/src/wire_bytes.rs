//! Byte fields encoded as one block instead of element by element.
//!
//! serde sees `Vec<u8>` as a sequence of `u8`, so bincode writes and reads
//! it one byte at a time through the visitor machinery. With the canonical
//! configuration a sequence of `u8` and a byte string have the same wire
//! form (a varint length, then the bytes), so routing these fields through
//! `serialize_bytes` / `deserialize_byte_buf` changes no encoded byte, only
//! the cost: a 1 MiB batch is copied instead of visited a million times.
//!
//! Use with `#[serde(with = "cryptanet_types::wire_bytes::bytes")]` on a
//! `Vec<u8>`, `byte_vecs` on a `Vec<Vec<u8>>` and `opt_bytes` on an
//! `Option<Vec<u8>>`.

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One byte string; accepts every form a deserializer may hand over.
struct ByteBufVisitor;

impl<'de> Visitor<'de> for ByteBufVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_borrowed_bytes<E: serde::de::Error>(self, v: &'de [u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

/// A `Vec<u8>` that (de)serializes as a byte string.
struct Bytes(Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        d.deserialize_byte_buf(ByteBufVisitor).map(Bytes)
    }
}

/// `Vec<u8>` as a byte string.
pub mod bytes {
    use super::*;

    /// Serializes `v` with `serialize_bytes`.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    /// Deserializes a byte string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(ByteBufVisitor)
    }
}

/// `Vec<Vec<u8>>` as a sequence of byte strings.
pub mod byte_vecs {
    use super::*;

    pub(super) struct Ref<'a>(pub(super) &'a [u8]);

    impl Serialize for Ref<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    /// Serializes every element with `serialize_bytes`.
    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for e in v {
            seq.serialize_element(&Ref(e))?;
        }
        seq.end()
    }

    struct VecsVisitor;

    impl<'de> Visitor<'de> for VecsVisitor {
        type Value = Vec<Vec<u8>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence of byte strings")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Vec<u8>>, A::Error> {
            // The hint comes from the input: cap the pre-allocation.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(Bytes(b)) = seq.next_element::<Bytes>()? {
                out.push(b);
            }
            Ok(out)
        }
    }

    /// Deserializes a sequence of byte strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        d.deserialize_seq(VecsVisitor)
            .map_err(|e: D::Error| D::Error::custom(format_args!("byte strings: {e}")))
    }
}

/// `Option<Vec<u8>>` with the byte string inside as a byte string.
pub mod opt_bytes {
    use super::*;

    /// Serializes `Some` contents with `serialize_bytes`.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&byte_vecs::Ref(b)),
            None => s.serialize_none(),
        }
    }

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Vec<u8>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an optional byte string")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<Vec<u8>>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Bytes::deserialize(d).map(|b| Some(b.0))
        }
    }

    /// Deserializes an optional byte string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        d.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::codec;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Plain {
        a: Vec<u8>,
        b: Vec<Vec<u8>>,
        c: Option<Vec<u8>>,
        d: Option<Vec<u8>>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Fast {
        #[serde(with = "super::bytes")]
        a: Vec<u8>,
        #[serde(with = "super::byte_vecs")]
        b: Vec<Vec<u8>>,
        #[serde(with = "super::opt_bytes")]
        c: Option<Vec<u8>>,
        #[serde(with = "super::opt_bytes")]
        d: Option<Vec<u8>>,
    }

    #[test]
    fn same_bytes_as_the_element_wise_encoding() {
        let lens = [0usize, 1, 250, 251, 300, 70_000];
        for &la in &lens {
            let a: Vec<u8> = (0..la).map(|i| (i * 7) as u8).collect();
            let b: Vec<Vec<u8>> = lens[..3]
                .iter()
                .map(|&l| (0..l + la % 5).map(|i| i as u8).collect())
                .collect();
            let c = Some(a.iter().rev().copied().collect::<Vec<u8>>());
            let plain = codec::encode(&Plain {
                a: a.clone(),
                b: b.clone(),
                c: c.clone(),
                d: None,
            })
            .unwrap();
            let fast = codec::encode(&Fast {
                a: a.clone(),
                b: b.clone(),
                c: c.clone(),
                d: None,
            })
            .unwrap();
            assert_eq!(plain, fast, "length {la}");
            assert_eq!(
                codec::decode::<Fast>(&plain).unwrap(),
                Fast { a, b, c, d: None }
            );
        }
    }

    #[test]
    fn truncated_and_hostile_inputs_are_errors() {
        let good = codec::encode(&Fast {
            a: vec![1; 40],
            b: vec![vec![2; 30]; 3],
            c: Some(vec![3; 20]),
            d: None,
        })
        .unwrap();
        for cut in 0..good.len() {
            assert!(codec::decode::<Fast>(&good[..cut]).is_err(), "cut {cut}");
        }
        // A byte string claiming u64::MAX bytes.
        let hostile = [0xFFu8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(codec::decode::<Fast>(&hostile).is_err());
    }
}
