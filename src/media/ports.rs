//! RTP port allocation inside the configured range.
