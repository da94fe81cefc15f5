//! One AMI connection's protocol state (sans-IO): logged in or not and as whom, the MD5
//! challenge handed out, failed logins, and the `Events` filter. It answers the actions that
//! need nothing but that state (Login, Challenge, Logoff, Ping, Events, ListCommands),
//! refuses what the user may not do, and hands every other action back as a typed
//! [`Request`] for the edge to carry out. Time and randomness come in through [`Clock`].
//!
//! Login flow as Asterisk has it: the server speaks first with the [`BANNER`]; `Login`
//! answers `Message: Authentication accepted`, then `Event: FullyBooted` when the session
//! receives system events; a failed Login answers `Response: Error` with `Message:
//! Authentication failed`. Unlike Asterisk, which drops the connection at the first
//! failure, a client gets [`MAX_LOGIN_FAILURES`] tries before it is closed. Before login
//! only Login, Challenge and Logoff are answered; anything else gets `Authentication
//! Required`.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::action::{ActionKind, Request};
use super::class::{Class, ClassSet};
use super::message::{DecodeError, Message};
use super::users::{Proof, Users};

/// The AMI protocol version we announce. Clients look only at the `Asterisk Call Manager/`
/// prefix; 9.0.0 is the manager version of current Asterisk releases' generation.
pub const AMI_VERSION: &str = "9.0.0";
/// The first line the server sends on a new connection.
pub const BANNER: &str = "Asterisk Call Manager/9.0.0\r\n";
/// Failed logins after which the connection is closed.
pub const MAX_LOGIN_FAILURES: u8 = 3;

/// Error texts clients match on, worded as Asterisk words them.
pub mod texts {
    /// A Login that proved nothing.
    pub const AUTH_FAILED: &str = "Authentication failed";
    /// A Login that worked.
    pub const AUTH_ACCEPTED: &str = "Authentication accepted";
    /// An action before Login.
    pub const AUTH_REQUIRED: &str = "Authentication Required";
    /// An action name we do not know.
    pub const UNKNOWN_ACTION: &str = "Invalid/unknown command";
    /// A message without `Action`.
    pub const MISSING_ACTION: &str = "Missing action in request";
    /// An action outside the user's write classes.
    pub const PERMISSION_DENIED: &str = "Permission denied";
    /// Challenge without `AuthType: md5`.
    pub const MUST_SPECIFY_AUTHTYPE: &str = "Must specify AuthType";
    /// Events without a usable `EventMask`.
    pub const INVALID_EVENT_MASK: &str = "Invalid event mask";
    /// A message that was too big to keep.
    pub const TOO_BIG: &str = "Too many lines in message or allocation failure";
    /// Logoff.
    pub const GOODBYE: &str = "Thanks for all the fish.";
}

/// What the session is given of the outside world with each message.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, on the wall clock (Ping's Timestamp).
    pub wall: SystemTime,
    /// Time since the PBX started (FullyBooted's Uptime).
    pub uptime: Duration,
    /// A fresh random number (a Challenge, if one is asked for).
    pub random: u64,
}

/// What to do after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send these messages.
    Send(Vec<Message>),
    /// Send these messages, then close the connection.
    SendAndClose(Vec<Message>),
    /// Carry out `request` and answer it (with `ActionID` echoed).
    Run {
        /// The action.
        request: Request,
        /// The action's `ActionID`.
        action_id: Option<String>,
    },
}

#[derive(Debug, Clone)]
struct LoggedIn {
    name: String,
    read: ClassSet,
    write: ClassSet,
}

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    users: Users,
    peer: IpAddr,
    user: Option<LoggedIn>,
    challenge: Option<String>,
    failures: u8,
    events: ClassSet,
}

fn error(action_id: Option<&str>, text: &str) -> Message {
    Message::response("Error", action_id).with("Message", text)
}

fn success(action_id: Option<&str>, text: &str) -> Message {
    Message::response("Success", action_id).with("Message", text)
}

impl Session {
    /// A new connection from `peer`.
    pub fn new(users: Users, peer: IpAddr) -> Session {
        Session {
            users,
            peer,
            user: None,
            challenge: None,
            failures: 0,
            events: ClassSet::ALL,
        }
    }

