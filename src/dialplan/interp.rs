//! The dialplan interpreter for one call: a state machine with no I/O and no clock.
//!
//! The call task feeds it [`Event`]s through [`Interpreter::resume`] (first `Event::Started`)
//! and carries out the [`Action`] it returns, then reports how that ended. Steps that need no
//! media (Goto, GotoIf, Set, NoOp, Log, Answer on an answered call) run inline. Semantics
//! follow Asterisk's `pbx.c`:
//! - Running off the end of an extension hangs up (Asterisk's `autofallthrough=yes`).
//! - Digits pressed during `Background` or `WaitExten` dial an extension of the current
//!   context: each further digit is awaited for [`DIGIT_TIMEOUT`] (Asterisk's
//!   `TIMEOUT(digit)`, 5 s). As soon as the digits match an extension and no longer extension
//!   could match, the call jumps there (step 1, `${EXTEN}` = the digits). When the digit
//!   timeout expires it jumps to the matching extension, if any; digits that match nothing go
//!   to the `i` extension (with `${INVALID_EXTEN}` set), or hang up when there is none.
//! - `WaitExten` with no digit in time goes to the `t` extension, or hangs up.
//! - [`Event::Hangup`] at any point runs the `h` extension of the current context, if there
//!   is one; there the task answers every media action with `Event::Hangup` at once and the
//!   steps simply go on. Then [`Action::Finished`].
//! - `i`, `t` and `h` are looked up by exact name only, so a catch-all `_.` is not mistaken
//!   for them (a known Asterisk pitfall).
//! - [`MAX_INLINE_STEPS`] steps in a row without waiting on the task (a `Goto` loop) hang up
//!   with a warning instead of spinning; in `h`, the limit counts every step.
//!
//! An event the current action does not expect (a digit during `Playback`, `Timeout` during
//! `Dial`) is ignored: `resume` returns the current action again, unchanged, and the task goes
//! on with it. [`Interpreter::wants_digits`] tells the task when digits matter.

mod digits;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::action::{Action, CallInfo, DialStatus, Event, Note, RecordStatus, RunError};
use super::apps::goto::Jump;
use super::apps::read::ReadRequest;
use super::apps::record::RecordRequest;
use super::apps::Outcome;
use super::model::{Dialplan, Location, ResolveError};
use super::vars::CallCtx;
pub use digits::DIGIT_TIMEOUT;

/// Steps run in a row without any action that waits on the task before the call is hung up.
pub const MAX_INLINE_STEPS: u32 = 10_000;

/// A media outcome that may need the call answered first.
#[derive(Debug, Clone, PartialEq)]
enum Media {
    Play { sounds: Vec<String>, menu: bool },
    Speak { text: String, voice: String },
    Read(ReadRequest),
    Record(RecordRequest),
}

/// What the interpreter waits for.
#[derive(Debug, Clone, PartialEq)]
enum Waiting {
    Start,
    Signal {
        answer: bool,
    },
    AnswerFirst(Media),
    Play,
    Menu,
    WaitExten,
    Collect(String),
    ReadPrompt(ReadRequest),
    ReadDigits(ReadRequest, String),
    Record,
    Wait,
    Echo,
    ConfBridge,
    Stasis,
    /// A channel originated into application `app`: Stasis first, outside the dialplan.
    Application {
        app: String,
        args: Vec<String>,
    },
    /// That channel is in its application; when it lets go unmoved, the channel hangs up.
    ApplicationOnly,
    Agi,
    Socket,
    Dial {
        go_on: bool,
    },
    HangingUp,
    Finished,
}

/// The dialplan interpreter for one call. `Send`, so the call task can own it.
#[derive(Debug)]
pub struct Interpreter {
    dialplan: Arc<Dialplan>,
    ctx: CallCtx,
    pos: Location,
    waiting: Waiting,
    last: Action,
    answered: bool,
    in_h: bool,
    inline_steps: u32,
    /// What happened since [`Interpreter::take_notes`] last ran (at most [`MAX_NOTES`]).
    notes: Vec<Note>,
}

/// Notes kept between two looks by the call task; a `Goto` loop records no more than this.
pub const MAX_NOTES: usize = 256;

