//! Packetization time: how much audio one RTP packet of a stream carries, as a typed value.
//!
//! RFC 4566 §6: `a=ptime:<packet time>` "gives the length of time in milliseconds represented
//! by the media in a packet"; RFC 3551 §4.5.14 makes 20 ms the default for G.711. Every media
//! path that builds packets (prompt playback, music on hold, transcoding) sends frames of the
//! peer's negotiated ptime, so a phone that asked for 10 or 30 ms gets 80 or 240 samples a
//! packet. The codecs all run at 8 kHz ([`SAMPLE_RATE`]); a wideband codec will need the clock
//! rate here too.

use std::time::Duration;

use thiserror::Error;

use super::wav::SAMPLE_RATE;

/// The shortest packetization accepted, in milliseconds.
pub const MIN_PTIME_MS: u32 = 10;
/// The longest packetization accepted, in milliseconds (960 samples: a jitter-buffer slot).
pub const MAX_PTIME_MS: u32 = 120;
/// Samples in the longest frame: [`MAX_PTIME_MS`] at [`SAMPLE_RATE`].
pub const MAX_FRAME_SAMPLES: usize = (MAX_PTIME_MS * SAMPLE_RATE / 1000) as usize;

/// A packetization time outside what the media engine sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("ptime of {0} ms is outside {MIN_PTIME_MS}..={MAX_PTIME_MS}")]
pub struct PtimeError(pub u32);

/// A stream's packetization time: whole milliseconds in
/// [`MIN_PTIME_MS`]..=[`MAX_PTIME_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ptime(u32);

impl Ptime {
    /// 20 ms, RFC 3551's default for G.711 and what the PBX offers.
    pub const DEFAULT: Ptime = Ptime(20);

    /// The packetization of `ms` milliseconds, if the media engine supports it.
    pub fn from_ms(ms: u32) -> Result<Ptime, PtimeError> {
        if (MIN_PTIME_MS..=MAX_PTIME_MS).contains(&ms) {
            Ok(Ptime(ms))
        } else {
            Err(PtimeError(ms))
        }
    }

    /// The packetization in milliseconds.
    pub fn ms(self) -> u32 {
        self.0
    }

    /// Samples in one frame at [`SAMPLE_RATE`] (160 for 20 ms); at most [`MAX_FRAME_SAMPLES`].
    pub fn samples(self) -> usize {
        (self.0 * SAMPLE_RATE / 1000) as usize
    }

    /// The time one frame covers.
    pub fn duration(self) -> Duration {
        Duration::from_millis(u64::from(self.0))
    }
}

impl Default for Ptime {
    fn default() -> Self {
        Ptime::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ptimes_map_to_g711_frame_sizes() {
        let sizes: Vec<usize> = [10, 20, 30, 60]
            .map(|ms| Ptime::from_ms(ms).unwrap().samples())
            .to_vec();
        assert_eq!(sizes, [80, 160, 240, 480]);
        assert_eq!(
            Ptime::from_ms(30).unwrap().duration(),
            Duration::from_millis(30)
        );
        assert_eq!(Ptime::default().samples(), 160);
        assert_eq!(
            Ptime::from_ms(MAX_PTIME_MS).unwrap().samples(),
            MAX_FRAME_SAMPLES
        );
    }

    #[test]
    fn ptimes_outside_the_range_are_refused() {
        assert_eq!(Ptime::from_ms(9), Err(PtimeError(9)));
        assert_eq!(Ptime::from_ms(121), Err(PtimeError(121)));
        assert_eq!(Ptime::from_ms(0), Err(PtimeError(0)));
    }
}
