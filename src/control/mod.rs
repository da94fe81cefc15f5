//! Admin HTTP API (edge), served with axum on `[api] bind`, and its command-line client
//! `pbx ctl`. The API reads shared handles (location, channels, bridges, counters), sends
//! commands to call tasks through the SIP task, and streams the event stream over a
//! WebSocket. ARI and AMI adapters will sit beside it.

pub mod api;
pub mod auth;
pub mod bridge_commands;
pub mod channel_commands;
pub mod client;
pub mod events_ws;
pub mod playback_commands;
pub mod recording_commands;
pub mod table;
pub mod trace;