    /// The logged-in user's name.
    pub fn user(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.name.as_str())
    }

    /// Whether an event of `class` goes to this session: logged in, in its read classes and
    /// in its `Events` filter.
    pub fn receives(&self, class: Class) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.read.contains(class) && self.events.contains(class))
    }

    /// Answers a message that could not be decoded.
    pub fn handle_decode_error(&mut self, _error: DecodeError) -> Outcome {
        Outcome::Send(vec![error(None, texts::TOO_BIG)])
    }

    /// Handles one message from the client.
    pub fn handle_message(&mut self, message: &Message, clock: &Clock) -> Outcome {
        let action_id = message.get("ActionID");
        let Some(name) = message.get("Action").filter(|n| !n.is_empty()) else {
            return Outcome::Send(vec![error(action_id, texts::MISSING_ACTION)]);
        };
        let kind = ActionKind::from_name(name);
        let Some(user) = &self.user else {
            return match kind {
                Some(ActionKind::Login) => self.login(message, clock),
                Some(ActionKind::Challenge) => self.challenge(message, clock),
                Some(ActionKind::Logoff) => logoff(action_id),
                _ => Outcome::Send(vec![error(action_id, texts::AUTH_REQUIRED)]),
            };
        };
        let Some(kind) = kind else {
            return Outcome::Send(vec![error(action_id, texts::UNKNOWN_ACTION)]);
        };
        if !kind.allowed(user.write) {
            return Outcome::Send(vec![error(action_id, texts::PERMISSION_DENIED)]);
        }
        let send = |m: Message| Outcome::Send(vec![m]);
        match kind {
            ActionKind::Login => send(success(action_id, "Already authenticated")),
            ActionKind::Challenge => self.challenge(message, clock),
            ActionKind::Logoff => logoff(action_id),
            ActionKind::Ping => send(
                Message::response("Success", action_id)
                    .with("Ping", "Pong")
                    .with("Timestamp", timestamp(clock.wall)),
            ),
            ActionKind::Events => send(self.set_events(message, action_id)),
            ActionKind::ListCommands => send(list_commands(user.write, action_id)),
            _ => match Request::parse(kind, message) {
                Some(Ok(request)) => Outcome::Run {
                    request,
                    action_id: action_id.map(str::to_string),
                },
                Some(Err(text)) => send(error(action_id, text)),
                None => send(error(action_id, texts::UNKNOWN_ACTION)),
            },
        }
    }

    fn login(&mut self, message: &Message, clock: &Clock) -> Outcome {
        let action_id = message.get("ActionID");
        let name = message.get("Username").unwrap_or_default();
        let md5 = message
            .get("AuthType")
            .is_some_and(|t| t.eq_ignore_ascii_case("md5"));
        let proof = match (md5, &self.challenge) {
            (false, _) => Some(Proof::Secret(message.get("Secret").unwrap_or_default())),
            (true, Some(challenge)) => Some(Proof::Md5Key {
                challenge,
                key: message.get("Key").unwrap_or_default(),
            }),
            (true, None) => None,
        };
        let user = self
            .users
            .find(name)
            .filter(|u| proof.is_some_and(|p| u.accepts(p, self.peer)));
        let Some(user) = user else {
            self.failures += 1;
            let reply = vec![error(action_id, texts::AUTH_FAILED)];
            return if self.failures >= MAX_LOGIN_FAILURES {
                Outcome::SendAndClose(reply)
            } else {
                Outcome::Send(reply)
            };
        };
        self.user = Some(LoggedIn {
            name: user.name.clone(),
            read: user.read,
            write: user.write,
        });
        if let Some(mask) = message.get("Events").filter(|m| !m.trim().is_empty()) {
            self.events = ClassSet::parse_events(mask);
        }
        let mut reply = vec![success(action_id, texts::AUTH_ACCEPTED)];
        if self.receives(Class::System) {
            let uptime = clock.uptime.as_secs().to_string();
            reply.push(
                Message::event("FullyBooted")
                    .with("Privilege", Class::System.privilege())
                    .with("Uptime", uptime.clone())
                    .with("LastReload", uptime)
                    .with("Status", "Fully Booted"),
            );
        }
        Outcome::Send(reply)
    }

    fn challenge(&mut self, message: &Message, clock: &Clock) -> Outcome {
        let action_id = message.get("ActionID");
        let md5 = message
            .get("AuthType")
            .is_some_and(|t| t.eq_ignore_ascii_case("md5"));
        if !md5 {
            return Outcome::Send(vec![error(action_id, texts::MUST_SPECIFY_AUTHTYPE)]);
        }
        let challenge = self
            .challenge
            .get_or_insert_with(|| (clock.random % 1_000_000_000_000).to_string());
        Outcome::Send(vec![
            Message::response("Success", action_id).with("Challenge", challenge.clone())
        ])
    }

    fn set_events(&mut self, message: &Message, action_id: Option<&str>) -> Message {
        let Some(mask) = message
            .get("EventMask")
            .or_else(|| message.get("Events"))
            .filter(|m| !m.trim().is_empty())
        else {
            return error(action_id, texts::INVALID_EVENT_MASK);
        };
        self.events = ClassSet::parse_events(mask);
        let state = if self.events.is_empty() { "Off" } else { "On" };
        Message::response("Success", action_id).with("Events", state)
    }
}

fn logoff(action_id: Option<&str>) -> Outcome {
    Outcome::SendAndClose(vec![
        Message::response("Goodbye", action_id).with("Message", texts::GOODBYE)
    ])
}

/// `<Action>: <synopsis> (Priv: <classes>)` for each action `write` allows.
fn list_commands(write: ClassSet, action_id: Option<&str>) -> Message {
    let mut reply = Message::response("Success", action_id);
    for kind in ActionKind::ALL.into_iter().filter(|k| k.allowed(write)) {
        reply.push(
            kind.name(),
            format!("{} (Priv: {})", kind.synopsis(), kind.authority()),
        );
    }
    reply
}

/// `<seconds>.<microseconds>` since the epoch.
pub fn timestamp(wall: SystemTime) -> String {
    let since = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:06}", since.as_secs(), since.subsec_micros())
}

#[cfg(test)]
mod tests;
