//! Call-progress tones (sans-IO): indication strings as Asterisk users write them
//! (`440+480/2000,0/4000`) and the national tone plans that name them (`ring`, `busy`, ...),
//! rendered to 8 kHz samples for the `tone:` media URI (ARI `tone:ring;tonezone=de`).
//!
//! An indication is a comma-separated list of parts, each `[!][M]F1[+F2|*F2][/MS]`: one
//! frequency or two summed (`+`) or the first amplitude-modulated by the second (`*`), in Hz
//! or as MIDI note numbers (`M`), for `MS` milliseconds (a part without a duration lasts for
//! ever); `0` is silence. Parts marked `!` play once at the start; the list from the first
//! unmarked part on repeats for as long as the tone plays. The frequencies and cadences of
//! the tone plans are those of ITU-T E.180's national supplement.

use std::f64::consts::TAU;

use thiserror::Error;

use super::wav::SAMPLE_RATE;

/// Peak of one generated frequency: about -14 dBFS, so two summed stay below -8 dBFS, the
/// level of call progress tones on a line.
const PEAK_PER_FREQUENCY: f64 = 6_500.0;
/// Depth of the amplitude modulation of `F1*F2` parts.
const MODULATION_DEPTH: f64 = 0.9;
/// How much of a part without a duration is rendered: one second, which holds whole cycles
/// of every integer frequency, so looping it is seamless.
const ENDLESS_PART_MS: u32 = 1_000;
/// The tone plan used when none is named.
pub const DEFAULT_ZONE: &str = "us";

/// Why an indication cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndicationError {
    /// A part is not `[!][M]F1[+F2|*F2][/MS]`.
    #[error("bad tone part {0:?}: expected [!][M]FREQ[+FREQ|*FREQ][/MS]")]
    BadPart(String),
    /// The indication has no parts.
    #[error("empty tone")]
    Empty,
    /// The tone plan is not one pbx knows.
    #[error("unknown tone zone {0:?} (known: us, uk, de, fr)")]
    UnknownZone(String),
}

/// How a part mixes its two frequencies.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mix {
    /// One frequency (or silence when it is 0).
    Single,
    /// `F1+F2`: summed.
    Sum(f64),
    /// `F1*F2`: F1 amplitude-modulated by F2.
    Modulated(f64),
}

/// One part of an indication.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    frequency: f64,
    mix: Mix,
    /// `None`: for ever.
    duration_ms: Option<u32>,
    once: bool,
}

/// A tone rendered at 8 kHz: `once` plays first, then `repeat` loops until the playback is
/// stopped (empty when the tone ends by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTone {
    /// The samples played once.
    pub once: Vec<i16>,
    /// The samples looped after them.
    pub repeat: Vec<i16>,
}

/// The indication string of tone `name` in tone plan `zone` (`us`, `uk`, `de`, `fr`); `None`
/// when the plan has no tone of that name. Unknown plans are an error.
pub fn named(zone: &str, name: &str) -> Result<Option<&'static str>, IndicationError> {
    let plan: &[(&str, &str)] = match zone.to_ascii_lowercase().as_str() {
        "us" => &US,
        "uk" | "gb" => &UK,
        "de" => &DE,
        "fr" => &FR,
        _ => return Err(IndicationError::UnknownZone(zone.to_owned())),
    };
    Ok(plan
        .iter()
        .find(|(tone, _)| tone.eq_ignore_ascii_case(name))
        .map(|(_, indication)| *indication))
}

const INFO: &str = "!950/330,!1400/330,!1800/330,0";

/// North America (ANSI T1.401 / E.180 supplement for the USA).
const US: [(&str, &str); 8] = [
    ("dial", "350+440"),
    ("ring", "440+480/2000,0/4000"),
    ("busy", "480+620/500,0/500"),
    ("congestion", "480+620/250,0/250"),
    ("callwaiting", "440/300,0/10000"),
    ("record", "1400/500,0/15000"),
    ("info", INFO),
    (
        "stutter",
        "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
    ),
];

/// The United Kingdom.
const UK: [(&str, &str); 7] = [
    ("dial", "350+440"),
    ("ring", "400+450/400,0/200,400+450/400,0/2000"),
    ("busy", "400/375,0/375"),
    ("congestion", "400/400,0/350,400/225,0/525"),
    ("callwaiting", "400/100,0/4000"),
    ("record", "1400/500,0/60000"),
    ("info", INFO),
];

