//! RTP header view and builder (RFC 3550 §5.1).
