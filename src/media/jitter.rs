//! Adaptive jitter buffer.
