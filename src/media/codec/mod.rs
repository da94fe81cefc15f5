//! Audio codecs behind one interface over PCM16 frames, so that callers (transcoding bridge,
//! playback, echo) never name a concrete codec and Opus can plug in later.
//!
//! Sits between the RTP session (payload bytes) and everything that works on samples. The
//! payload formats are RFC 3551 §4.5.14 PCMU and PCMA ("G.711 ... is specified in ITU-T
//! Recommendation G.711"), 8000 samples/s, one byte per sample. Dispatch is a closed enum
//! ([`AnyCodec`]), not `dyn`, and every call writes into a caller-provided buffer, so the
//! per-frame path neither allocates nor makes indirect calls. [`Transcoder`] converts a payload
//! between two codecs directly when the laws allow it (G.711 Tables 3 and 4), so a
//! mu-law leg bridged to an A-law leg never goes through PCM.

pub mod g711;

use serde::{Deserialize, Serialize};
use thiserror::Error;

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

/// Why a codec could not encode, decode or transcode a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CodecError {
    /// The caller's output buffer is shorter than the result; nothing was written.
    #[error("output buffer too small: {needed} units needed, {available} available")]
    OutputTooSmall {
        /// Samples or bytes the result needs.
        needed: usize,
        /// Samples or bytes the buffer holds.
        available: usize,
    },
}

/// Fails unless `available >= needed`, before anything is written.
fn check_room(needed: usize, available: usize) -> Result<(), CodecError> {
    if available < needed {
        return Err(CodecError::OutputTooSmall { needed, available });
    }
    Ok(())
}

/// A codec over 16-bit PCM at the codec's clock rate: one instance per direction of a leg,
/// since stateful codecs (Opus) keep history between frames.
pub trait Codec {
    /// The codec this instance implements.
    fn kind(&self) -> CodecKind;

    /// Encodes `pcm` into `out`, returning the number of payload bytes written.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError>;

    /// Decodes `payload` into `out`, returning the number of samples written.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError>;
}

/// Every codec the PBX implements, dispatched by `match` (no allocation, no vtable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyCodec {
    /// G.711 mu-law: stateless, one byte per sample.
    Pcmu,
    /// G.711 A-law: stateless, one byte per sample.
    Pcma,
}

/// A fresh codec instance for `kind`.
pub fn codec_for(kind: CodecKind) -> AnyCodec {
    match kind {
        CodecKind::Pcmu => AnyCodec::Pcmu,
        CodecKind::Pcma => AnyCodec::Pcma,
    }
}

impl Codec for AnyCodec {
    fn kind(&self) -> CodecKind {
        match self {
            AnyCodec::Pcmu => CodecKind::Pcmu,
            AnyCodec::Pcma => CodecKind::Pcma,
        }
    }

    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        check_room(pcm.len(), out.len())?;
        Ok(match self {
            AnyCodec::Pcmu => g711::encode_ulaw(pcm, out),
            AnyCodec::Pcma => g711::encode_alaw(pcm, out),
        })
    }

    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        check_room(payload.len(), out.len())?;
        Ok(match self {
            AnyCodec::Pcmu => g711::decode_ulaw(payload, out),
            AnyCodec::Pcma => g711::decode_alaw(payload, out),
        })
    }
}

/// Converts payloads from one codec to another for a bridged call whose legs negotiated
/// different codecs. Between the G.711 laws it maps code words directly (Tables 3 and 4/G.711);
/// with equal codecs it copies, although a relay should then forward the packet untouched
/// (see [`Transcoder::is_identity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transcoder {
    from: CodecKind,
    to: CodecKind,
}

impl Transcoder {
    /// A transcoder from payloads of `from` to payloads of `to`.
    pub fn new(from: CodecKind, to: CodecKind) -> Transcoder {
        Transcoder { from, to }
    }

    /// The codec of the input payloads.
    pub fn from_kind(&self) -> CodecKind {
        self.from
    }

    /// The codec of the output payloads.
    pub fn to_kind(&self) -> CodecKind {
        self.to
    }

    /// True when both sides use the same codec, so payloads can be relayed as they are.
    pub fn is_identity(&self) -> bool {
        self.from == self.to
    }

