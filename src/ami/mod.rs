//! AMI, the Asterisk Manager Interface (edge around sans-IO parts): a TCP line protocol
//! existing telephony software uses to watch a PBX's events and act on its calls, spoken
//! here as Asterisk 12+ speaks it so those programs work unchanged. Like the other adapters
//! it holds no call state: actions become channel commands or registry reads, and events
//! come from the one event stream.
//!
//! Sans-IO:
//! - [`message`]: the `Key: Value` wire codec.
//! - [`class`]: permission classes (`system`, `call`, ...) as a typed set.
//! - [`users`]: accounts and login proofs (plain secret, MD5 challenge/key, permit networks).
//! - [`action`]: the actions known, their classes and synopses, and typed requests.
//! - [`session`]: one connection's login state, `Events` filter and protocol-level actions.
//! - [`fields`]: the channel and bridge field blocks events share.
//! - [`event`]: `PbxEvent` -> AMI events with their classes.
//! - [`dialect`]: the same events as Asterisk 11 named them, for older clients.
//! - [`listing`]: CoreSettings, CoreStatus and the CoreShowChannels / Status event lists.
//!
//! Edge:
//! - [`perform`]: carries out Status, Getvar, Setvar, Hangup... against the registries and
//!   the control queue.
//! - [`originate`]: Originate through the one originate, with OriginateResponse.
//! - [`connection`]: one client's task; [`listener`]: the accept loop the server spawns.
//!
//! # Where we knowingly differ from Asterisk (the quirks, in one place)
//! - The banner says `Asterisk Call Manager/9.0.0`: the AMI protocol version, not ours.
//! - A failed Login leaves the connection open for two more tries (Asterisk closes it at the
//!   first failure, after a one-second pause); the third failure closes it.
//! - `AccountCode` is always empty; `Language` is `en` when unset.
//! - Our key presses are published when they end, so DTMFBegin and DTMFEnd come together.
//! - `HangupRequest` is sent for hangups by the far end or the dialplan, `SoftHangupRequest`
//!   for those asked by the operator, shutdown or a timeout. Hangup takes no `Cause` (the
//!   control path has none): the channel ends with Normal Clearing.
//! - There are no global variables: Getvar without `Channel` answers an empty value and
//!   Setvar without `Channel` is refused with `No channel specified`.
//! - The Events action reads `EventMask` (Asterisk's name) or `Events`.
//! - CoreStatus dates and times are UTC; CoreReload* is the start time.
//! - Registry events name the trunk in `Username` and `Domain` (we know no URIs there).
//! - A conference for ConfbridgeList / Kick / Mute / Unmute is the mixing bridge named after the
//!   room; members' Admin, MarkedUser, Talking... flags are all `No` (`Muted` follows
//!   ConfbridgeMute, which mutes what the member says), and a kick hangs the member up.
//! - Originate rings `PJSIP/USER` (an endpoint) or `PJSIP/NUMBER@TRUNK`. `Variable`s are set
//!   before the dialplan runs.
//! - AsyncAGIExec is answered as Asterisk 12+ does; clients that wait for Asterisk 11's
//!   `Event: AsyncAGI` / `SubEvent: Exec` (panoramisk's `send_agi_command`) set
//!   `[ami] dialect = "asterisk11"` ([`dialect`] lists all it changes).

pub mod action;
pub mod class;
pub mod cli;
pub mod connection;
pub mod dialect;
pub mod event;
pub mod fields;
pub mod listener;
pub mod listing;
pub mod message;
pub mod originate;
pub mod perform;
pub mod pjsip;
pub mod session;
pub mod users;
