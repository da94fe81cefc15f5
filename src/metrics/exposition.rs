//! The Prometheus text exposition format, version 0.0.4, written by hand: `# HELP` and
//! `# TYPE` lines, then one `name{label="value",...} number` line per sample, label values
//! escaped (`\\`, `\"`, `\n`), histograms as cumulative `_bucket{le=...}` lines with `_sum`
//! and `_count`. See <https://prometheus.io/docs/instrumenting/exposition_formats/>.

use std::fmt::Write;

use super::histogram::Histogram;

/// The media type of what [`Exposition::finish`] returns.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric family is (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (reset at restart); its name ends in `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted into buckets.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample's value: exact integers stay exact, floats are written as Prometheus reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count.
    Int(u64),
    /// A measurement.
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(v.into())
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

fn write_value(out: &mut String, value: Value) {
    match value {
        Value::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Float(v) => write_float(out, v),
    }
}

fn write_escaped(out: &mut String, text: &str, quote: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Whether `name` is a valid metric or label name (`[a-zA-Z_:][a-zA-Z0-9_:]*`; label names
/// without the colon).
fn is_name(name: &str, colon: bool) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphabetic() || c == '_' || (colon && c == ':') || (!first && c.is_ascii_digit())
    };
    let mut chars = name.chars();
    chars.next().is_some_and(|c| ok(c, true)) && chars.all(|c| ok(c, false))
}

/// A page of metrics being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty page.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts the family `name`: its help text and type. Its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        debug_assert!(is_name(name, true), "bad metric name {name}");
        debug_assert!(kind != Kind::Counter || name.ends_with("_total"), "{name}");
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        write_escaped(&mut self.out, help, false);
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(kind.as_str());
        self.out.push('\n');
    }

    /// One sample of the family begun last.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Into<Value>) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                debug_assert!(is_name(label, false), "bad label name {label}");
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                write_escaped(&mut self.out, text, true);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        write_value(&mut self.out, value.into());
        self.out.push('\n');
    }

    /// A gauge family with a single unlabelled sample.
    pub fn gauge(&mut self, name: &str, help: &str, value: impl Into<Value>) {
        self.family(name, Kind::Gauge, help);
        self.sample(name, &[], value);
    }

    /// A counter family with a single unlabelled sample.
    pub fn counter(&mut self, name: &str, help: &str, value: impl Into<Value>) {
        self.family(name, Kind::Counter, help);
        self.sample(name, &[], value);
    }

    /// A histogram family with one unlabelled histogram: cumulative buckets, `+Inf`, sum and
    /// count.
    pub fn histogram(&mut self, name: &str, help: &str, histogram: &Histogram) {
        self.family(name, Kind::Histogram, help);
        let bucket = format!("{name}_bucket");
        let mut le = String::new();
        for (bound, count) in histogram.cumulative() {
            le.clear();
            write_float(&mut le, bound);
            self.sample(&bucket, &[("le", &le)], count);
        }
        self.sample(&format!("{name}_sum"), &[], histogram.sum());
        self.sample(&format!("{name}_count"), &[], histogram.count());
    }

    /// The page.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_has_help_type_and_escaped_labelled_samples() {
        let mut page = Exposition::new();
        page.family("pbx_demo_total", Kind::Counter, "Demo\\count\nsecond line.");
        page.sample("pbx_demo_total", &[("method", "INVITE")], 3u64);
        page.sample("pbx_demo_total", &[("a", "x\"y\\z\nw"), ("b", "")], 0u64);
        assert_eq!(
            page.finish(),
            "# HELP pbx_demo_total Demo\\\\count\\nsecond line.\n\
             # TYPE pbx_demo_total counter\n\
             pbx_demo_total{method=\"INVITE\"} 3\n\
             pbx_demo_total{a=\"x\\\"y\\\\z\\nw\",b=\"\"} 0\n"
        );
    }

    #[test]
    fn floats_are_written_as_prometheus_parses_them() {
        let mut out = String::new();
        for v in [0.25, 1.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e-7] {
            write_float(&mut out, v);
            out.push(' ');
        }
        assert_eq!(out, "0.25 1 +Inf -Inf NaN 0.0000001 ");
    }

    #[test]
    fn a_histogram_is_cumulative_with_inf_sum_and_count() {
        let mut histogram = Histogram::new(&[0.1, 1.0]);
        for v in [0.05, 0.5, 0.7, 3.0] {
            histogram.observe(v);
        }
        let mut page = Exposition::new();
        page.histogram("pbx_wait_seconds", "Waits.", &histogram);
        let text = page.finish();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                "pbx_wait_seconds_bucket{le=\"0.1\"} 1",
                "pbx_wait_seconds_bucket{le=\"1\"} 3",
                "pbx_wait_seconds_bucket{le=\"+Inf\"} 4",
                "pbx_wait_seconds_sum 4.25",
                "pbx_wait_seconds_count 4",
            ]
        );
    }

    #[test]
    fn names_follow_the_data_model() {
        assert!(is_name("pbx_sip_requests_total", true));
        assert!(is_name("a:b", true));
        assert!(!is_name("a:b", false));
        assert!(!is_name("9lives", true));
        assert!(!is_name("", true));
        assert!(!is_name("with-dash", true));
    }
}
