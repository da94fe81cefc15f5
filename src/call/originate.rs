//! Originate (edge): the PBX places a call itself — rings an endpoint's registered contacts
//! (or a number through a trunk) and, when one answers, runs the dialplan for that channel at
//! (context, extension), as Asterisk's `channel originate ... extension` does. Dialling
//! another endpoint's extension there connects two endpoints. The admin API, and later ARI,
//! AMI and the event socket, all call this one originate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::command::{refuse, CommandError};
use super::outgoing::{Bridged, Dialer, LegProgress, OutLeg};
use super::task::{Call, CallShared};
use super::{CallEvent, CallId, SipCommand};
use crate::channel::{ChannelId, ChannelSnapshot, Party};
use crate::dialplan::{CallInfo, DialStatus, DialTarget, Dialplan, Interpreter};
use crate::events::PbxEvent;
use crate::sdp::negotiate;

/// How long an originated call rings when the request does not say.
pub const DEFAULT_RING_SECS: u64 = 30;

/// What to call and where the answered channel goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginateRequest {
    /// Whom to call: `endpoint/6001` or `trunk/NAME/NUMBER`.
    pub endpoint: String,
    /// The dialplan context the answered channel runs in (`internal` when unset).
    #[serde(default = "default_context")]
    pub context: String,
    /// The extension it runs (`s` when unset). With `application`, where the channel
    /// stands (it need not exist) until the application continues it elsewhere.
    #[serde(default = "default_exten")]
    pub exten: String,
    /// An outside application the answered channel is handed to (`Stasis(application,
    /// app_args...)`) instead of running the dialplan; released unmoved, it hangs up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The arguments `StasisStart` carries to the application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_args: Vec<String>,
    /// The caller ID shown to the called party (number); `exten` when unset.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Ring time in seconds.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// The step the answered channel starts at, counting from 1 (1 when unset).
    #[serde(default)]
    pub priority: Option<usize>,
    /// Channel variables set before the dialplan runs (AMI Originate's `Variable`).
    #[serde(default)]
    pub variables: Vec<(String, String)>,
    /// A dialplan app the answered channel runs instead of an extension (AMI Originate's
    /// `Application` and `Data`: `Playback(hello-world)`), in a dialplan of its own; it hangs
    /// up after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_step: Option<String>,
    /// The id the called channel gets (ARI's `channelId`); then only the endpoint's first
    /// contact rings, as one channel can be only one leg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
}

/// Why an originate was refused before anything rang.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginateError {
    /// The endpoint string is neither `endpoint/USER` nor `trunk/NAME/NUMBER`.
    #[error("cannot call {0:?}: expected endpoint/USER or trunk/NAME/NUMBER")]
    BadEndpoint(String),
    /// The endpoint has no registered contact, or the trunk is unknown or disabled.
    #[error("{0} is not reachable (not registered, or the trunk is unknown or disabled)")]
    Unavailable(String),
    /// The context or extension does not exist.
    #[error("{0}")]
    NoSuchExtension(String),
    /// No RTP port was free.
    #[error("no RTP port free for the call")]
    NoPort,
    /// A live channel has the chosen id already.
    #[error("a channel with id {0} exists already")]
    ChannelExists(String),
    /// The application the answered channel would go to has no ARI WebSocket holding it.
    #[error("application {0:?} is not registered (no ARI WebSocket holds it)")]
    NoSuchApplication(String),
    /// The node is draining (`pbx ctl drain`, SIGTERM): it places no new calls.
    #[error("this node is draining: it places no new calls")]
    Draining,
}

/// Everything an originated call task starts with.
#[derive(Debug)]
pub struct OriginateSetup {
    /// The call's id (routed by the SIP task).
    pub id: CallId,
    /// What to do.
    pub request: OriginateRequest,
    /// Events from the SIP task.
    pub events: mpsc::Receiver<CallEvent>,
    /// Answered with the ringing channel, or why nothing rings.
    pub reply: oneshot::Sender<Result<ChannelSnapshot, OriginateError>>,
}

fn default_context() -> String {
    "internal".into()
}

fn default_exten() -> String {
    "s".into()
}

