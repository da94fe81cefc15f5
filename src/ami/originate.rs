//! AMI `Originate` (edge): a channel string (`PJSIP/6001`, `PJSIP/NUMBER@TRUNK`, or pbx's own
//! `endpoint/6001` and `trunk/NAME/NUMBER`) is rung through the one originate of
//! `call::originate`, and on answer runs the dialplan at Context/Exten/Priority with the
//! `Variable`s set. Synchronous, the answer waits for the outcome ("Originate successfully
//! queued" once answered, "Originate failed" otherwise); with `Async: true` it comes at once and
//! the outcome follows as an `OriginateResponse` event (class call) carrying the ActionID.
//!
//! Asterisk's `Reason` codes are its control frame numbers: 4 answered, 5 busy, 8 congestion,
//! 3 rang without answer, 1 hung up, 0 failed before ringing.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;

use super::message::Message;
use super::perform::AmiContext;
use crate::call::originate::OriginateRequest;
use crate::call::ControlCommand;
use crate::channel::{ChannelId, ChannelState};
use crate::events::{PbxEvent, Read, Subscription};

/// How long the outcome is awaited beyond the ring time (answering takes a moment).
const OUTCOME_GRACE: Duration = Duration::from_secs(10);

/// Ring time when `Timeout` is absent (Asterisk's 30 s).
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Texts of Originate's answers, as Asterisk words them.
pub mod texts {
    /// The call was answered (or, with Async, the originate started).
    pub const QUEUED: &str = "Originate successfully queued";
    /// Nothing answered.
    pub const FAILED: &str = "Originate failed";
    /// No `Channel` header.
    pub const NO_CHANNEL: &str = "Channel not specified";
    /// A channel string that names no endpoint or trunk.
    pub const BAD_CHANNEL: &str = "Invalid channel";
    /// Neither Exten nor Application.
    pub const NO_EXTEN: &str = "Exten not specified";
    /// A Priority that is not a number from 1.
    pub const BAD_PRIORITY: &str = "Invalid priority";
    /// A Timeout that is not a number of milliseconds.
    pub const BAD_TIMEOUT: &str = "Invalid timeout";
}

/// An Originate action with its headers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginateAction {
    /// The channel string as written (`PJSIP/6001`), for OriginateResponse.
    pub channel: String,
    /// What pbx's originate calls: `endpoint/6001` or `trunk/NAME/NUMBER`.
    pub endpoint: String,
    /// Context (`default` when absent, as in Asterisk).
    pub context: String,
    /// Extension.
    pub exten: String,
    /// Step, counting from 1.
    pub priority: usize,
    /// Caller ID name and number.
    pub caller_id: (String, String),
    /// Ring time.
    pub timeout: Duration,
    /// `Variable` headers, each `name=value`, commas separating several.
    pub variables: Vec<(String, String)>,
    /// `Async: true`.
    pub is_async: bool,
    /// `ChannelId`: the id (Uniqueid) the called channel gets.
    pub channel_id: Option<String>,
    /// `Application(Data)` to run on the answered channel instead of an extension.
    pub app_step: Option<String>,
}

impl OriginateAction {
    /// Reads the headers; `Err` holds the error text.
    pub fn parse(message: &Message) -> Result<OriginateAction, &'static str> {
        let header = |name: &str| message.get(name).map(str::trim).filter(|v| !v.is_empty());
        let channel = header("Channel").ok_or(texts::NO_CHANNEL)?;
        let app_step = header("Application")
            .map(|app| format!("{app}({})", header("Data").unwrap_or_default()));
        let endpoint = endpoint_of(channel).ok_or(texts::BAD_CHANNEL)?;
        let exten = match (header("Exten"), &app_step) {
            (Some(exten), _) => exten,
            (None, Some(_)) => "",
            (None, None) => return Err(texts::NO_EXTEN),
        };
        let priority = match header("Priority") {
            None => 1,
            Some(p) => p
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or(texts::BAD_PRIORITY)?,
        };
        let timeout_ms = match header("Timeout") {
            None => DEFAULT_TIMEOUT_MS,
            Some(t) => t.parse::<u64>().map_err(|_| texts::BAD_TIMEOUT)?,
        };
        let variables = message
            .get_all("Variable")
            .flat_map(|v| v.split(','))
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
            .filter(|(name, _)| !name.is_empty())
            .collect();
        Ok(OriginateAction {
            channel: channel.to_owned(),
            endpoint,
            context: header("Context").unwrap_or("default").to_owned(),
            exten: exten.to_owned(),
            priority,
            caller_id: parse_caller_id(header("CallerID").unwrap_or_default()),
            timeout: Duration::from_millis(timeout_ms.clamp(1_000, 86_400_000)),
            variables,
            is_async: header("Async").is_some_and(is_true),
            channel_id: header("ChannelId").map(str::to_owned),
            app_step,
        })
    }
}

