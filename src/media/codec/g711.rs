//! ITU-T G.711 mu-law and A-law, table-driven; the RTP payload formats PCMU and PCMA
//! (RFC 3551 §4.5.14: "G.711 ... encodes each sample as 8 bits ... mu-law (PCMU) and A-law
//! (PCMA)").
//!
//! Sits under `media::codec`: the [`super::Codec`] implementations and the transcoder call the
//! slice functions here once per 20 ms frame, so nothing here allocates or branches on data.
//!
//! Conventions (G.711 §3.6, as amended, leaves the mapping from uniform PCM to the
//! laws "to the individual equipment specification"):
//! - Samples are 16-bit two's complement. mu-law uses the top 14 bits and A-law the top 13
//!   (the "uniform PCM code" of Tables 1 and 2/G.711), so decoded values are those tables'
//!   quantized values times 4 (mu-law, full scale 32124) or times 8 (A-law, full scale 32256).
//! - Encoding truncates to 14/13 bits and treats the integer `v` as the interval `[v, v+1)`,
//!   so a negative sample's magnitude is `-v - 1` (ones' complement). This is the ITU-T G.191
//!   reference software's rule; it makes the encoders exactly antisymmetric
//!   (`encode(!x) == encode(x) ^ 0x80`). The classic Sun `g711.c` A-law encoder agrees bit for
//!   bit; its mu-law encoder negates instead, which rounds negative samples one 14-bit step
//!   further from zero (`sun(x) == ours(x - 4)` for `x < 0`, checked by a test).
//! - [`ulaw_to_alaw`] and [`alaw_to_ulaw`] are the direct conversions of Tables 3 and 4/G.711,
//!   not decode-then-encode. The tables align the laws' levels (mu-law overload +3.17 dBm0,
//!   A-law +3.14 dBm0) and pick the nearest quantized value, except two entries amended for
//!   A-mu-A transparency ("mu-80 is converted to A-81 instead of A-80, and A-80 is converted to
//!   mu-79 instead of mu-80"). Decoding to 16 bits and re-encoding gives a different code for
//!   19 of the 128 positive mu-law codes (mu-48, mu-49, mu-64, mu-80..=mu-95) and 17 positive
//!   A-law codes (A-80..=A-96; the standard numbers mu-law characters from 0 and A-law ones
//!   from 1), and is asymmetric for negative ones.

/// mu-law decode table: code word -> 16-bit linear sample.
static ULAW_DECODE: [i16; 256] = build_ulaw_decode();
/// A-law decode table: code word -> 16-bit linear sample.
static ALAW_DECODE: [i16; 256] = build_alaw_decode();
/// mu-law encode table indexed by the top 14 bits of a sample (as an unsigned bit pattern).
static ULAW_ENCODE: [u8; 1 << 14] = build_ulaw_encode();
/// A-law encode table indexed by the top 13 bits of a sample (as an unsigned bit pattern).
static ALAW_ENCODE: [u8; 1 << 13] = build_alaw_encode();
/// Table 3/G.711 applied to whole code words.
static ULAW_TO_ALAW: [u8; 256] = build_ulaw_to_alaw();
/// Table 4/G.711 applied to whole code words.
static ALAW_TO_ULAW: [u8; 256] = build_alaw_to_ulaw();

/// Table 3/G.711: mu-law character number (0..=127, 0 = smallest magnitude) to A-law
/// character number (1..=128), as printed in the standard.
const TABLE_3_MU_TO_A: [u8; 128] = [
    1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, //
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, //
    25, 27, 29, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, //
    46, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, //
    64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, //
    81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, //
    97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, //
    113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
];

/// Table 4/G.711: A-law character number (1..=128, listed from 1) to mu-law character number
/// (0..=127), as printed in the standard.
const TABLE_4_A_TO_MU: [u8; 128] = [
    1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, //
    24, 25, 26, 27, 28, 29, 30, 31, 32, 32, 33, 33, 34, 34, 35, 35, //
    36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 48, 49, 49, //
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 64, //
    65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 79, //
    80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, //
    96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, //
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
];