impl OriginateRequest {
    /// The interpreter the answered channel runs: at (context, exten), or handed to the
    /// application; an error when that extension does not exist.
    fn interpreter(
        &self,
        dialplan: Arc<Dialplan>,
        db: Arc<dyn crate::dialplan::Database>,
        caller: &str,
    ) -> Result<Interpreter, OriginateError> {
        let info = CallInfo {
            context: self.context.clone(),
            exten: self.exten.clone(),
            caller_num: caller.to_string(),
            caller_name: caller.to_string(),
        };
        let env = |name: &str| std::env::var(name).ok();
        let no_such = |e: crate::dialplan::RunError| OriginateError::NoSuchExtension(e.to_string());
        if let Some(step) = &self.app_step {
            let one = Dialplan::one_step(step)
                .map_err(|e| OriginateError::NoSuchExtension(e.to_string()))?;
            let info = CallInfo {
                context: crate::dialplan::ONE_STEP_CONTEXT.into(),
                exten: "s".into(),
                ..info
            };
            let mut interpreter = Interpreter::new(Arc::new(one), info, env).map_err(no_such)?;
            interpreter.set_database(db);
            return Ok(interpreter);
        }
        let mut interpreter = match &self.application {
            Some(app) => Interpreter::for_application(
                dialplan,
                info,
                env,
                app.clone(),
                self.app_args.clone(),
            ),
            None => {
                let mut interpreter = Interpreter::new(dialplan, info, env).map_err(no_such)?;
                if let Some(priority) = self.priority.filter(|p| *p > 1) {
                    interpreter
                        .redirect(&self.context, &self.exten, priority)
                        .map_err(no_such)?;
                }
                interpreter
            }
        };
        interpreter.set_database(db);
        for (name, value) in &self.variables {
            interpreter.set_var(name, value.clone());
        }
        Ok(interpreter)
    }