/// Asterisk's `ast_true`.
fn is_true(value: &str) -> bool {
    ["yes", "true", "y", "t", "1", "on"]
        .iter()
        .any(|t| value.eq_ignore_ascii_case(t))
}

/// pbx's originate target for an AMI channel string.
pub fn endpoint_of(channel: &str) -> Option<String> {
    let (tech, rest) = channel.split_once('/')?;
    if rest.is_empty() {
        return None;
    }
    match tech.to_ascii_lowercase().as_str() {
        "endpoint" | "trunk" => Some(channel.to_owned()),
        "pjsip" | "sip" => match rest.split_once('@') {
            Some((number, trunk)) if !number.is_empty() && !trunk.is_empty() => {
                Some(format!("trunk/{trunk}/{number}"))
            }
            Some(_) => None,
            None if !rest.contains('/') => Some(format!("endpoint/{rest}")),
            None => None,
        },
        _ => None,
    }
}

/// `"Name" <number>`, `Name <number>` or a bare number.
fn parse_caller_id(text: &str) -> (String, String) {
    match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => (
            text[..open].trim().trim_matches('"').trim().to_owned(),
            text[open + 1..close].trim().to_owned(),
        ),
        _ => (String::new(), text.trim().to_owned()),
    }
}

/// How an originate ended, for the `OriginateResponse` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginateOutcome {
    /// The Originate's ActionID.
    pub action_id: Option<String>,
    /// Whether the far end answered.
    pub answered: bool,
    /// Asterisk's reason code (see the module documentation).
    pub reason: u8,
    /// The channel string of the action.
    pub channel: String,
    /// Where the answered channel went.
    pub context: String,
    /// See [`OriginateOutcome::context`].
    pub exten: String,
    /// The new channel's unique id, once it existed.
    pub uniqueid: Option<String>,
    /// The caller ID the action set: name, number.
    pub caller_id: (String, String),
}

impl OriginateOutcome {
    /// The `OriginateResponse` event.
    pub fn render(&self) -> Message {
        let mut m = Message::event("OriginateResponse").with("Privilege", "call,all");
        if let Some(id) = &self.action_id {
            m.push("ActionID", id.clone());
        }
        let or_null = |s: &str| match s.is_empty() {
            true => "<unknown>".to_owned(),
            false => s.to_owned(),
        };
        m.with(
            "Response",
            if self.answered { "Success" } else { "Failure" },
        )
        .with("Channel", self.channel.clone())
        .with("Context", self.context.clone())
        .with("Exten", self.exten.clone())
        .with("Reason", self.reason.to_string())
        .with(
            "Uniqueid",
            self.uniqueid.clone().unwrap_or_else(|| "<null>".into()),
        )
        .with("CallerIDNum", or_null(&self.caller_id.1))
        .with("CallerIDName", or_null(&self.caller_id.0))
    }
}

/// Asterisk's reason code for a channel that ended with Q.850 `cause` before answering.
fn reason_of_cause(cause: u16) -> u8 {
    match cause {
        17 => 5,
        18 | 19 => 3,
        34 | 38 | 41 | 42 | 44 => 8,
        _ => 1,
    }
}

/// Carries out an Originate: the messages that answer it now.
pub async fn originate(
    context: &Arc<AmiContext>,
    action: OriginateAction,
    action_id: Option<&str>,
) -> Vec<Message> {
    let mut outcome = OriginateOutcome {
        action_id: action_id.map(str::to_owned),
        answered: false,
        reason: 0,
        channel: action.channel.clone(),
        context: action.context.clone(),
        exten: action.exten.clone(),
        uniqueid: None,
        caller_id: action.caller_id.clone(),
    };
    let caller = &action.caller_id.1;
    let request = OriginateRequest {
        endpoint: action.endpoint.clone(),
        context: action.context.clone(),
        exten: action.exten.clone(),
        caller_id: (!caller.is_empty()).then(|| caller.clone()),
        timeout_secs: Some(action.timeout.as_secs().max(1)),
        priority: Some(action.priority),
        variables: action.variables.clone(),
        application: None,
        app_args: Vec::new(),
        channel_id: action.channel_id.clone(),
        app_step: action.app_step.clone(),
    };
    let mut events = context.events.subscribe(Some(context.events.last()));
    let (reply, ringing) = oneshot::channel();
    let sent = context
        .control
        .try_send(ControlCommand::Originate { request, reply });
    let ringing = match sent {
        Ok(()) => ringing.await.ok().and_then(Result::ok),
        Err(_) => None,
    };
    let answer = |ok: bool| {
        let (status, text) = match ok {
            true => ("Success", texts::QUEUED),
            false => ("Error", texts::FAILED),
        };
        vec![Message::response(status, action_id).with("Message", text)]
    };
    let Some(channel) = ringing else {
        tracing::info!(channel = %action.channel, "AMI originate refused");
        if action.is_async {
            context
                .events
                .publish(PbxEvent::OriginateResponse(Box::new(outcome)));
            return answer(true);
        }
        return answer(false);
    };
    outcome.uniqueid = Some(channel.id.0.clone());
    let wait = action.timeout + OUTCOME_GRACE;
    if action.is_async {
        let bus = context.events.clone();
        tokio::spawn(async move {
            let (answered, reason) = watch(&mut events, &channel.id, wait).await;
            outcome.answered = answered;
            outcome.reason = reason;
            bus.publish(PbxEvent::OriginateResponse(Box::new(outcome)));
        });
        return answer(true);
    }
    let (answered, _) = watch(&mut events, &channel.id, wait).await;
    answer(answered)
}

