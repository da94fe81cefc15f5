//! Configuration (pbx.toml).
