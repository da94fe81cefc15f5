//! RFC 3261 §17 transactions as sans-IO state machines.
//!
//! One file per transaction kind; timers are driven by the caller passing `now`.

pub mod client;
pub mod client_invite;
pub mod server;
pub mod server_invite;
pub mod table;
