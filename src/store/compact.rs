//! [`CompactText`]: text held lz4-compressed.
//!
//! A large project's compiled SQL is tens of megabytes of very repetitive
//! text (`TO_TIMESTAMP_NTZ(...) AS "..."` sixty times a model). The compile
//! holds every model's SQL until the last model is done; compressed, it
//! takes a fifth of the memory, for about a millisecond per megabyte.

use serde::{Deserialize, Serialize};

/// A string stored lz4-compressed (block format, pure Rust `lz4_flex`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactText {
    /// The length of the text in bytes.
    len: u32,
    /// lz4 block of the text.
    #[serde(with = "serde_bytes")]
    bytes: Box<[u8]>,
}

impl CompactText {
    /// Compresses `text`.
    pub fn new(text: &str) -> CompactText {
        CompactText {
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
            bytes: lz4_flex::block::compress(text.as_bytes()).into_boxed_slice(),
        }
    }

    /// The text. `None` when the bytes do not decode to UTF-8 text of the
    /// recorded length, which only bytes read back from a damaged file can
    /// do.
    pub fn text(&self) -> Option<String> {
        lz4_flex::block::decompress(&self.bytes, self.len as usize)
            .ok()
            .filter(|b| b.len() == self.len as usize)
            .and_then(|b| String::from_utf8(b).ok())
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for the empty text.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for CompactText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text().unwrap_or_default(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in ["", "select 1", &"x AS \"y\",\n".repeat(500), "ünïcödé ✓"] {
            let c = CompactText::new(text);
            assert_eq!(c.text().as_deref(), Some(text));
            assert_eq!(c.len(), text.len());
        }
        let long = "TO_TIMESTAMP_NTZ(a) AS \"a\",\n".repeat(60);
        assert!(CompactText::new(&long).bytes.len() * 4 < long.len());
    }

    #[test]
    fn damaged_bytes_are_not_valid() {
        let mut c = CompactText::new("select 1 from somewhere");
        c.len += 3;
        assert_eq!(c.text(), None);
    }
}
