//! Prometheus metrics (edge): `GET /metrics` on the admin HTTP server, in the text exposition
//! format we write ourselves. A consumer of the event stream like the other adapters: the
//! call counters, setup times, RTP loss and jitter and bans come from events folded by one
//! consumer task ([`tally`]); gauges and the SIP and RTP counters are read at scrape time
//! from the shared handles ([`collect`]), so the SIP and media paths do no more than bump
//! atomics they already had.
//!
//! - [`exposition`]: the text format (families, labelled samples, escaping, histograms).
//! - [`histogram`]: fixed-bucket histograms.
//! - [`tally`]: the events consumer and what it counts.
//! - [`collect`]: every metric family, read from the sources.
//! - [`process`]: CPU, memory, threads and file descriptors from `/proc/self`.

pub mod collect;
pub mod exposition;
pub mod histogram;
pub mod process;
pub mod tally;

pub use collect::Sources;
pub use exposition::CONTENT_TYPE;
pub use tally::SharedTally;
