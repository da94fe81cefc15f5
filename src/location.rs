//! location (edge).
