//! Per-leg RTP session.