    /// The dial target named by `endpoint`.
    pub fn target(&self) -> Result<DialTarget, OriginateError> {
        let bad = || OriginateError::BadEndpoint(self.endpoint.clone());
        match self.endpoint.split_once('/') {
            Some(("endpoint", user)) if !user.is_empty() && !user.contains('/') => {
                Ok(DialTarget::Endpoint(user.to_string()))
            }
            Some(("trunk", rest)) => match rest.split_once('/') {
                Some((trunk, number)) if !trunk.is_empty() && !number.is_empty() => {
                    Ok(DialTarget::Trunk {
                        trunk: trunk.to_string(),
                        number: number.to_string(),
                    })
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

/// Runs an originated call to its end.
pub async fn run(shared: CallShared, setup: OriginateSetup) {
    let _running = shared.channels.call_started();
    let OriginateSetup {
        id,
        request,
        mut events,
        reply,
    } = setup;
    let ended = SipCommand::Ended { call: id };
    let started = Box::pin(ring(&shared, id, &request, &mut events, reply)).await;
    let Some((answered, interpreter)) = started else {
        let _ = shared.commands.send(ended).await;
        return;
    };
    let caller = request.caller_id.clone().unwrap_or(request.exten.clone());
    let mut call = Call::originated(shared, id, events, *answered, interpreter, caller);
    Box::pin(call.run()).await;
    Box::pin(call.finish()).await;
}

/// Checks the request, rings the target and waits for an answer; `None` when nobody
/// answered (or the request was refused, which `reply` says).
async fn ring(
    shared: &CallShared,
    id: CallId,
    request: &OriginateRequest,
    events: &mut mpsc::Receiver<CallEvent>,
    reply: oneshot::Sender<Result<ChannelSnapshot, OriginateError>>,
) -> Option<(Box<Bridged>, Interpreter)> {
    let caller = request.caller_id.clone().unwrap_or(request.exten.clone());
    let prepared = request.target().and_then(|target| {
        if let Some(app) = request
            .application
            .as_ref()
            .filter(|app| !shared.stasis_apps.is_registered(app))
        {
            return Err(OriginateError::NoSuchApplication(app.clone()));
        }
        if let Some(taken) = request
            .channel_id
            .as_ref()
            .filter(|id| shared.channels.contains(&ChannelId((*id).clone())))
        {
            return Err(OriginateError::ChannelExists(taken.clone()));
        }
        let db = Arc::new(shared.astdb.clone());
        let interpreter = request.interpreter(shared.dialplan.current(), db, &caller)?;
        Ok((target, interpreter))
    });
    let (target, interpreter) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            let _ = reply.send(Err(error));
            return None;
        }
    };
    let dialer = Dialer {
        shared: shared.clone(),
        call: id,
        from: Party {
            number: caller.clone(),
            name: caller,
        },
        caller: None,
        context: request.context.clone(),
        preferred: None,
    };
    let chosen = request.channel_id.clone().map(ChannelId);
    let mut targets: Vec<_> = match &target {
        DialTarget::Endpoint(user) => {
            let mut targets = dialer.endpoint_targets(user, Instant::now());
            if chosen.is_some() {
                targets.truncate(1);
            }
            targets
        }
        DialTarget::Trunk { trunk, number } => {
            dialer.trunk_target(trunk, number).into_iter().collect()
        }
    };
    if let Some(first) = targets.first_mut() {
        first.channel_id = chosen;
    }
    let mut legs = Vec::new();
    for target in targets {
        legs.extend(Box::pin(dialer.start(target)).await);
    }
    let Some(first) = legs.first().and_then(|l| l.channel.snapshot()) else {
        let error = if shared.ports.in_use() >= shared.ports.capacity() {
            OriginateError::NoPort
        } else {
            OriginateError::Unavailable(request.endpoint.clone())
        };
        let _ = reply.send(Err(error));
        return None;
    };
    let _ = reply.send(Ok(first));
    let ring_secs = request.timeout_secs.unwrap_or(DEFAULT_RING_SECS);
    let answered = wait_answer(&dialer, &mut legs, events, Duration::from_secs(ring_secs)).await?;
    Some((Box::new(answered), interpreter))
}

/// Waits for one of `legs` to answer within `timeout`, then connects it and gives up the
/// others; `None` when none did or an operator hung the call up.
async fn wait_answer(
    dialer: &Dialer,
    legs: &mut Vec<OutLeg>,
    events: &mut mpsc::Receiver<CallEvent>,
    timeout: Duration,
) -> Option<Bridged> {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let (winner, response) = loop {
        if Dialer::all_over(legs) {
            return None;
        }
        tokio::select! {
            event = events.recv() => match event? {
                CallEvent::Response(response) => {
                    if let Some(LegProgress::Answered(index, ok)) =
                        Box::pin(dialer.on_response(legs, &response)).await
                    {
                        break (index, ok);
                    }
                }
                CallEvent::RequestTimeout(key) => {
                    if let Some(leg) = legs.iter_mut().find(|l| l.key == *key) {
                        dialer.fail(leg, 408);
                    }
                }
                CallEvent::Hangup { channel, cause } => {
                    for leg in legs.iter().filter(|l| channel.as_deref().is_none_or(|c| c == l.channel.id())) {
                        leg.channel.publish(|channel| PbxEvent::ChannelHangupRequest {
                            channel,
                            cause,
                            source: "operator".into(),
                        });
                    }
                    let all = channel.is_none() || legs.len() == 1;
                    if all {
                        dialer.abandon(legs, DialStatus::Cancel).await;
                        return None;
                    }
                    if let Some(index) = legs.iter().position(|l| channel.as_deref() == Some(l.channel.id())) {
                        dialer.abandon(&mut legs[index..=index], DialStatus::Cancel).await;
                    }
                }
                CallEvent::Command(command) => {
                    let (channel, command) = *command;
                    refuse(command, CommandError::NotAnswered(channel));
                }
                CallEvent::Request(_) | CallEvent::Cancelled => {}
            },
            _ = &mut deadline => {
                tracing::info!(call = dialer.call, "originated call not answered in time");
                dialer.abandon(legs, DialStatus::NoAnswer).await;
                return None;
            }
        }
    };
    let answer = legs.remove(winner);
    dialer.abandon(legs, DialStatus::Cancel).await;
    Box::pin(dialer.connect(answer, response)).await
}

impl Call {
    /// A call whose leg the PBX placed and the far end answered: it runs `interpreter`.
    pub(super) fn originated(
        shared: CallShared,
        id: CallId,
        events: mpsc::Receiver<CallEvent>,
        leg: Bridged,
        interpreter: Interpreter,
        caller: String,
    ) -> Call {
        let Bridged {
            dialog,
            local,
            to,
            media,
            channel,
            ..
        } = leg;
        Call {
            answer_sdp: negotiate::offer(&local),
            shared,
            id,
            inbound: None,
            contact_user: caller.clone(),
            source: to,
            dialog,
            events,
            media,
            local_media: local,
            interpreter,
            channel,
            answered: true,
            early_media: false,
            final_sent: true,
            hung_up: false,
            pending_ack: None,
            last_stats: Instant::now(),
            caller_name: caller.clone(),
            caller,
            transfer: None,
            redirected: false,
            stasis: None,
            async_agi: None,
        }
    }
}
