//! Admin HTTP API (edge).