impl Interpreter {
    /// Places a call at its starting extension; `env` answers `${env:NAME}`.
    pub fn new(
        dialplan: Arc<Dialplan>,
        call: CallInfo,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Interpreter, RunError> {
        let context = dialplan
            .context(&call.context)
            .ok_or_else(|| RunError::NoSuchContext(call.context.clone()))?;
        let ext = context
            .position(&call.exten)
            .ok_or_else(|| RunError::NoSuchExtension {
                context: call.context.clone(),
                exten: call.exten.clone(),
            })?;
        Ok(Interpreter::placed(
            dialplan,
            call,
            env,
            ext,
            Waiting::Start,
            false,
        ))
    }

    /// Gives the call the database `${DB(family/key)}` reads and `Set(DB(...)=...)` writes.
    pub fn set_database(&mut self, db: std::sync::Arc<dyn super::vars::Database>) {
        self.ctx.set_database(db);
    }

    /// Places a channel originated into outside application `app` (as ARI's originate with
    /// `app` does): its first action is `Stasis(app, args)`, and it stands outside the
    /// dialplan, at `call`'s context and extension which need not exist, until the application
    /// continues it somewhere; released unmoved, it hangs up.
    pub fn for_application(
        dialplan: Arc<Dialplan>,
        call: CallInfo,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
        app: String,
        args: Vec<String>,
    ) -> Interpreter {
        let waiting = Waiting::Application { app, args };
        Interpreter::placed(dialplan, call, env, 0, waiting, true)
    }

    /// An interpreter at step 1 of extension index `ext` of `call`'s context, waiting for
    /// `waiting`.
    fn placed(
        dialplan: Arc<Dialplan>,
        call: CallInfo,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
        ext: usize,
        waiting: Waiting,
        answered: bool,
    ) -> Interpreter {
        let pos = Location {
            context: call.context.clone(),
            exten: call.exten.clone(),
            ext,
            step: 0,
        };
        let ctx = CallCtx::new(
            call.context,
            call.exten,
            call.caller_num,
            call.caller_name,
            Box::new(env),
        );
        Interpreter {
            dialplan,
            ctx,
            pos,
            waiting,
            last: Action::Finished,
            answered,
            in_h: false,
            inline_steps: 0,
            notes: Vec::new(),
        }
    }

    /// Reports what happened and returns what to do next (see the module documentation).
    /// Before the call has started, any event but `Hangup` counts as `Started`.
    pub fn resume(&mut self, event: Event) -> Action {
        let action = self.handle(event);
        self.note_var_changes();
        self.last = action.clone();
        action
    }

    /// Moves the call to step `priority` (from 1) of `exten` in `context`, leaving what it
    /// waited for: the next [`Interpreter::resume`] (with any event but `Hangup`) runs from
    /// there. A blind transfer and "continue in the dialplan" use it.
    pub fn redirect(
        &mut self,
        context: &str,
        exten: &str,
        priority: usize,
    ) -> Result<(), RunError> {
        let found = self
            .dialplan
            .context(context)
            .ok_or_else(|| RunError::NoSuchContext(context.to_string()))?;
        let ext = found
            .position(exten)
            .ok_or_else(|| RunError::NoSuchExtension {
                context: context.to_string(),
                exten: exten.to_string(),
            })?;
        self.move_to(context.to_string(), exten, ext);
        self.pos.step = priority.saturating_sub(1);
        self.waiting = Waiting::Start;
        self.in_h = false;
        self.inline_steps = 0;
        Ok(())
    }

    /// The steps run and variables set since the last call, in order.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    fn note(&mut self, note: Note) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note);
        }
    }

    fn note_var_changes(&mut self) {
        for (name, value) in self.ctx.take_changes() {
            let note = match super::vars::callerid_field(&name) {
                Some(number) => Note::CallerId { number, value },
                None => Note::VarSet { name, value },
            };
            self.note(note);
        }
    }

    /// A variable's value: built-in (`EXTEN`, `CALLERID(num)`, ...), `env:NAME`, or set.
    pub fn get_var(&self, name: &str) -> Option<String> {
        self.ctx.get(name)
    }

    /// Sets a variable from outside the dialplan (an operator, an application); noted like
    /// one set by `Set`.
    pub fn set_var(&mut self, name: &str, value: String) {
        self.ctx.set(name, value);
        self.note_var_changes();
    }

    /// Runs one app outside the dialplan's steps (AGI's `EXEC`) against the call's variables
    /// and returns what it asks for; the position does not move.
    pub fn exec(&mut self, app: &super::apps::App) -> Outcome {
        let outcome = app.run(&mut self.ctx);
        self.note_var_changes();
        outcome
    }

    /// Expands `${...}` and `$[...]` in `text` against the call's variables (AGI's `GET FULL
    /// VARIABLE`); malformed text is refused.
    pub fn expand(&self, text: &str) -> Result<String, super::vars::VarError> {
        Ok(self.ctx.expand(&super::vars::Template::parse(text)?))
    }

    /// Variables set so far (Set, `DIALSTATUS`, `READSTATUS`, Read's targets, ...).
    pub fn variables(&self) -> &BTreeMap<String, String> {
        self.ctx.variables()
    }

    /// Where the call is: context, `${EXTEN}` and the 1-based step.
    pub fn location(&self) -> (&str, &str, usize) {
        (&self.pos.context, &self.pos.exten, self.pos.step + 1)
    }

    /// Whether digits pressed now would be used (menu prompt, digit wait, Read).
    pub fn wants_digits(&self) -> bool {
        matches!(
            self.waiting,
            Waiting::Menu
                | Waiting::WaitExten
                | Waiting::Collect(_)
                | Waiting::ReadPrompt(_)
                | Waiting::ReadDigits(..)
        )
    }

    /// Whether the call has nothing more to do.
    pub fn is_finished(&self) -> bool {
        self.waiting == Waiting::Finished
    }

    fn handle(&mut self, event: Event) -> Action {
        let waiting = std::mem::replace(&mut self.waiting, Waiting::Finished);
        match (waiting, event) {
            (Waiting::Finished, _) => Action::Finished,
            (Waiting::Application { .. } | Waiting::ApplicationOnly, Event::Hangup) => {
                self.finish()
            }
            (w, Event::Hangup) => self.hung_up(w),
            (Waiting::Application { app, args }, _) => {
                self.waiting = Waiting::ApplicationOnly;
                Action::Stasis { app, args }
            }
            (Waiting::ApplicationOnly, _) => self.hang_up(None),
            (Waiting::Start, _) => self.run(),
            (Waiting::Signal { answer }, Event::Done) => {
                self.answered |= answer;
                self.next()
            }
            (Waiting::AnswerFirst(media), Event::Done) => {
                self.answered = true;
                self.media(media, false)
            }
            (Waiting::Play | Waiting::Menu, Event::PlaybackDone) => self.next(),
            (Waiting::Wait, Event::Timeout) => self.next(),
            (Waiting::ConfBridge, Event::Done) => {
                // ConfBridge answers before joining, so a step after a failed join runs answered.
                self.answered = true;
                self.next()
            }
            (Waiting::Stasis | Waiting::Agi | Waiting::Socket, Event::Done) => self.next(),
            (Waiting::Record, Event::Recorded(status)) => self.recorded(status),
            (Waiting::Menu | Waiting::WaitExten, Event::Digit(d)) => self.collect(String::new(), d),
            (Waiting::WaitExten, Event::Timeout) => self.timed_out(),
            (Waiting::Collect(digits), Event::Digit(d)) => self.collect(digits, d),
            (Waiting::Collect(digits), Event::Timeout) => self.collected(digits, true),
            (Waiting::ReadPrompt(req), Event::PlaybackDone) => self.read_wait(req, String::new()),
            (Waiting::ReadPrompt(req), Event::Digit(d)) => self.read_digit(req, String::new(), d),
            (Waiting::ReadDigits(req, got), Event::Digit(d)) => self.read_digit(req, got, d),
            (Waiting::ReadDigits(req, got), Event::Timeout) => self.read_done(req, got, false),
            (Waiting::Dial { go_on }, Event::DialResult(status)) => {
                self.ctx.set("DIALSTATUS", status.as_str().to_owned());
                if status == DialStatus::Answer {
                    self.answered = true;
                    if !go_on {
                        return self.hang_up(None);
                    }
                }
                self.next()
            }
            (w, event) => {
                tracing::debug!(?event, "dialplan: event not expected now, ignored");
                self.waiting = w;
                self.last.clone()
            }
        }
    }

    /// The caller hung up, or the hangup we asked for is done: run `h`, then finish.
    fn hung_up(&mut self, was: Waiting) -> Action {
        if self.in_h {
            return self.next();
        }
        match was {
            Waiting::Dial { .. } => self.ctx.set("DIALSTATUS", "CANCEL".to_owned()),
            Waiting::ReadPrompt(_) | Waiting::ReadDigits(..) => {
                self.ctx.set("READSTATUS", "HANGUP".to_owned())
            }
            Waiting::Record | Waiting::AnswerFirst(Media::Record(_)) => self
                .ctx
                .set("RECORD_STATUS", RecordStatus::Hangup.as_str().to_owned()),
            _ => {}
        }
        self.in_h = true;
        self.inline_steps = 0;
        let h = self
            .dialplan
            .context(&self.pos.context)
            .and_then(|c| c.exact("h"));
        match h {
            Some(ext) => {
                self.move_to(self.pos.context.clone(), "h", ext);
                self.run()
            }
            None => self.finish(),
        }
    }

    fn finish(&mut self) -> Action {
        self.waiting = Waiting::Finished;
        Action::Finished
    }

    fn hang_up(&mut self, cause: Option<u16>) -> Action {
        if self.in_h {
            return self.finish();
        }
        self.waiting = Waiting::HangingUp;
        Action::Hangup { cause }
    }

    fn move_to(&mut self, context: String, exten: &str, ext: usize) {
        self.ctx.set_location(&context, exten);
        self.pos = Location {
            context,
            exten: exten.to_owned(),
            ext,
            step: 0,
        };
    }

    fn next(&mut self) -> Action {
        self.pos.step += 1;
        self.run()
    }

    /// Runs steps from the current one until one needs the task.
    fn run(&mut self) -> Action {
        let dialplan = Arc::clone(&self.dialplan);
        loop {
            self.inline_steps += 1;
            if self.inline_steps > MAX_INLINE_STEPS {
                tracing::warn!(
                    context = %self.pos.context,
                    exten = %self.pos.exten,
                    step = self.pos.step + 1,
                    "dialplan: {MAX_INLINE_STEPS} steps without waiting for anything, hanging up"
                );
                return self.hang_up(None);
            }
            let Some(step) = dialplan.step(&self.pos) else {
                return self.hang_up(None);
            };
            self.note_var_changes();
            self.note(Note::Step {
                context: self.pos.context.clone(),
                exten: self.pos.exten.clone(),
                priority: self.pos.step + 1,
                app: step.app().name().to_string(),
                data: app_data(step.call()).to_string(),
            });
            let outcome = step.app().run(&mut self.ctx);
            self.note_var_changes();
            let action = match outcome {
                Outcome::Next => {
                    self.pos.step += 1;
                    continue;
                }
                Outcome::Goto(jump) => match self.jump(&jump) {
                    Some(action) => return action,
                    None => continue,
                },
                Outcome::Answer if self.answered => {
                    self.pos.step += 1;
                    continue;
                }
                Outcome::Answer => self.signal(Action::Answer, true),
                Outcome::Ringing => self.signal(Action::Ringing, false),
                Outcome::Progress => self.signal(Action::Progress, false),
                Outcome::Hangup(cause) => return self.hang_up(cause),
                Outcome::Play {
                    sounds,
                    menu,
                    answer,
                } => self.media(Media::Play { sounds, menu }, answer),
                Outcome::Read(req) => self.media(Media::Read(req), true),
                Outcome::Speak { text, voice } => self.media(Media::Speak { text, voice }, true),
                Outcome::Socket(target) => {
                    self.waiting = Waiting::Socket;
                    Action::Socket(target)
                }
                Outcome::Record {
                    request,
                    answer,
                    skip_unanswered,
                } => {
                    if skip_unanswered && !self.answered {
                        return self.recorded(RecordStatus::Skip);
                    }
                    self.media(Media::Record(request), answer)
                }
                Outcome::WaitExten(timeout) => {
                    self.waiting = Waiting::WaitExten;
                    Action::WaitDigit { timeout }
                }
                Outcome::Wait(duration) => {
                    self.waiting = Waiting::Wait;
                    Action::Wait { duration }
                }
                Outcome::Echo => {
                    self.waiting = Waiting::Echo;
                    Action::Echo
                }
                Outcome::ConfBridge(room) => {
                    self.waiting = Waiting::ConfBridge;
                    Action::ConfBridge { room }
                }
                Outcome::Stasis { app, args } => {
                    self.waiting = Waiting::Stasis;
                    Action::Stasis { app, args }
                }
                Outcome::Agi {
                    request,
                    target,
                    args,
                } => {
                    self.waiting = Waiting::Agi;
                    Action::Agi {
                        request,
                        target,
                        args,
                    }
                }
                Outcome::Dial {
                    targets,
                    timeout,
                    options,
                } => {
                    self.waiting = Waiting::Dial {
                        go_on: options.contains('g'),
                    };
                    Action::Dial {
                        targets,
                        timeout,
                        options,
                    }
                }
            };
            if !self.in_h {
                self.inline_steps = 0;
            }
            return action;
        }
    }

    fn signal(&mut self, action: Action, answer: bool) -> Action {
        self.waiting = Waiting::Signal { answer };
        action
    }

    /// Starts playback or Read, answering first when asked and needed (never in `h`: the call
    /// is already gone).
    fn media(&mut self, media: Media, answer: bool) -> Action {
        if answer && !self.answered && !self.in_h {
            self.waiting = Waiting::AnswerFirst(media);
            return Action::Answer;
        }
        match media {
            Media::Play { sounds, menu } => {
                self.waiting = if menu { Waiting::Menu } else { Waiting::Play };
                Action::Play {
                    sounds,
                    interruptible: menu,
                }
            }
            Media::Speak { text, voice } => {
                self.waiting = Waiting::Play;
                Action::Speak { text, voice }
            }
            Media::Record(request) => {
                self.waiting = Waiting::Record;
                Action::Record(request)
            }
            Media::Read(req) if req.prompts.is_empty() => self.read_wait(req, String::new()),
            Media::Read(req) => {
                let sounds = req.prompts.clone();
                self.waiting = Waiting::ReadPrompt(req);
                Action::Play {
                    sounds,
                    interruptible: true,
                }
            }
        }
    }

    /// Stores how a Record ended and goes on.
    fn recorded(&mut self, status: RecordStatus) -> Action {
        self.ctx.set("RECORD_STATUS", status.as_str().to_owned());
        self.next()
    }

    /// Moves to a jump's destination; `Some(action)` when the call must stop instead.
    fn jump(&mut self, jump: &Jump) -> Option<Action> {
        match self.dialplan.resolve(&self.pos, jump) {
            Ok(to) => {
                self.move_to(to.context, &to.exten, to.ext);
                self.pos.step = to.step;
                None
            }
            Err(ResolveError::NoSuchExtension { context, exten }) => {
                tracing::warn!(%context, %exten, "dialplan: Goto to a missing extension");
                self.ctx.set("INVALID_EXTEN", exten);
                (!self.enter_special(context, "i")).then(|| self.hang_up(None))
            }
            Err(e) => {
                tracing::warn!(context = %self.pos.context, "dialplan: Goto failed: {e}");
                Some(self.hang_up(None))
            }
        }
    }

    /// Moves to special extension `name` (`i`, `t`) of `context`, if it has one.
    fn enter_special(&mut self, context: String, name: &str) -> bool {
        match self.dialplan.context(&context).and_then(|c| c.exact(name)) {
            Some(ext) => {
                self.move_to(context, name, ext);
                true
            }
            None => {
                tracing::debug!(%context, "dialplan: no {name} extension, hanging up");
                false
            }
        }
    }

    /// WaitExten ran out: the `t` extension, or hang up.
    fn timed_out(&mut self) -> Action {
        if self.enter_special(self.pos.context.clone(), "t") {
            self.run()
        } else {
            self.hang_up(None)
        }
    }
}

/// The arguments of an app call as written: `ivr-menu` in `Background(ivr-menu)`.
fn app_data(call: &str) -> &str {
    match (call.find('('), call.rfind(')')) {
        (Some(open), Some(close)) if open < close => call[open + 1..close].trim(),
        _ => "",
    }
}

#[cfg(test)]
pub(crate) mod tests;
