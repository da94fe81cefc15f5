//! An outside application in control of a channel (edge): `Stasis(app, args)` publishes
//! `StasisStart` and hands the channel to application `app`, which drives it with channel
//! commands (answer, ring, progress, play and control playbacks, enter and leave bridges,
//! continue in the dialplan, hang up) until it sends the channel back to the dialplan or the
//! channel hangs up; then `StasisEnd`. Meanwhile the call task handles the dialog, the media
//! (playbacks, key presses, inactivity) or, in a bridge, the room's signals, exactly as the
//! dialplan's own apps do; commands are carried out between two packets.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::app_recording::AppRecording;
use super::command::{refuse, ChannelCommand, CommandError, PlaybackOperation};
use super::conference::{Membership, RoomEnd, RoomSignal};
use super::media_io::MediaEvent;
use super::task::{rearm, Call};
use crate::dialplan::Event;
use crate::events::{PbxEvent, PlaybackSnapshot, PlaybackState};
use crate::media::media_uri::display;
use crate::media::player::Player;
use crate::media::playlist::Playlist;
use crate::media::prompts::MUSIC_ON_HOLD;

/// The application commands a channel in `Stasis` has received and not yet carried out.
#[derive(Debug, Default)]
pub(super) struct AppCommands {
    queued: VecDeque<ChannelCommand>,
}

impl AppCommands {
    /// Queues `command` for the application loop, which carries it out on its next turn.
    pub(super) fn queue(&mut self, command: ChannelCommand) {
        self.queued.push_back(command);
    }
}

/// One playback of a channel: the first in the queue plays, the others wait.
struct Playback {
    snapshot: PlaybackSnapshot,
    playlist: Playlist,
    /// The player taken out of the media leg while paused.
    paused: Option<Player>,
}

/// What the application has made of the channel: its playbacks and its bridge.
#[derive(Default)]
struct AppSession {
    playbacks: VecDeque<Playback>,
    bridge: Option<Membership>,
    recording: Option<AppRecording>,
    /// Music on hold is playing to the channel.
    moh: bool,
}

impl Call {
    /// Runs `Stasis(app, args)`: `Hangup` once the call has ended, `Done` when a command moved
    /// it elsewhere in the dialplan (the task then starts there).
    pub(super) async fn stasis(&mut self, app: String, args: Vec<String>) -> Event {
        if self.hung_up {
            return Event::Hangup;
        }
        if !self.shared.stasis_apps.is_registered(&app) {
            // As Asterisk's app_stasis: the step fails, STASISSTATUS says so, the next runs.
            tracing::warn!(call = self.id, %app, "Stasis application not registered");
            self.interpreter.set_var("STASISSTATUS", "FAILED".into());
            self.publish_notes();
            return Event::Done;
        }
        self.stasis = Some(Box::default());
        let application = app.clone();
        self.channel.publish(|channel| PbxEvent::StasisStart {
            channel,
            application,
            args,
        });
        tracing::info!(call = self.id, %app, "channel handed to an application");
        let mut session = AppSession::default();
        let event = self.in_application(&mut session).await;
        if let Some(membership) = session.bridge.take() {
            self.leave_room(membership).await;
        }
        self.end_app_recording(&mut session.recording, None);
        self.end_playbacks(&mut session);
        if let Some(left) = self.stasis.take() {
            for command in left.queued {
                refuse(
                    command,
                    CommandError::NotInApplication(self.channel.id().clone()),
                );
            }
        }
        self.channel.publish(|channel| PbxEvent::StasisEnd {
            channel,
            application: app,
        });
        self.interpreter.set_var("STASISSTATUS", "SUCCESS".into());
        self.publish_notes();
        event
    }