/// mu-law sign bit after the all-ones inversion: set for positive samples.
const ULAW_POSITIVE: u8 = 0xFF;
/// mu-law mask for negative samples (all bits but the sign inverted).
const ULAW_NEGATIVE: u8 = 0x7F;
/// A-law mask for positive samples: sign bit set, even bits inverted.
const ALAW_POSITIVE: u8 = 0xD5;
/// A-law mask for negative samples: even bits inverted.
const ALAW_NEGATIVE: u8 = 0x55;
/// mu-law bias in 14-bit units (G.711 segment ends are 2^(s+5) - 33).
const ULAW_BIAS: i32 = 33;
/// Largest 14-bit magnitude mu-law can code (its overload point is 8159).
const ULAW_MAX_MAGNITUDE: i32 = 8158;

/// Decodes one mu-law code word to a 16-bit sample (0x00 -> -32124, 0x80 -> 32124).
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Decodes one A-law code word to a 16-bit sample (0x2A -> -32256, 0xD5 -> 8).
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// Encodes one 16-bit sample as mu-law (only its top 14 bits count).
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    ULAW_ENCODE[usize::from(sample as u16 >> 2)]
}

/// Encodes one 16-bit sample as A-law (only its top 13 bits count).
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    ALAW_ENCODE[usize::from(sample as u16 >> 3)]
}

/// Converts a mu-law code word to A-law per Table 3/G.711.
#[inline]
pub fn ulaw_to_alaw(code: u8) -> u8 {
    ULAW_TO_ALAW[usize::from(code)]
}

/// Converts an A-law code word to mu-law per Table 4/G.711.
#[inline]
pub fn alaw_to_ulaw(code: u8) -> u8 {
    ALAW_TO_ULAW[usize::from(code)]
}

/// Decodes mu-law into `output`; converts `min(input.len(), output.len())` samples and
/// returns that count.
pub fn decode_ulaw(input: &[u8], output: &mut [i16]) -> usize {
    map_slice(input, output, &ULAW_DECODE)
}

/// Decodes A-law into `output`; converts `min(input.len(), output.len())` samples and
/// returns that count.
pub fn decode_alaw(input: &[u8], output: &mut [i16]) -> usize {
    map_slice(input, output, &ALAW_DECODE)
}

/// Encodes samples as mu-law into `output`; converts `min(input.len(), output.len())`
/// samples and returns that count.
pub fn encode_ulaw(input: &[i16], output: &mut [u8]) -> usize {
    for (out, &sample) in output.iter_mut().zip(input) {
        *out = linear_to_ulaw(sample);
    }
    input.len().min(output.len())
}

/// Encodes samples as A-law into `output`; converts `min(input.len(), output.len())`
/// samples and returns that count.
pub fn encode_alaw(input: &[i16], output: &mut [u8]) -> usize {
    for (out, &sample) in output.iter_mut().zip(input) {
        *out = linear_to_alaw(sample);
    }
    input.len().min(output.len())
}

/// Converts mu-law code words to A-law (Table 3/G.711) into `output`; converts
/// `min(input.len(), output.len())` bytes and returns that count.
pub fn transcode_ulaw_to_alaw(input: &[u8], output: &mut [u8]) -> usize {
    map_slice(input, output, &ULAW_TO_ALAW)
}

/// Converts A-law code words to mu-law (Table 4/G.711) into `output`; converts
/// `min(input.len(), output.len())` bytes and returns that count.
pub fn transcode_alaw_to_ulaw(input: &[u8], output: &mut [u8]) -> usize {
    map_slice(input, output, &ALAW_TO_ULAW)
}

/// Looks every input byte up in a 256-entry table.
#[inline]
fn map_slice<T: Copy>(input: &[u8], output: &mut [T], table: &[T; 256]) -> usize {
    for (out, &code) in output.iter_mut().zip(input) {
        *out = table[usize::from(code)];
    }
    input.len().min(output.len())
}

/// mu-law expansion: the quantized value of segment `s`, step `q` (Table 2/G.711) is
/// `(2q + 33) * 2^s - 33` in 14-bit units.
const fn build_ulaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let bits = !(code as u8);
        let segment = (bits >> 4) & 0x7;
        let step = (bits & 0xF) as i32;
        let magnitude = ((2 * step + ULAW_BIAS) << segment) - ULAW_BIAS;
        let value = 4 * magnitude;
        let signed = if bits & 0x80 != 0 { -value } else { value };
        table[code] = signed as i16;
        code += 1;
    }
    table
}