/// Follows channel `id` until it is answered (true, 4) or ends (false, its reason); gives up
/// after `wait`.
async fn watch(events: &mut Subscription, id: &ChannelId, wait: Duration) -> (bool, u8) {
    let followed = tokio::time::timeout(wait, async {
        loop {
            match events.next().await {
                Read::Event(published) => match &published.event {
                    PbxEvent::ChannelStateChanged { channel }
                        if channel.id == *id && channel.state == ChannelState::Up =>
                    {
                        return (true, 4)
                    }
                    PbxEvent::ChannelDestroyed { channel, cause, .. } if channel.id == *id => {
                        return (false, reason_of_cause(*cause))
                    }
                    _ => {}
                },
                Read::Lost { .. } | Read::Pending => {}
            }
        }
    })
    .await;
    followed.unwrap_or((false, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_strings_name_endpoints_and_trunks() {
        assert_eq!(endpoint_of("PJSIP/6001").as_deref(), Some("endpoint/6001"));
        assert_eq!(
            endpoint_of("PJSIP/0123@provider").as_deref(),
            Some("trunk/provider/0123")
        );
        assert_eq!(
            endpoint_of("endpoint/6002").as_deref(),
            Some("endpoint/6002")
        );
        for bad in ["6001", "PJSIP/", "IAX2/6001", "PJSIP/@x", "PJSIP/a/b"] {
            assert_eq!(endpoint_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn headers_are_read_with_asterisk_defaults() {
        let m = Message::new()
            .with("Channel", "PJSIP/6001")
            .with("Exten", "8000")
            .with("CallerID", "\"Robot\" <4242>")
            .with("Variable", "A=1")
            .with("Variable", "B=2,C=x=y")
            .with("Async", "true");
        let action = OriginateAction::parse(&m).unwrap();
        assert_eq!(action.context, "default");
        assert_eq!(action.priority, 1);
        assert_eq!(action.timeout, Duration::from_secs(30));
        assert_eq!(action.caller_id, ("Robot".into(), "4242".into()));
        assert_eq!(
            action.variables,
            [
                ("A".into(), "1".into()),
                ("B".into(), "2".into()),
                ("C".into(), "x=y".into())
            ]
        );
        assert!(action.is_async);
        let missing = Message::new().with("Channel", "PJSIP/6001");
        assert_eq!(OriginateAction::parse(&missing), Err(texts::NO_EXTEN));
        let app = missing
            .clone()
            .with("Application", "Playback")
            .with("Data", "hello-world&beep");
        let action = OriginateAction::parse(&app).unwrap();
        assert_eq!(
            action.app_step.as_deref(),
            Some("Playback(hello-world&beep)")
        );
        assert_eq!(action.exten, "");
        let bad = Message::new()
            .with("Channel", "Local/1@x")
            .with("Exten", "1");
        assert_eq!(OriginateAction::parse(&bad), Err(texts::BAD_CHANNEL));
    }

    #[test]
    fn responses_name_the_outcome() {
        let outcome = OriginateOutcome {
            action_id: Some("a1".into()),
            answered: false,
            reason: reason_of_cause(17),
            channel: "PJSIP/6001".into(),
            context: "internal".into(),
            exten: "8000".into(),
            uniqueid: None,
            caller_id: (String::new(), "4242".into()),
        };
        let m = outcome.render();
        assert_eq!(m.get("Event"), Some("OriginateResponse"));
        assert_eq!(m.get("ActionID"), Some("a1"));
        assert_eq!(m.get("Response"), Some("Failure"));
        assert_eq!(m.get("Reason"), Some("5"));
        assert_eq!(m.get("Uniqueid"), Some("<null>"));
        assert_eq!(m.get("CallerIDName"), Some("<unknown>"));
    }
}
