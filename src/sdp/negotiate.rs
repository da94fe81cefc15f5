//! SDP offer/answer negotiation.