/// A-law expansion: the quantized value of segment 0, step `q` is `2q + 1`; of segment
/// `s >= 1` it is `(2q + 33) * 2^(s-1)` (Table 1/G.711, 13-bit units).
const fn build_alaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let bits = code as u8 ^ ALAW_NEGATIVE;
        let segment = (bits >> 4) & 0x7;
        let step = (bits & 0xF) as i32;
        let magnitude = if segment == 0 {
            2 * step + 1
        } else {
            (2 * step + 33) << (segment - 1)
        };
        let value = 8 * magnitude;
        let signed = if bits & 0x80 != 0 { value } else { -value };
        table[code] = signed as i16;
        code += 1;
    }
    table
}

/// Sign-extends the low `bits` bits of `pattern`.
const fn sign_extend(pattern: usize, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((pattern as i32) << shift) >> shift
}

/// mu-law compression of every 14-bit value: bias the magnitude by 33, the segment is the
/// position of its leading one above bit 5, the step the next four bits.
const fn build_ulaw_encode() -> [u8; 1 << 14] {
    let mut table = [0u8; 1 << 14];
    let mut pattern = 0;
    while pattern < table.len() {
        let value = sign_extend(pattern, 14);
        let (magnitude, mask) = if value < 0 {
            (-value - 1, ULAW_NEGATIVE)
        } else {
            (value, ULAW_POSITIVE)
        };
        let magnitude = if magnitude > ULAW_MAX_MAGNITUDE {
            ULAW_MAX_MAGNITUDE
        } else {
            magnitude
        };
        let biased = magnitude + ULAW_BIAS;
        let segment = (26 - biased.leading_zeros()) as i32;
        let step = (biased >> (segment + 1)) & 0xF;
        table[pattern] = ((segment << 4) | step) as u8 ^ mask;
        pattern += 1;
    }
    table
}

/// A-law compression of every 13-bit value: segment 0 and 1 have step 2, segment `s >= 1`
/// starts at `2^(s+4)` and has step `2^s`.
const fn build_alaw_encode() -> [u8; 1 << 13] {
    let mut table = [0u8; 1 << 13];
    let mut pattern = 0;
    while pattern < table.len() {
        let value = sign_extend(pattern, 13);
        let (magnitude, mask) = if value < 0 {
            (-value - 1, ALAW_NEGATIVE)
        } else {
            (value, ALAW_POSITIVE)
        };
        let top_bit = 32 - magnitude.leading_zeros() as i32;
        let segment = if top_bit > 5 { top_bit - 5 } else { 0 };
        let shift = if segment > 1 { segment } else { 1 };
        let step = (magnitude >> shift) & 0xF;
        table[pattern] = ((segment << 4) | step) as u8 ^ mask;
        pattern += 1;
    }
    table
}

/// Expands Table 3/G.711 to code words: the sign carries over, magnitudes map by number.
const fn build_ulaw_to_alaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut code = 0;
    while code < 256 {
        let positive = code & 0x80 != 0;
        let mu_mask = if positive {
            ULAW_POSITIVE
        } else {
            ULAW_NEGATIVE
        };
        let a_mask = if positive {
            ALAW_POSITIVE
        } else {
            ALAW_NEGATIVE
        };
        let mu_number = (code as u8 ^ mu_mask) as usize;
        table[code] = (TABLE_3_MU_TO_A[mu_number] - 1) ^ a_mask;
        code += 1;
    }
    table
}

