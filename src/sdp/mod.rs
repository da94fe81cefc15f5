//! SDP (RFC 4566) offer/answer (RFC 3264) for audio legs, sans-IO.

pub mod negotiate;
