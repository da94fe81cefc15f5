//! The media engine (sans-IO): RTP packets and sessions, codecs, jitter buffer, RFC 4733 DTMF,
//! prompt playback, music on hold, packetization (ptime) and conference mixing. The edge owns
//! the sockets and the clock and drives these types.

pub mod codec;
pub mod dtmf;
pub mod hold;
pub mod indications;
pub mod jitter;
pub mod media_uri;
pub mod mixer;
pub mod player;
pub mod playlist;
pub mod playout;
pub mod ports;
pub mod prompts;
pub mod ptime;
pub mod recorder;
pub mod recordings;
pub mod reframe;
pub mod resample;
pub mod rtp;
pub mod say;
pub mod session;
pub mod tone;
pub mod wav;
