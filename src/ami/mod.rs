//! AMI, the Asterisk Manager Interface (edge around sans-IO parts): a TCP line protocol
//! existing telephony software uses to watch a PBX's events and act on its calls, spoken
//! here as Asterisk 12+ speaks it so those programs work unchanged.
//!
//! - [`message`]: the `Key: Value` wire codec (sans-IO).
//! - [`class`]: permission classes (`system`, `call`, ...) as a typed set (sans-IO).

pub mod action;
pub mod class;
pub mod connection;
pub mod event;
pub mod fields;
pub mod listener;
pub mod listing;
pub mod message;
pub mod perform;
pub mod session;
pub mod users;
