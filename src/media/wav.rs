//! WAV sound files: parses RIFF/WAVE bytes into a [`Sound`] of 8 kHz mono 16-bit samples.
//!
//! Sits under the prompt library (`media::prompts`), which feeds it the embedded prompts and
//! files from the sounds override directory; the player then streams the samples. Accepted:
//! format tag 1 (PCM, 16-bit), 6 (A-law) and 7 (mu-law), also inside a
//! `WAVE_FORMAT_EXTENSIBLE` header, at 8000 Hz, one channel. The container follows the RIFF
//! rules of the Multimedia Programming Interface and Data Specifications 1.0 (1991): a chunk is
//! "a four-character code, a 32-bit little-endian size, the data, and a pad byte if the size
//! is odd"; chunks this parser does not need (`LIST`, `fact`, `cue `, ...) are skipped.
//! Anything else is refused with a [`WavError`] naming the file and what was found.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use super::codec::g711;

/// The only sample rate the media engine plays: G.711's 8000 samples per second.
pub const SAMPLE_RATE: u32 = 8000;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_ALAW`.
const FORMAT_ALAW: u16 = 6;
/// `WAVE_FORMAT_MULAW`.
const FORMAT_MULAW: u16 = 7;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format tag is the head of the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Size of the classic `fmt ` chunk body.
const FMT_SIZE: usize = 16;
/// Size of a `WAVE_FORMAT_EXTENSIBLE` `fmt ` body, which ends with the sub-format GUID.
const FMT_EXTENSIBLE_SIZE: usize = 40;
/// Offset of the sub-format GUID in an extensible `fmt ` body.
const SUBFORMAT_OFFSET: usize = 24;

/// A decoded sound: the samples of a prompt at [`SAMPLE_RATE`], ready to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sound {
    name: String,
    samples: Vec<i16>,
}

impl Sound {
    /// A sound from samples already at [`SAMPLE_RATE`] (tones, tests).
    pub fn new(name: impl Into<String>, samples: Vec<i16>) -> Sound {
        Sound {
            name: name.into(),
            samples,
        }
    }

    /// Parses a WAV file's bytes; `name` only labels the sound and its errors.
    pub fn from_wav_bytes(name: &str, bytes: &[u8]) -> Result<Sound, WavError> {
        let samples = parse(name, bytes)?;
        Ok(Sound::new(name, samples))
    }

    /// The name the sound was loaded under (a prompt name or a file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The samples, 16-bit linear at [`SAMPLE_RATE`].
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// How long the sound plays.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }
}

/// A RIFF four-character code, shown with non-printable bytes escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FourCc(pub [u8; 4]);

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// Why a WAV file was refused. Every variant names the file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WavError {
    /// The file does not start with a RIFF header.
    #[error("{name}: not a RIFF file: starts with {found}, expected \"RIFF\"")]
    NotRiff {
        /// The sound's name.
        name: String,
        /// The first four bytes.
        found: FourCc,
    },
    /// The RIFF form is not WAVE (e.g. AVI).
    #[error("{name}: RIFF form is {found}, expected \"WAVE\"")]
    NotWave {
        /// The sound's name.
        name: String,
        /// The form type.
        found: FourCc,
    },
    /// The file ends inside a header or chunk.
    #[error("{name}: truncated: {what} at byte {offset} needs {needed} bytes, {available} left")]
    Truncated {
        /// The sound's name.
        name: String,
        /// What was being read: a header or a chunk's four-character code.
        what: String,
        /// Where it starts in the file.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// Bytes the file still has.
        available: usize,
    },
    /// The `fmt ` chunk is too short for its format.
    #[error("{name}: fmt chunk has {size} bytes, expected at least {expected}")]
    FmtTooShort {
        /// The sound's name.
        name: String,
        /// The chunk's size.
        size: usize,
        /// The size its format needs.
        expected: usize,
    },
    /// The samples are not PCM, A-law or mu-law.
    #[error(
        "{name}: format tag {tag:#06x} ({}), expected 1 (PCM), 6 (A-law) or 7 (mu-law)",
        format_name(*tag)
    )]
    UnsupportedFormat {
        /// The sound's name.
        name: String,
        /// The format tag found (the sub-format for extensible files).
        tag: u16,
    },
    /// More than one channel.
    #[error("{name}: {channels} channels, expected 1 (mono)")]
    NotMono {
        /// The sound's name.
        name: String,
        /// Channels found.
        channels: u16,
    },
    /// Not 8 kHz.
    #[error("{name}: sample rate {rate} Hz, expected 8000 Hz")]
    WrongSampleRate {
        /// The sound's name.
        name: String,
        /// Rate found.
        rate: u32,
    },
    /// The sample width does not fit the format (8-bit or 24-bit PCM, 16-bit A-law).
    #[error("{name}: {bits}-bit {format} samples, expected {expected}-bit")]
    WrongSampleWidth {
        /// The sound's name.
        name: String,
        /// The format's name.
        format: &'static str,
        /// Bits per sample found.
        bits: u16,
        /// Bits per sample the format needs.
        expected: u16,
    },
    /// A `data` chunk came before any `fmt ` chunk.
    #[error("{name}: data chunk before the fmt chunk")]
    MissingFmt {
        /// The sound's name.
        name: String,
    },
    /// No `data` chunk.
    #[error("{name}: no data chunk")]
    MissingData {
        /// The sound's name.
        name: String,
    },
    /// A 16-bit `data` chunk with an odd number of bytes.
    #[error("{name}: data chunk of {size} bytes is not a whole number of 16-bit samples")]
    PartialSample {
        /// The sound's name.
        name: String,
        /// The chunk's size.
        size: usize,
    },
}

/// A human name for the common WAV format tags, for error messages.
fn format_name(tag: u16) -> &'static str {
    match tag {
        FORMAT_PCM => "PCM",
        2 => "Microsoft ADPCM",
        3 => "IEEE float",
        FORMAT_ALAW => "A-law",
        FORMAT_MULAW => "mu-law",
        0x11 => "IMA ADPCM",
        0x31 => "GSM 6.10",
        0x50 => "MPEG",
        0x55 => "MPEG layer 3",
        FORMAT_EXTENSIBLE => "extensible",
        _ => "unknown",
    }
}

/// The sample encodings this parser decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Pcm16,
    Alaw,
    Mulaw,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn four_cc(bytes: &[u8], at: usize) -> FourCc {
    FourCc([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Walks the chunks and decodes the first `data` chunk after a `fmt ` chunk at 8 kHz.
fn parse(name: &str, bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let (rate, samples) = decode_any_rate(name, bytes)?;
    if rate != SAMPLE_RATE {
        return Err(WavError::WrongSampleRate {
            name: name.to_owned(),
            rate,
        });
    }
    Ok(samples)
}

/// Decodes a mono WAV file at whatever rate it was written (text-to-speech engines write
/// 16 or 22.05 kHz): the rate and the samples, for resampling to [`SAMPLE_RATE`].
pub fn decode_any_rate(name: &str, bytes: &[u8]) -> Result<(u32, Vec<i16>), WavError> {
    let truncated = |what: &str, offset: usize, needed: usize| WavError::Truncated {
        name: name.to_owned(),
        what: what.to_owned(),
        offset,
        needed,
        available: bytes.len().saturating_sub(offset),
    };
    if bytes.len() < 12 {
        return Err(truncated("RIFF header", 0, 12));
    }
    if four_cc(bytes, 0).0 != *b"RIFF" {
        return Err(WavError::NotRiff {
            name: name.to_owned(),
            found: four_cc(bytes, 0),
        });
    }
    if four_cc(bytes, 8).0 != *b"WAVE" {
        return Err(WavError::NotWave {
            name: name.to_owned(),
            found: four_cc(bytes, 8),
        });
    }
    // Stop at the end of the RIFF form if it is shorter than the file; a form claiming more
    // than the file holds shows up as a truncated chunk.
    let riff_end =
        usize::try_from(u32_at(bytes, 4)).map_or(usize::MAX, |size| size.saturating_add(8));
    let end = bytes.len().min(riff_end);
    let mut encoding = None;
    let mut pos = 12;
    while pos < end {
        if end - pos < 8 {
            return Err(truncated("chunk header", pos, 8));
        }
        let id = four_cc(bytes, pos);
        let size = usize::try_from(u32_at(bytes, pos + 4)).unwrap_or(usize::MAX);
        let body_start = pos + 8;
        if size > end - body_start {
            return Err(truncated(&format!("chunk {id}"), body_start, size));
        }
        let body = &bytes[body_start..body_start + size];
        match &id.0 {
            b"fmt " if encoding.is_none() => encoding = Some(parse_fmt(name, body)?),
            b"data" => {
                let (encoding, rate) = encoding.ok_or_else(|| WavError::MissingFmt {
                    name: name.to_owned(),
                })?;
                return decode(name, encoding, body).map(|samples| (rate, samples));
            }
            _ => {}
        }
        pos = body_start + size + (size & 1);
    }
    Err(WavError::MissingData {
        name: name.to_owned(),
    })
}

/// Checks a `fmt ` chunk body against what the media engine plays; the encoding and the
/// sample rate.
fn parse_fmt(name: &str, body: &[u8]) -> Result<(Encoding, u32), WavError> {
    let too_short = |expected| WavError::FmtTooShort {
        name: name.to_owned(),
        size: body.len(),
        expected,
    };
    if body.len() < FMT_SIZE {
        return Err(too_short(FMT_SIZE));
    }
    let mut tag = u16_at(body, 0);
    if tag == FORMAT_EXTENSIBLE {
        if body.len() < FMT_EXTENSIBLE_SIZE {
            return Err(too_short(FMT_EXTENSIBLE_SIZE));
        }
        tag = u16_at(body, SUBFORMAT_OFFSET);
    }
    let (encoding, expected_bits) = match tag {
        FORMAT_PCM => (Encoding::Pcm16, 16),
        FORMAT_ALAW => (Encoding::Alaw, 8),
        FORMAT_MULAW => (Encoding::Mulaw, 8),
        _ => {
            return Err(WavError::UnsupportedFormat {
                name: name.to_owned(),
                tag,
            })
        }
    };
    let channels = u16_at(body, 2);
    if channels != 1 {
        return Err(WavError::NotMono {
            name: name.to_owned(),
            channels,
        });
    }
    let rate = u32_at(body, 4);
    let bits = u16_at(body, 14);
    if bits != expected_bits {
        return Err(WavError::WrongSampleWidth {
            name: name.to_owned(),
            format: format_name(tag),
            bits,
            expected: expected_bits,
        });
    }
    Ok((encoding, rate))
}

/// Decodes a `data` chunk body to 16-bit linear samples.
fn decode(name: &str, encoding: Encoding, body: &[u8]) -> Result<Vec<i16>, WavError> {
    match encoding {
        Encoding::Pcm16 => {
            if !body.len().is_multiple_of(2) {
                return Err(WavError::PartialSample {
                    name: name.to_owned(),
                    size: body.len(),
                });
            }
            Ok(body
                .chunks_exact(2)
                .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                .collect())
        }
        Encoding::Alaw | Encoding::Mulaw => {
            let mut samples = vec![0; body.len()];
            if encoding == Encoding::Alaw {
                g711::decode_alaw(body, &mut samples);
            } else {
                g711::decode_ulaw(body, &mut samples);
            }
            Ok(samples)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `fmt ` chunk body: tag, channels, rate, bits (block align and byte rate derived).
    fn fmt_body(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let byte_rate = rate * u32::from(align);
        [
            &tag.to_le_bytes()[..],
            &channels.to_le_bytes(),
            &rate.to_le_bytes(),
        ]
        .into_iter()
        .chain([
            &byte_rate.to_le_bytes()[..],
            &align.to_le_bytes(),
            &bits.to_le_bytes(),
        ])
        .flatten()
        .copied()
        .collect()
    }

    /// A RIFF/WAVE file of the given chunks, each padded to an even length.
    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, data) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        [
            b"RIFF".to_vec(),
            (body.len() as u32).to_le_bytes().to_vec(),
            body,
        ]
        .concat()
    }

    /// A file of one `fmt ` and one `data` chunk.
    fn wav(fmt: &[u8], data: &[u8]) -> Vec<u8> {
        riff(&[(b"fmt ", fmt), (b"data", data)])
    }

    fn pcm16(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    fn samples(file: &[u8]) -> Vec<i16> {
        Sound::from_wav_bytes("p.wav", file)
            .unwrap()
            .samples()
            .to_vec()
    }

    fn error(file: &[u8]) -> String {
        Sound::from_wav_bytes("p.wav", file)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_8khz_mono_pcm16() {
        let file = wav(&fmt_body(1, 1, 8000, 16), &pcm16(&[0, -1, 32767, -32768]));
        let sound = Sound::from_wav_bytes("four", &file).unwrap();
        assert_eq!(sound.name(), "four");
        assert_eq!(sound.samples(), [0, -1, 32767, -32768]);
        assert_eq!(sound.duration(), Duration::from_micros(500));
    }

    #[test]
    fn decodes_alaw_and_mulaw_data() {
        let fact = 2u32.to_le_bytes();
        let alaw = riff(&[
            (b"fmt ", &fmt_body(6, 1, 8000, 8)),
            (b"fact", &fact),
            (b"data", &[0xD5, 0x2A]),
        ]);
        assert_eq!(samples(&alaw), [8, -32256]);
        assert_eq!(
            samples(&wav(&fmt_body(7, 1, 8000, 8), &[0xFF, 0x80, 0x00])),
            [0, 32124, -32124]
        );
    }

    #[test]
    fn skips_unknown_chunks_and_odd_padding() {
        let file = riff(&[
            (b"LIST", b"INFOISFT\x03\x00\x00\x00sox"),
            (b"fmt ", &fmt_body(1, 1, 8000, 16)),
            (b"junk", b"odd"),
            (b"data", &pcm16(&[5, 6])),
        ]);
        assert_eq!(samples(&file), [5, 6]);
    }

    #[test]
    fn accepts_extensible_headers_by_subformat() {
        let mut fmt = fmt_body(0xFFFE, 1, 8000, 16);
        // cbSize 22, 16 valid bits, channel mask 4, KSDATAFORMAT_SUBTYPE_PCM.
        fmt.extend_from_slice(&[22, 0, 16, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0]);
        fmt.extend_from_slice(&[0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
        assert_eq!(samples(&wav(&fmt, &pcm16(&[42]))), [42]);
        let short = wav(&fmt[..18], &pcm16(&[42]));
        assert_eq!(
            error(&short),
            "p.wav: fmt chunk has 18 bytes, expected at least 40"
        );
    }

    #[test]
    fn refuses_formats_the_engine_cannot_play() {
        let data = pcm16(&[1, 2]);
        let cases = [
            (fmt_body(1, 2, 8000, 16), "p.wav: 2 channels, expected 1 (mono)"),
            (fmt_body(1, 1, 16000, 16), "p.wav: sample rate 16000 Hz, expected 8000 Hz"),
            (fmt_body(1, 1, 8000, 8), "p.wav: 8-bit PCM samples, expected 16-bit"),
            (fmt_body(6, 1, 8000, 16), "p.wav: 16-bit A-law samples, expected 8-bit"),
            (
                fmt_body(0x55, 1, 8000, 0),
                "p.wav: format tag 0x0055 (MPEG layer 3), expected 1 (PCM), 6 (A-law) or 7 (mu-law)",
            ),
        ];
        for (fmt, message) in cases {
            assert_eq!(error(&wav(&fmt, &data)), message);
        }
        let stereo = wav(&fmt_body(1, 2, 8000, 16), &data);
        let expected = WavError::NotMono {
            name: "p.wav".into(),
            channels: 2,
        };
        assert_eq!(Sound::from_wav_bytes("p.wav", &stereo), Err(expected));
    }

    #[test]
    fn refuses_broken_containers() {
        let fmt = fmt_body(1, 1, 8000, 16);
        let good = wav(&fmt, &pcm16(&[1, 2, 3]));
        let truncated = WavError::Truncated {
            name: "p.wav".into(),
            what: "chunk \"data\"".into(),
            offset: 44,
            needed: 6,
            available: 5,
        };
        assert_eq!(
            Sound::from_wav_bytes("p.wav", &good[..good.len() - 1]),
            Err(truncated)
        );
        let mut not_riff = good.clone();
        not_riff[..4].copy_from_slice(b"RIFX");
        let mut avi = good.clone();
        avi[8..12].copy_from_slice(b"AVI ");
        let cases = [
            (
                &good[..good.len() - 1],
                "p.wav: truncated: chunk \"data\" at byte 44 needs 6 bytes, 5 left",
            ),
            (
                &good[..8],
                "p.wav: truncated: RIFF header at byte 0 needs 12 bytes, 8 left",
            ),
            (
                &good[..40],
                "p.wav: truncated: chunk header at byte 36 needs 8 bytes, 4 left",
            ),
            (
                &not_riff,
                "p.wav: not a RIFF file: starts with \"RIFX\", expected \"RIFF\"",
            ),
            (&avi, "p.wav: RIFF form is \"AVI \", expected \"WAVE\""),
        ];
        for (file, message) in cases {
            assert_eq!(error(file), message);
        }
        let cases = [
            (riff(&[(b"fmt ", &fmt)]), "p.wav: no data chunk"),
            (
                riff(&[(b"data", &[0, 0]), (b"fmt ", &fmt)]),
                "p.wav: data chunk before the fmt chunk",
            ),
            (
                wav(&fmt, &[1, 2, 3]),
                "p.wav: data chunk of 3 bytes is not a whole number of 16-bit samples",
            ),
            (
                wav(&[1, 0, 1, 0], &[0, 0]),
                "p.wav: fmt chunk has 4 bytes, expected at least 16",
            ),
        ];
        for (file, message) in cases {
            assert_eq!(error(&file), message);
        }
    }

    #[test]
    fn never_panics_on_any_prefix_or_corrupted_byte() {
        let good = riff(&[
            (b"LIST", b"abc"),
            (b"fmt ", &fmt_body(7, 1, 8000, 8)),
            (b"data", &[1, 2, 3]),
        ]);
        // Only the data chunk's final pad byte may be missing.
        assert_eq!(samples(&good[..good.len() - 1]).len(), 3);
        for len in 0..good.len() - 1 {
            assert!(
                Sound::from_wav_bytes("x", &good[..len]).is_err(),
                "prefix {len} parsed"
            );
        }
        for at in 4..good.len() {
            for value in [0x00, 0x7F, 0xFF] {
                let mut bad = good.clone();
                bad[at] = value;
                let _ = Sound::from_wav_bytes("x", &bad);
            }
        }
    }
}
