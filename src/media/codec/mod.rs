//! Audio codecs behind one interface over PCM16 frames, so that callers (transcoding bridge,
//! playback, echo) never name a concrete codec and Opus can plug in later.

pub mod g711;

use serde::{Deserialize, Serialize};

/// The codecs the PBX can negotiate. The config's endpoint `codecs` lists and SDP negotiation
/// both speak in these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CodecKind {
    /// ITU-T G.711 mu-law, static RTP payload type 0.
    #[serde(rename = "PCMU", alias = "pcmu", alias = "ulaw")]
    Pcmu,
    /// ITU-T G.711 A-law, static RTP payload type 8.
    #[serde(rename = "PCMA", alias = "pcma", alias = "alaw")]
    Pcma,
}

impl CodecKind {
    /// Encoding name as written in an SDP `a=rtpmap` line.
    pub fn encoding_name(self) -> &'static str {
        match self {
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
        }
    }

    /// RTP clock rate in Hz.
    pub fn clock_rate(self) -> u32 {
        8000
    }

    /// The static RTP payload type (RFC 3551 table 4).
    pub fn static_payload_type(self) -> u8 {
        match self {
            CodecKind::Pcmu => 0,
            CodecKind::Pcma => 8,
        }
    }

    /// Looks a codec up by its SDP encoding name (case-insensitive) and clock rate.
    pub fn from_encoding(name: &str, clock_rate: u32) -> Option<CodecKind> {
        [CodecKind::Pcmu, CodecKind::Pcma]
            .into_iter()
            .find(|c| c.encoding_name().eq_ignore_ascii_case(name) && c.clock_rate() == clock_rate)
    }

    /// Looks a codec up by static payload type, for SDP offers without `a=rtpmap`.
    pub fn from_static_payload_type(pt: u8) -> Option<CodecKind> {
        match pt {
            0 => Some(CodecKind::Pcmu),
            8 => Some(CodecKind::Pcma),
            _ => None,
        }
    }
}
