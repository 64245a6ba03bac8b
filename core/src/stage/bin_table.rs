//! Placeholder until the stage lands.

/// Placeholder.
pub struct BinTable;
