//! SIP transports (edge).
