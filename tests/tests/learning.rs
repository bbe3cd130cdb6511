//! Learning works end to end (placeholder until written).