    /// Converts `payload` into `out`, returning the number of bytes written.
    pub fn transcode(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, CodecError> {
        check_room(payload.len(), out.len())?;
        Ok(match (self.from, self.to) {
            (CodecKind::Pcmu, CodecKind::Pcma) => g711::transcode_ulaw_to_alaw(payload, out),
            (CodecKind::Pcma, CodecKind::Pcmu) => g711::transcode_alaw_to_ulaw(payload, out),
            (CodecKind::Pcmu, CodecKind::Pcmu) | (CodecKind::Pcma, CodecKind::Pcma) => {
                out[..payload.len()].copy_from_slice(payload);
                payload.len()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One 20 ms frame of a 1 kHz tone at about -6 dBFS.
    fn tone_frame() -> [i16; 160] {
        std::array::from_fn(|i| {
            let phase = i as f64 * 2.0 * std::f64::consts::PI * 1000.0 / 8000.0;
            (phase.sin() * 16000.0) as i16
        })
    }

    #[test]
    fn codec_for_reports_its_kind() {
        for kind in [CodecKind::Pcmu, CodecKind::Pcma] {
            assert_eq!(codec_for(kind).kind(), kind);
        }
    }

    #[test]
    fn g711_frame_round_trip_stays_within_quantisation_error() {
        let pcm = tone_frame();
        for kind in [CodecKind::Pcmu, CodecKind::Pcma] {
            let mut codec = codec_for(kind);
            let mut payload = [0u8; 160];
            assert_eq!(codec.encode(&pcm, &mut payload), Ok(160));
            let mut decoded = [0i16; 160];
            assert_eq!(codec.decode(&payload, &mut decoded), Ok(160));
            for (a, b) in pcm.iter().zip(&decoded) {
                assert!(
                    (i32::from(*a) - i32::from(*b)).abs() <= 512,
                    "{kind:?}: {a} -> {b}"
                );
            }
        }
    }

    #[test]
    fn encode_and_decode_refuse_short_buffers_without_writing() {
        let mut codec = codec_for(CodecKind::Pcma);
        let mut payload = [0xEEu8; 100];
        let err = CodecError::OutputTooSmall {
            needed: 160,
            available: 100,
        };
        assert_eq!(codec.encode(&tone_frame(), &mut payload), Err(err));
        assert!(payload.iter().all(|&b| b == 0xEE));
        let mut pcm = [7i16; 10];
        let err = CodecError::OutputTooSmall {
            needed: 20,
            available: 10,
        };
        assert_eq!(codec.decode(&[0xD5; 20], &mut pcm), Err(err));
        assert_eq!(pcm, [7; 10]);
    }

    #[test]
    fn transcoder_uses_the_g711_conversion_tables() {
        let mut payload = [0u8; 160];
        codec_for(CodecKind::Pcmu)
            .encode(&tone_frame(), &mut payload)
            .unwrap();
        let mut to_alaw = Transcoder::new(CodecKind::Pcmu, CodecKind::Pcma);
        assert!(!to_alaw.is_identity());
        let mut alaw = [0u8; 200];
        assert_eq!(to_alaw.transcode(&payload, &mut alaw), Ok(160));
        assert_eq!(alaw[..160], payload.map(g711::ulaw_to_alaw));
        let mut back = [0u8; 160];
        let mut to_ulaw = Transcoder::new(CodecKind::Pcma, CodecKind::Pcmu);
        assert_eq!(to_ulaw.transcode(&alaw[..160], &mut back), Ok(160));
        let expected: Vec<u8> = alaw[..160].iter().map(|&c| g711::alaw_to_ulaw(c)).collect();
        assert_eq!(back[..], expected[..]);
    }

    #[test]
    fn identity_transcoder_copies_and_checks_room() {
        let mut same = Transcoder::new(CodecKind::Pcma, CodecKind::Pcma);
        assert!(same.is_identity());
        assert_eq!(
            (same.from_kind(), same.to_kind()),
            (CodecKind::Pcma, CodecKind::Pcma)
        );
        let mut out = [0u8; 4];
        assert_eq!(same.transcode(&[1, 2, 3], &mut out), Ok(3));
        assert_eq!(out, [1, 2, 3, 0]);
        let err = CodecError::OutputTooSmall {
            needed: 5,
            available: 4,
        };
        assert_eq!(same.transcode(&[9; 5], &mut out), Err(err));
    }
}