    /// Handles the dialog, media and commands until the call ends or leaves the application.
    async fn in_application(&mut self, session: &mut AppSession) -> Event {
        let timer = tokio::time::sleep(Duration::from_secs(86_400));
        tokio::pin!(timer);
        loop {
            self.carry_out_app_commands(session).await;
            if self.hung_up {
                return Event::Hangup;
            }
            if self.redirected {
                return Event::Done;
            }
            let bridged = session.bridge.is_some();
            let media = (!bridged).then(|| self.media.poll_timeout()).flatten();
            rearm(timer.as_mut(), self.next_deadline([media]));
            tokio::select! {
                event = self.events.recv() => match event {
                    None => self.hung_up = true,
                    Some(event) => {
                        if let Some(digit) = Box::pin(self.on_sip_event(event)).await {
                            self.publish_digit(digit);
                            self.recording_digit(&mut session.recording, digit.digit);
                        }
                        if let Some(membership) = session.bridge.as_mut() {
                            self.renegotiate_room(membership).await;
                        }
                    }
                },
                Ok(()) = self.media.readable(), if !bridged => match self.media.receive(Instant::now()) {
                    Some(MediaEvent::Digit(digit)) => {
                        self.publish_digit(digit);
                        self.recording_digit(&mut session.recording, digit.digit);
                    }
                    Some(MediaEvent::RecordingEnded(ended)) => {
                        self.app_recording_ended(&mut session.recording, ended);
                    }
                    _ => {}
                },
                end = room_signal(session.bridge.as_mut()) => match self.on_room_end(end) {
                    RoomSignal::Digit(digit) => self.publish_digit(digit),
                    RoomSignal::Released => {
                        if let Some(membership) = session.bridge.take() {
                            self.leave_room(membership).await;
                        }
                    }
                    RoomSignal::Inactive => {
                        tracing::warn!(call = self.id, "no RTP in the bridge: hanging up");
                        self.hangup(None).await;
                        return Event::Hangup;
                    }
                },
                _ = &mut timer => {
                    let now = Instant::now();
                    if let Some(membership) = session.bridge.as_ref() {
                        if self.pending_ack.is_some() {
                            self.retransmit_2xx(now).await;
                        }
                        if now >= self.last_stats + Duration::from_secs(1) {
                            self.last_stats = now;
                            self.publish_room_stats(membership).await;
                        }
                        continue;
                    }
                    self.on_timers(now).await;
                    match self.media.handle_timeout(now) {
                        Some(MediaEvent::PlaybackDone) => {
                            self.finish_playback(session, PlaybackState::Done, now);
                        }
                        Some(MediaEvent::Inactive) => {
                            tracing::warn!(call = self.id, "no RTP received: hanging up");
                            self.hangup(None).await;
                            return Event::Hangup;
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Carries out the application's queued commands, in order.
    async fn carry_out_app_commands(&mut self, session: &mut AppSession) {
        while let Some(command) = self.stasis.as_mut().and_then(|s| s.queued.pop_front()) {
            if self.hung_up {
                refuse(command, CommandError::HangingUp);
                continue;
            }
            self.carry_out(session, command).await;
        }
    }

    async fn carry_out(&mut self, session: &mut AppSession, command: ChannelCommand) {
        let now = Instant::now();
        match command {
            ChannelCommand::Answer { reply } => {
                self.answer().await;
                let _ = reply.send(Ok(()));
            }
            ChannelCommand::Ring { reply } => {
                if !self.final_sent {
                    self.provisional(180, false).await;
                }
                let _ = reply.send(Ok(()));
            }
            ChannelCommand::Progress { reply } => {
                self.start_early_media().await;
                let _ = reply.send(Ok(()));
            }
            ChannelCommand::Play {
                playback,
                media,
                reply,
            } => {
                let played = self.queue_playback(session, playback, media, now).await;
                let _ = reply.send(played);
            }
            ChannelCommand::ControlPlayback {
                playback,
                operation,
                reply,
            } => {
                let done = self.control_playback(session, &playback, operation, now);
                let _ = reply.send(done);
            }
            ChannelCommand::EnterBridge { bridge, reply } => {
                let entered = self.enter_app_bridge(session, bridge).await;
                let _ = reply.send(entered);
            }
            ChannelCommand::StartMoh { reply } => {
                let started = self.start_moh(session).await;
                let _ = reply.send(started);
            }
            ChannelCommand::StopMoh { reply } => {
                self.stop_moh(session);
                let _ = reply.send(Ok(()));
            }
            ChannelCommand::Mute {
                direction,
                muted,
                reply,
            } => {
                match session.bridge.as_ref() {
                    Some(membership) => self.mute_in_room(membership, direction, muted).await,
                    None => self.media.set_muted(direction, muted),
                }
                let _ = reply.send(Ok(()));
            }
            ChannelCommand::Hold { held, reply } => {
                let done = self.hold(session, held).await;
                let _ = reply.send(done);
            }
            ChannelCommand::Record { request, reply } => {
                let started = if session.bridge.is_some() {
                    Err(CommandError::InBridge(self.channel.id().clone()))
                } else {
                    let playing = !session.playbacks.is_empty();
                    self.start_app_recording(&mut session.recording, request, playing)
                };
                let _ = reply.send(started);
            }
            ChannelCommand::ControlRecording {
                name,
                operation,
                reply,
            } => {
                let done = self.control_app_recording(&mut session.recording, &name, operation);
                let _ = reply.send(done);
            }
            ChannelCommand::LeaveBridge { bridge, reply } => {
                let left = match session.bridge.take() {
                    Some(membership) if membership.bridge == bridge => {
                        self.leave_room(membership).await;
                        Ok(())
                    }
                    other => {
                        session.bridge = other;
                        Err(CommandError::NoSuchBridge(bridge))
                    }
                };
                let _ = reply.send(left);
            }
            other => {
                let channel = self.channel.id().clone();
                self.on_command(&channel, other);
            }
        }
    }

    /// Starts the music on hold in place of the channel's playbacks.
    async fn start_moh(&mut self, session: &mut AppSession) -> Result<(), CommandError> {
        if session.bridge.is_some() {
            return Err(CommandError::InBridge(self.channel.id().clone()));
        }
        let music = self
            .shared
            .prompts
            .get(MUSIC_ON_HOLD)
            .map_err(|_| CommandError::NoSuchMedia(MUSIC_ON_HOLD.to_owned()))?;
        self.end_playbacks(session);
        if !self.answered {
            self.start_early_media().await;
        }
        self.media.play_looping(vec![music], Instant::now());
        session.moh = true;
        self.channel
            .publish(|channel| PbxEvent::ChannelMohStart { channel });
        Ok(())
    }

    /// Puts the channel on hold (music on hold, `ChannelHold`) or takes it off (`ChannelUnhold`).
    async fn hold(&mut self, session: &mut AppSession, held: bool) -> Result<(), CommandError> {
        if held {
            self.start_moh(session).await?;
            self.channel
                .publish(|channel| PbxEvent::ChannelHold { channel });
        } else if session.moh {
            self.stop_moh(session);
            self.channel
                .publish(|channel| PbxEvent::ChannelUnhold { channel });
        }
        Ok(())
    }

    /// Stops the music on hold, if it plays.
    fn stop_moh(&mut self, session: &mut AppSession) {
        if std::mem::take(&mut session.moh) {
            self.media.stop_playback();
            self.channel
                .publish(|channel| PbxEvent::ChannelMohStop { channel });
        }
    }

    /// Sends 183 with our SDP so that media reaches the caller before an answer.
    async fn start_early_media(&mut self) {
        if !self.final_sent && !self.early_media {
            self.provisional(183, true).await;
            self.early_media = true;
        }
    }

    /// Queues playback `id` of `media`; it starts at once when nothing else plays.
    async fn queue_playback(
        &mut self,
        session: &mut AppSession,
        id: String,
        media: Vec<String>,
        now: Instant,
    ) -> Result<PlaybackSnapshot, CommandError> {
        if session.bridge.is_some() {
            return Err(CommandError::InBridge(self.channel.id().clone()));
        }
        let playlist = self
            .shared
            .prompts
            .media(&media)
            .map_err(CommandError::NoSuchMedia)?;
        if playlist.is_empty() {
            return Err(CommandError::NoSuchMedia(String::new()));
        }
        self.stop_moh(session);
        if !self.answered {
            self.start_early_media().await;
        }
        let snapshot = PlaybackSnapshot {
            id,
            media_uri: media.iter().map(|uri| display(uri)).collect(),
            target_uri: format!("channel:{}", self.channel.id()),
            state: PlaybackState::Queued,
        };
        if !self.shared.playbacks.insert(self.channel.id(), &snapshot) {
            return Err(CommandError::PlaybackExists(snapshot.id));
        }
        let starts = session.playbacks.is_empty();
        let mut queued = snapshot.clone();
        if starts {
            queued.state = PlaybackState::Playing;
        }
        session.playbacks.push_back(Playback {
            snapshot,
            playlist,
            paused: None,
        });
        if starts {
            self.start_playback(session, now);
        }
        Ok(queued)
    }

    /// Starts the first queued playback, if any.
    fn start_playback(&mut self, session: &mut AppSession, now: Instant) {
        let Some(first) = session.playbacks.front_mut() else {
            return;
        };
        first.snapshot.state = PlaybackState::Playing;
        self.shared
            .playbacks
            .update(&first.snapshot.id, |p| p.state = PlaybackState::Playing);
        self.media.play_playlist(&first.playlist, now);
        self.channel.events().publish(PbxEvent::PlaybackStarted {
            playback: first.snapshot.clone(),
        });
    }

    /// Ends the playing playback as `state` and starts the next.
    fn finish_playback(&mut self, session: &mut AppSession, state: PlaybackState, now: Instant) {
        let Some(mut finished) = session.playbacks.pop_front() else {
            return;
        };
        self.media.stop_playback();
        self.shared.playbacks.remove(&finished.snapshot.id);
        finished.snapshot.state = state;
        self.channel.events().publish(PbxEvent::PlaybackFinished {
            playback: finished.snapshot,
        });
        self.start_playback(session, now);
    }

    /// Stops the playing playback and forgets the queued ones (leaving the application, or
    /// entering a bridge).
    fn end_playbacks(&mut self, session: &mut AppSession) {
        self.stop_moh(session);
        let playing = session.playbacks.len().min(1);
        for queued in session.playbacks.drain(playing..) {
            self.shared.playbacks.remove(&queued.snapshot.id);
        }
        self.finish_playback(session, PlaybackState::Stopped, Instant::now());
    }

    /// Stops, pauses, unpauses or restarts playback `id`. A queued playback can only be
    /// stopped (it is dropped from the queue).
    fn control_playback(
        &mut self,
        session: &mut AppSession,
        id: &str,
        operation: PlaybackOperation,
        now: Instant,
    ) -> Result<(), CommandError> {
        let Some(index) = session.playbacks.iter().position(|p| p.snapshot.id == id) else {
            return Err(CommandError::NoSuchPlayback(id.to_owned()));
        };
        if index > 0 {
            if operation != PlaybackOperation::Stop {
                return Err(CommandError::PlaybackQueued(id.to_owned()));
            }
            session.playbacks.remove(index);
            self.shared.playbacks.remove(id);
            return Ok(());
        }
        if operation == PlaybackOperation::Stop {
            self.finish_playback(session, PlaybackState::Stopped, now);
            return Ok(());
        }
        let Some(current) = session.playbacks.front_mut() else {
            return Err(CommandError::NoSuchPlayback(id.to_owned()));
        };
        match operation {
            PlaybackOperation::Stop => {}
            PlaybackOperation::Pause => {
                if current.paused.is_none() {
                    current.paused = self.media.pause_playback();
                    current.snapshot.state = PlaybackState::Paused;
                    self.shared
                        .playbacks
                        .update(id, |p| p.state = PlaybackState::Paused);
                }
            }
            PlaybackOperation::Unpause => {
                if let Some(player) = current.paused.take() {
                    self.media.resume_playback(player, now);
                    current.snapshot.state = PlaybackState::Playing;
                    self.shared
                        .playbacks
                        .update(id, |p| p.state = PlaybackState::Playing);
                }
            }
            PlaybackOperation::Restart => {
                current.paused = None;
                current.snapshot.state = PlaybackState::Playing;
                self.shared
                    .playbacks
                    .update(id, |p| p.state = PlaybackState::Playing);
                self.media.play_playlist(&current.playlist, now);
            }
        }
        Ok(())
    }

    /// Moves the channel's media into bridge `bridge`, out of the one it was in.
    async fn enter_app_bridge(
        &mut self,
        session: &mut AppSession,
        bridge: String,
    ) -> Result<(), CommandError> {
        if session.bridge.as_ref().is_some_and(|m| m.bridge == bridge) {
            return Ok(());
        }
        if !self.shared.conferences.contains(&bridge) {
            return Err(CommandError::NoSuchBridge(bridge));
        }
        self.end_playbacks(session);
        self.end_app_recording(&mut session.recording, None);
        if let Some(old) = session.bridge.take() {
            self.leave_room(old).await;
        }
        match self.enter_room(&bridge).await {
            Some(membership) => {
                session.bridge = Some(membership);
                Ok(())
            }
            None => Err(CommandError::BridgeRefused(format!(
                "channel {} could not join bridge {bridge}",
                self.channel.id()
            ))),
        }
    }
}

/// What the room tells a bridged channel; pending forever when it is in no bridge.
async fn room_signal(membership: Option<&mut Membership>) -> RoomEnd {
    match membership {
        Some(membership) => Call::room_signal(membership).await,
        None => std::future::pending().await,
    }
}
