//! Generated sounds at 8 kHz (sans-IO): silence of a given length and tone patterns (one
//! or two frequencies on for a while, then silence, repeated), for the event socket's
//! `silence_stream://` and `tone_stream://`.

use std::f64::consts::PI;
use std::time::Duration;

use super::wav::SAMPLE_RATE;

/// Peak level of a generated tone: about -10 dBFS per frequency pair, as call progress
/// tones are sent.
const TONE_PEAK: f64 = 10_000.0;

/// `duration` of silence.
pub fn silence(duration: Duration) -> Vec<i16> {
    vec![0; samples(duration)]
}

/// `frequencies` (summed) for `on`, then `off` of silence, `loops` times.
pub fn tone(frequencies: &[u32], on: Duration, off: Duration, loops: u32) -> Vec<i16> {
    let on_samples = samples(on);
    let off_samples = samples(off);
    let peak = TONE_PEAK / frequencies.len().max(1) as f64;
    let mut out = Vec::with_capacity((on_samples + off_samples) * loops as usize);
    for _ in 0..loops {
        for n in 0..on_samples {
            let t = n as f64 / f64::from(SAMPLE_RATE);
            let value: f64 = frequencies
                .iter()
                .map(|f| peak * (2.0 * PI * f64::from(*f) * t).sin())
                .sum();
            out.push(value.round() as i16);
        }
        out.extend(std::iter::repeat_n(0, off_samples));
    }
    out
}

fn samples(duration: Duration) -> usize {
    (duration.as_secs_f64() * f64::from(SAMPLE_RATE)).round() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_levels() {
        assert_eq!(silence(Duration::from_millis(250)), vec![0; 2000]);
        let t = tone(
            &[440],
            Duration::from_millis(100),
            Duration::from_millis(50),
            2,
        );
        assert_eq!(t.len(), 2400);
        let peak = t[..800].iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((9_900..=10_000).contains(&peak), "peak {peak}");
        assert!(t[800..1200].iter().all(|s| *s == 0));
    }
}
