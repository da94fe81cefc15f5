//! The media engine (sans-IO): RTP packets and sessions, codecs, jitter buffer, RFC 4733 DTMF
//! and prompt playback. The edge owns the sockets and the clock and drives these types.

pub mod codec;
pub mod dtmf;
pub mod jitter;
pub mod player;
pub mod ports;
pub mod prompts;
pub mod rtp;
pub mod session;
pub mod wav;
