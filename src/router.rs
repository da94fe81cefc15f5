//! router (edge).
