//! tinytrain on the desktop (placeholder until written).
