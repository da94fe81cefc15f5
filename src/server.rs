//! server (edge).
