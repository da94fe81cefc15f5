//! The SIP core (sans-IO): RFC 3261 message handling, transactions, digest authentication and
//! registrar rules. Nothing here touches a socket or a clock; the edge feeds it.

pub mod auth;
pub mod bans;
pub mod cancelled_invites;
pub mod counters;
pub mod dialog;
pub mod header;
pub mod message;
pub mod method;
pub mod outbound_registration;
pub mod refer;
pub mod registrar;
pub mod status;
pub mod transaction;
pub mod ua;
pub mod validate;
pub mod writer;