/// Expands Table 4/G.711 to code words: the sign carries over, magnitudes map by number.
const fn build_alaw_to_ulaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut code = 0;
    while code < 256 {
        let positive = code & 0x80 != 0;
        let a_mask = if positive {
            ALAW_POSITIVE
        } else {
            ALAW_NEGATIVE
        };
        let mu_mask = if positive {
            ULAW_POSITIVE
        } else {
            ULAW_NEGATIVE
        };
        let a_index = (code as u8 ^ a_mask) as usize;
        table[code] = TABLE_4_A_TO_MU[a_index] ^ mu_mask;
        code += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every i16 sample.
    fn all_samples() -> impl Iterator<Item = i16> {
        i16::MIN..=i16::MAX
    }

    /// The Sun `g711.c` mu-law expansion, reimplemented as the decode oracle.
    fn sun_ulaw2linear(code: u8) -> i16 {
        let u = !code;
        let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
        (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
    }

    /// The Sun `g711.c` A-law expansion, reimplemented as the decode oracle.
    fn sun_alaw2linear(code: u8) -> i16 {
        let a = code ^ 0x55;
        let mut t = i32::from(a & 0x0F) << 4;
        match (a & 0x70) >> 4 {
            0 => t += 8,
            1 => t += 0x108,
            seg => t = (t + 0x108) << (seg - 1),
        }
        (if a & 0x80 != 0 { t } else { -t }) as i16
    }

    /// The Sun `g711.c` mu-law compression (14-bit truncation, then negation).
    fn sun_linear2ulaw(sample: i16) -> u8 {
        let mut v = i32::from(sample) >> 2;
        let mask = if v < 0 { 0x7F } else { 0xFF };
        v = v.abs().min(8159) + 33;
        let ends = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
        match ends.iter().position(|&end| v <= end) {
            Some(seg) => ((seg << 4) as u8 | ((v >> (seg + 1)) & 0xF) as u8) ^ mask,
            None => 0x7F ^ mask,
        }
    }

    /// The Sun `g711.c` A-law compression (13-bit truncation, ones' complement).
    fn sun_linear2alaw(sample: i16) -> u8 {
        let mut v = i32::from(sample) >> 3;
        let mask = if v >= 0 { 0xD5 } else { 0x55 };
        if v < 0 {
            v = -v - 1;
        }
        let ends = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
        match ends.iter().position(|&end| v <= end) {
            Some(seg) => {
                let shift = if seg < 2 { 1 } else { seg };
                ((seg << 4) as u8 | ((v >> shift) & 0xF) as u8) ^ mask
            }
            None => 0x7F ^ mask,
        }
    }

    /// Lower decision values of the 128 intervals of one polarity, from each segment's
    /// start and step as given in Tables 1 and 2/G.711.
    fn decision_values(starts: [i32; 8], steps: [i32; 8]) -> Vec<i32> {
        (0..128)
            .map(|n| (starts[n / 16] + steps[n / 16] * (n % 16) as i32).max(0))
            .collect()
    }

    /// Encodes by searching the standard's decision values: the character number is the
    /// interval holding the magnitude, where sample `v` stands for `[v, v+1)`.
    fn encode_by_search(value: i32, decisions: &[i32], positive: u8, negative: u8) -> u8 {
        let (magnitude, mask) = if value < 0 {
            (-value - 1, negative)
        } else {
            (value, positive)
        };
        let number = decisions.partition_point(|&d| d <= magnitude) - 1;
        number as u8 ^ mask
    }

    #[test]
    fn decodes_the_anchor_code_words() {
        let codes = [0x00, 0x7F, 0x80, 0xFF, 0xFE, 0x7E];
        assert_eq!(codes.map(ulaw_to_linear), [-32124, 0, 32124, 0, 8, -8]);
        let codes = [0xD5, 0x55, 0x2A, 0xAA, 0xD4];
        assert_eq!(codes.map(alaw_to_linear), [8, -8, -32256, 32256, 24]);
    }

    #[test]
    fn decodes_all_256_code_words_like_the_sun_reference() {
        for code in 0..=255u8 {
            let ours = (ulaw_to_linear(code), alaw_to_linear(code));
            let sun = (sun_ulaw2linear(code), sun_alaw2linear(code));
            assert_eq!(ours, sun, "code {code:#04x}");
        }
    }

    #[test]
    fn encodes_every_sample_by_the_standards_decision_values() {
        let mu = decision_values(
            [-1, 31, 95, 223, 479, 991, 2015, 4063],
            [2, 4, 8, 16, 32, 64, 128, 256],
        );
        let a = decision_values(
            [0, 32, 64, 128, 256, 512, 1024, 2048],
            [2, 2, 4, 8, 16, 32, 64, 128],
        );
        for x in all_samples() {
            let v14 = (i32::from(x) >> 2).clamp(-8159, 8158);
            assert_eq!(
                linear_to_ulaw(x),
                encode_by_search(v14, &mu, 0xFF, 0x7F),
                "mu {x}"
            );
            let v13 = i32::from(x) >> 3;
            assert_eq!(
                linear_to_alaw(x),
                encode_by_search(v13, &a, 0xD5, 0x55),
                "A {x}"
            );
        }
    }

    #[test]
    fn alaw_encoder_matches_sun_and_ulaw_differs_only_in_negative_rounding() {
        for x in all_samples() {
            assert_eq!(linear_to_alaw(x), sun_linear2alaw(x), "A-law {x}");
            let expected = if x >= 0 { x } else { x.saturating_sub(4) };
            assert_eq!(sun_linear2ulaw(x), linear_to_ulaw(expected), "mu-law {x}");
        }
    }

    #[test]
    fn encoders_are_antisymmetric() {
        for x in all_samples() {
            assert_eq!(linear_to_ulaw(!x), linear_to_ulaw(x) ^ 0x80, "mu-law {x}");
            assert_eq!(linear_to_alaw(!x), linear_to_alaw(x) ^ 0x80, "A-law {x}");
        }
    }

    #[test]
    fn decode_then_encode_returns_the_code_word() {
        for code in 0..=255u8 {
            let mu_expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(
                linear_to_ulaw(ulaw_to_linear(code)),
                mu_expected,
                "{code:#04x}"
            );
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "{code:#04x}");
        }
    }

    #[test]
    fn quantisation_is_monotonic_and_within_one_step() {
        let (mut last_mu, mut last_a) = (i16::MIN, i16::MIN);
        for x in all_samples() {
            let mu = ulaw_to_linear(linear_to_ulaw(x));
            let a = alaw_to_linear(linear_to_alaw(x));
            assert!(mu >= last_mu && a >= last_a, "not monotonic at {x}");
            (last_mu, last_a) = (mu, a);
            let (x, mu, a) = (i32::from(x), i32::from(mu), i32::from(a));
            let mu_step = 8 << ((x.unsigned_abs().min(32635) + 132).ilog2() - 7);
            assert!((mu - x).abs() <= mu_step, "mu-law {x} -> {mu}");
            let a_step = 16 << (x.unsigned_abs().max(256).ilog2() - 8);
            assert!((a - x).abs() <= a_step, "A-law {x} -> {a}");
        }
    }

    #[test]
    fn conversion_tables_hold_the_amended_entries() {
        // "mu-80 is converted to A-81 instead of is converted to mu-79":
        // mu number 80 is code 0xFF ^ 80; A number 81 is code (81 - 1) ^ 0xD5.
        assert_eq!(ulaw_to_alaw(0xFF ^ 80), 80 ^ 0xD5);
        assert_eq!(alaw_to_ulaw(79 ^ 0xD5), 0xFF ^ 79);
        let anchors = [
            (0xFF, 0xD5),
            (0x7F, 0x55),
            (0x80, 0xAA),
            (0x00, 0x2A),
            (0xFE, 0xD5),
        ];
        for (mu, a) in anchors {
            assert_eq!(ulaw_to_alaw(mu), a, "mu {mu:#04x}");
        }
        let anchors = [
            (0xD5, 0xFE),
            (0x55, 0x7E),
            (0xAA, 0x80),
            (0x2A, 0x00),
            (0xD4, 0xFC),
        ];
        for (a, mu) in anchors {
            assert_eq!(alaw_to_ulaw(a), mu, "A {a:#04x}");
        }
    }

    #[test]
    fn conversion_tables_are_the_level_aligned_nearest_except_the_amendment() {
        // Overload: mu-law 8159 (x4) at +3.17 dBm0, A-law 4096 (x8) at +3.14 dBm0.
        let mu_to_a = 32768.0 / 32636.0 * 10f64.powf(0.03 / 20.0);
        let mu: Vec<f64> = (0..128u8)
            .map(|n| f64::from(ulaw_to_linear(0xFF ^ n)))
            .collect();
        let a: Vec<f64> = (0..128u8)
            .map(|n| f64::from(alaw_to_linear(0xD5 ^ n)))
            .collect();
        let nearest = |value: f64, to: &[f64]| {
            let mut by_distance: Vec<usize> = (0..128).collect();
            by_distance.sort_by(|&i, &j| (to[i] - value).abs().total_cmp(&(to[j] - value).abs()));
            let (best, second) = (by_distance[0], by_distance[1]);
            assert!(
                (to[best] - value).abs() < (to[second] - value).abs(),
                "tie at {value}"
            );
            best as u8
        };
        for n in 0..128u8 {
            let expected = match n {
                80 => 80, // amended: mu-80 -> A-81 (index 80)
                _ => nearest(mu[usize::from(n)] * mu_to_a, &a),
            };
            assert_eq!(ulaw_to_alaw(0xFF ^ n) ^ 0xD5, expected, "mu number {n}");
            let expected = match n {
                79 => 79, // amended: A-80 (index 79) -> mu-79
                _ => nearest(a[usize::from(n)] / mu_to_a, &mu),
            };
            assert_eq!(alaw_to_ulaw(0xD5 ^ n) ^ 0xFF, expected, "A index {n}");
        }
        assert_eq!(
            nearest(mu[80] * mu_to_a, &a),
            79,
            "amended mu-80 was optimum A-80"
        );
        assert_eq!(
            nearest(a[79] / mu_to_a, &mu),
            80,
            "amended A-80 was optimum mu-80"
        );
    }

    #[test]
    fn conversions_keep_the_sign_and_a_mu_a_keeps_bits_1_to_7() {
        for code in 0..=255u8 {
            assert_eq!(ulaw_to_alaw(code ^ 0x80), ulaw_to_alaw(code) ^ 0x80);
            assert_eq!(alaw_to_ulaw(code ^ 0x80), alaw_to_ulaw(code) ^ 0x80);
            let back = ulaw_to_alaw(alaw_to_ulaw(code));
            assert_eq!(
                back & 0xFE,
                code & 0xFE,
                "A {code:#04x} came back as {back:#04x}"
            );
        }
    }

    #[test]
    fn direct_conversion_differs_from_decode_then_encode_where_the_tables_say() {
        let mu_differs: Vec<u8> = (0..128u8)
            .filter(|&n| ulaw_to_alaw(0xFF ^ n) != linear_to_alaw(ulaw_to_linear(0xFF ^ n)))
            .collect();
        let expected: Vec<u8> = [48, 49, 64].into_iter().chain(80..=95).collect();
        assert_eq!(mu_differs, expected);
        let a_differs: Vec<u8> = (0..128u8)
            .filter(|&n| alaw_to_ulaw(0xD5 ^ n) != linear_to_ulaw(alaw_to_linear(0xD5 ^ n)))
            .collect();
        assert_eq!(a_differs, (79..=95).collect::<Vec<u8>>());
    }

    #[test]
    fn slice_functions_convert_the_common_length() {
        let pcm = [0i16, 8, -8, 32767, -32768, 1000];
        let mut mu = [0u8; 4];
        assert_eq!(encode_ulaw(&pcm, &mut mu), 4);
        assert_eq!(mu, [0xFF, 0xFE, 0x7E, 0x80]);
        let mut a = [0u8; 8];
        assert_eq!(encode_alaw(&pcm, &mut a), 6);
        assert_eq!(a[..6], pcm.map(linear_to_alaw));
        let mut back = [0i16; 6];
        assert_eq!(decode_ulaw(&mu, &mut back), 4);
        assert_eq!(back[..4], [0, 8, -8, 32124]);
        assert_eq!(decode_alaw(&a[..6], &mut back), 6);
        assert_eq!(back, [8, 8, -8, 32256, -32256, 1008]);
        let mut converted = [0u8; 4];
        assert_eq!(transcode_ulaw_to_alaw(&mu, &mut converted), 4);
        assert_eq!(converted, mu.map(ulaw_to_alaw));
        assert_eq!(transcode_alaw_to_ulaw(&a[..3], &mut converted), 3);
        assert_eq!(converted[..3], [0xFE, 0xFE, 0x7E]);
    }
}
