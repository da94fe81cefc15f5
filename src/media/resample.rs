//! Sample-rate conversion to the engine's 8 kHz (sans-IO), for sounds made elsewhere at
//! other rates (text-to-speech engines write 16 or 22.05 kHz). Band-limited interpolation
//! (Smith, "Digital Audio Resampling", CCRMA): each output sample is the input convolved
//! with a windowed sinc centred on its position, the sinc's cut-off lowered to the output's
//! Nyquist frequency when going down, so what the slower rate cannot carry is filtered out
//! rather than aliased into the speech band.

use std::f64::consts::PI;

/// Input samples each side of an output sample the filter spans (at the input rate).
const HALF_TAPS: i64 = 16;

/// The cut-off as a fraction of the lower Nyquist frequency, leaving room for the
/// filter's transition band.
const ROLLOFF: f64 = 0.9;

/// `input` at `from` Hz, converted to `to` Hz.
pub fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || input.is_empty() || from == 0 || to == 0 {
        return input.to_vec();
    }
    let step = f64::from(from) / f64::from(to);
    let cutoff = ROLLOFF * (f64::from(to) / f64::from(from)).min(1.0);
    let half = (HALF_TAPS as f64 * step.max(1.0)).ceil() as i64;
    let out_len = (input.len() as f64 / step).floor() as usize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let centre = n as f64 * step;
        let first = centre.floor() as i64 - half + 1;
        let mut acc = 0.0;
        for k in first..=centre.floor() as i64 + half {
            let Some(&x) = usize::try_from(k).ok().and_then(|k| input.get(k)) else {
                continue;
            };
            let offset = centre - k as f64;
            acc += f64::from(x) * kernel(offset, cutoff, half as f64);
        }
        out.push(acc.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16);
    }
    out
}

/// The low-pass kernel at `offset` input samples: `cutoff`·sinc(`cutoff`·x), Hann-windowed
/// over ±`half`.
fn kernel(offset: f64, cutoff: f64, half: f64) -> f64 {
    if offset.abs() >= half {
        return 0.0;
    }
    let x = PI * cutoff * offset;
    let sinc = if x.abs() < 1e-9 { 1.0 } else { x.sin() / x };
    let window = 0.5 * (1.0 + (PI * offset / half).cos());
    cutoff * sinc * window
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<i16> {
        (0..(f64::from(rate) * seconds) as usize)
            .map(|n| (amplitude * (2.0 * PI * freq * n as f64 / f64::from(rate)).sin()) as i16)
            .collect()
    }

    fn rms(samples: &[i16]) -> f64 {
        let body = &samples[samples.len() / 10..samples.len() * 9 / 10];
        (body.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / body.len() as f64).sqrt()
    }

    /// Goertzel power of `freq` in `samples` at `rate`, normalised by length.
    fn power(samples: &[i16], freq: f64, rate: f64) -> f64 {
        let coeff = 2.0 * (2.0 * PI * freq / rate).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in samples {
            let s = f64::from(x) + coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len() as f64).powi(2)
    }

    #[test]
    fn speech_band_tones_keep_their_level_and_frequency() {
        let input = sine(1000.0, 22_050, 1.0, 10_000.0);
        let out = resample(&input, 22_050, 8_000);
        assert_eq!(out.len(), 8_000);
        let level = rms(&out) / rms(&input);
        assert!((0.95..1.05).contains(&level), "level ratio {level}");
        assert!(power(&out, 1000.0, 8000.0) > 100.0 * power(&out, 1500.0, 8000.0));
    }

    #[test]
    fn what_8_khz_cannot_carry_is_filtered_not_aliased() {
        // 6 kHz would alias to 2 kHz at 8 kHz.
        let out = resample(&sine(6000.0, 22_050, 1.0, 10_000.0), 22_050, 8_000);
        assert!(rms(&out) < 300.0, "rms {}", rms(&out));
    }

    #[test]
    fn the_same_rate_is_a_copy_and_upsampling_works() {
        let input = sine(440.0, 8_000, 0.1, 5_000.0);
        assert_eq!(resample(&input, 8_000, 8_000), input);
        let up = resample(&sine(440.0, 4_000, 0.5, 5_000.0), 4_000, 8_000);
        assert_eq!(up.len(), 4_000);
        assert!((rms(&up) / 3535.0 - 1.0).abs() < 0.05, "rms {}", rms(&up));
    }
}
