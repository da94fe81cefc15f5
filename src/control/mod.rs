//! Admin HTTP API (edge), served with axum on `[api] bind`, and its command-line client
//! `pbx ctl`. The API reads shared handles (location, counters); later it sends commands to
//! call tasks. ARI and AMI adapters will sit beside it.

pub mod api;
pub mod client;
pub mod table;
pub mod trace;
