//! The start of a cell, quoted in an error message: however long the cell, the message is short.

use std::fmt;

/// The most characters of a cell an error message quotes.
pub const EXCERPT: usize = 24;

/// The start of a cell for a message: at most [`EXCERPT`] characters, followed by `…` when the
/// cell is longer. Its `Display` quotes it as Rust would (`"1,2"`, `"\0\0"`).
///
/// ```
/// use tinytrain_host_sim::excerpt::Excerpt;
/// assert_eq!(Excerpt::new(b"four").to_string(), "\"four\"");
/// let long = Excerpt::new(&[b'7'; 5000]).to_string();
/// assert_eq!(long, format!("\"{}\"…", "7".repeat(24)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// The first characters (invalid UTF-8 replaced by `�`).
    pub text: String,
    /// The cell is longer than `text`.
    pub cut: bool,
}

impl Excerpt {
    /// The excerpt of `cell`.
    pub fn new(cell: &[u8]) -> Self {
        // EXCERPT characters take at most 4 bytes each.
        let window = cell.get(..4 * EXCERPT).unwrap_or(cell);
        let text = String::from_utf8_lossy(window);
        let mut chars = text.chars();
        let start: String = chars.by_ref().take(EXCERPT).collect();
        Self {
            text: start,
            cut: chars.next().is_some() || window.len() < cell.len(),
        }
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)?;
        if self.cut {
            write!(f, "…")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_cells_and_invalid_text() {
        assert_eq!(Excerpt::new(b"").to_string(), "\"\"");
        let exact = "a".repeat(EXCERPT);
        assert_eq!(
            Excerpt::new(exact.as_bytes()).to_string(),
            format!("{exact:?}")
        );
        let e = Excerpt::new(&[0xff; 200]);
        assert!(e.cut && e.text.chars().count() == EXCERPT, "{e}");
        assert_eq!(
            Excerpt::new("é".repeat(30).as_bytes()).text,
            "é".repeat(EXCERPT)
        );
    }
}