/// Germany.
const DE: [(&str, &str); 7] = [
    ("dial", "425"),
    ("ring", "425/1000,0/4000"),
    ("busy", "425/480,0/480"),
    ("congestion", "425/240,0/240"),
    (
        "callwaiting",
        "!425/200,!0/200,!425/200,!0/5000,425/200,0/200,425/200,0/5000",
    ),
    ("record", "1400/80,0/15000"),
    ("info", INFO),
];

/// France.
const FR: [(&str, &str); 7] = [
    ("dial", "440"),
    ("ring", "440/1500,0/3500"),
    ("busy", "440/500,0/500"),
    ("congestion", "440/250,0/250"),
    ("callwaiting", "440/300,0/10000"),
    ("record", "1400/500,0/15000"),
    ("info", INFO),
];

/// Renders `indication` (see the module doc) at 8 kHz.
pub fn render(indication: &str) -> Result<RenderedTone, IndicationError> {
    let parts = indication
        .split([',', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_part)
        .collect::<Result<Vec<_>, _>>()?;
    if parts.is_empty() {
        return Err(IndicationError::Empty);
    }
    let split = parts.iter().position(|p| !p.once).unwrap_or(parts.len());
    let (once, repeat) = parts.split_at(split);
    let mut rendered = RenderedTone {
        once: Vec::new(),
        repeat: Vec::new(),
    };
    let mut clock = 0u64;
    for part in once {
        synthesise(part, &mut clock, &mut rendered.once);
        if part.duration_ms.is_none() {
            rendered.repeat = std::mem::take(&mut rendered.once);
            rendered.once = Vec::new();
            return Ok(rendered);
        }
    }
    for part in repeat {
        synthesise(part, &mut clock, &mut rendered.repeat);
        if part.duration_ms.is_none() {
            break;
        }
    }
    Ok(rendered)
}

/// Appends `part`'s samples to `out`, its phase continuing from sample `clock`.
fn synthesise(part: &Part, clock: &mut u64, out: &mut Vec<i16>) {
    let ms = part.duration_ms.unwrap_or(ENDLESS_PART_MS);
    let count = u64::from(ms) * u64::from(SAMPLE_RATE) / 1_000;
    let rate = f64::from(SAMPLE_RATE);
    out.reserve(count as usize);
    for n in *clock..*clock + count {
        let t = n as f64 / rate;
        let wave = |f: f64| (TAU * f * t).sin();
        let value = match (part.frequency, part.mix) {
            (0.0, _) => 0.0,
            (f, Mix::Single) => wave(f),
            (f, Mix::Sum(g)) => wave(f) + if g == 0.0 { 0.0 } else { wave(g) },
            (f, Mix::Modulated(g)) => {
                wave(f) * (1.0 + MODULATION_DEPTH * wave(g)) / (1.0 + MODULATION_DEPTH)
            }
        };
        out.push((value * PEAK_PER_FREQUENCY).round() as i16);
    }
    *clock += count;
}

/// One `[!][M]F1[+F2|*F2][/MS]` part.
fn parse_part(text: &str) -> Result<Part, IndicationError> {
    let bad = || IndicationError::BadPart(text.to_owned());
    let (once, rest) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (midi, rest) = match rest.strip_prefix(['M', 'm']) {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (tones, duration_ms) = match rest.split_once('/') {
        Some((tones, ms)) => (tones, Some(ms.trim().parse::<u32>().map_err(|_| bad())?)),
        None => (rest, None),
    };
    let frequency = |f: &str| -> Result<f64, IndicationError> {
        let value = f.trim().parse::<u32>().map_err(|_| bad())?;
        Ok(match midi && value != 0 {
            true if value > 127 => return Err(bad()),
            true => 440.0 * 2f64.powf((f64::from(value) - 69.0) / 12.0),
            false if value >= SAMPLE_RATE / 2 => return Err(bad()),
            false => f64::from(value),
        })
    };
    let (frequency, mix) = if let Some((f, g)) = tones.split_once('+') {
        (frequency(f)?, Mix::Sum(frequency(g)?))
    } else if let Some((f, g)) = tones.split_once('*') {
        (frequency(f)?, Mix::Modulated(frequency(g)?))
    } else {
        (frequency(tones)?, Mix::Single)
    };
    Ok(Part {
        frequency,
        mix,
        duration_ms,
        once,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goertzel power of `freq` in `samples`, relative to the samples' energy.
    fn share(samples: &[i16], freq: f64) -> f64 {
        let k = TAU * freq / f64::from(SAMPLE_RATE);
        let (mut s1, mut s2) = (0.0, 0.0);
        for s in samples {
            let s0 = f64::from(*s) + 2.0 * k.cos() * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - 2.0 * k.cos() * s1 * s2;
        let energy: f64 = samples.iter().map(|s| f64::from(*s).powi(2)).sum();
        2.0 * power / (energy * samples.len() as f64)
    }

    #[test]
    fn us_ring_is_two_seconds_of_440_and_480_then_four_of_silence_repeated() {
        let ring = render(named("us", "ring").unwrap().unwrap()).unwrap();
        assert!(ring.once.is_empty());
        assert_eq!(ring.repeat.len(), 6 * 8_000);
        let (on, off) = ring.repeat.split_at(16_000);
        assert!(off.iter().all(|s| *s == 0));
        assert!(share(on, 440.0) > 0.4, "{}", share(on, 440.0));
        assert!(share(on, 480.0) > 0.4, "{}", share(on, 480.0));
        assert!(share(on, 1_000.0) < 0.01);
        let peak = on.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((12_000..=13_000).contains(&peak), "peak {peak}");
    }

    #[test]
    fn parts_marked_once_play_once_before_the_repeating_rest() {
        let info = render(INFO).unwrap();
        assert_eq!(info.once.len(), 3 * 330 * 8);
        assert!(share(&info.once[..2_640], 950.0) > 0.8);
        assert!(share(&info.once[2_640..5_280], 1_400.0) > 0.8);
        assert!(share(&info.once[5_280..], 1_800.0) > 0.8);
        assert_eq!(info.repeat, vec![0; 8_000], "then silence for ever");
        let stutter = render(named("us", "stutter").unwrap().unwrap()).unwrap();
        assert_eq!(stutter.once.len(), 6 * 100 * 8);
        assert_eq!(stutter.repeat.len(), 8_000, "a steady dial tone loops");
    }

    #[test]
    fn an_endless_part_loops_seamlessly_and_ends_the_list() {
        let dial = render("350+440,0/100").unwrap();
        assert_eq!(dial.repeat.len(), 8_000);
        let second = dial.repeat[1];
        let after_wrap = {
            let mut clock = 8_001;
            let mut out = Vec::new();
            synthesise(&parse_part("350+440/1").unwrap(), &mut clock, &mut out);
            out[0]
        };
        assert_ne!(second, 0);
        assert_eq!(second, after_wrap, "the loop seam continues the waveform");
        let endless_once = render("!425").unwrap();
        assert!(endless_once.once.is_empty());
        assert_eq!(endless_once.repeat.len(), 8_000);
    }

    #[test]
    fn midi_notes_and_modulation() {
        let a4 = render("M69/200").unwrap();
        assert_eq!(a4.repeat.len(), 1_600);
        assert!(share(&a4.repeat, 440.0) > 0.8);
        let modulated = render("425*25/500").unwrap();
        assert!(share(&modulated.repeat, 425.0) > 0.5);
        assert!(modulated.repeat.iter().any(|s| *s != 0));
    }

    #[test]
    fn a_finite_tone_has_nothing_to_repeat_when_every_part_is_once() {
        let beep = render("!1000/100").unwrap();
        assert_eq!(beep.once.len(), 800);
        assert!(beep.repeat.is_empty());
    }

    #[test]
    fn bad_parts_zones_and_names() {
        for bad in ["abc", "440/x", "440+", "9000", "M200/10", "+440"] {
            assert!(
                matches!(render(bad), Err(IndicationError::BadPart(_))),
                "{bad}"
            );
        }
        assert_eq!(render(" , "), Err(IndicationError::Empty));
        assert!(matches!(
            named("xx", "ring"),
            Err(IndicationError::UnknownZone(_))
        ));
        assert_eq!(named("de", "nosuch"), Ok(None));
        assert_eq!(named("DE", "Ring"), Ok(Some("425/1000,0/4000")));
        for plan in [&US[..], &UK, &DE, &FR] {
            for (name, indication) in plan {
                assert!(render(indication).is_ok(), "{name}: {indication}");
            }
        }
    }
}
