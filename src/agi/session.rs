//! What one AGI session keeps besides the channel (sans-IO): the AsyncAGI command queue,
//! the command counter, SET AUTOHANGUP's deadline, where SET CONTEXT / EXTENSION / PRIORITY
//! send the channel afterwards, and `${AGISTATUS}`.

use std::collections::VecDeque;
use std::time::Instant;

/// AsyncAGI command lines one channel can have waiting; the `AGI` action is refused beyond.
pub const ASYNC_QUEUE_CAPACITY: usize = 64;

/// AsyncAGI command lines queued by AMI's `AGI` action, with their `CommandID`s.
#[derive(Debug, Default)]
pub struct AsyncQueue {
    queued: VecDeque<(String, Option<String>)>,
}

impl AsyncQueue {
    /// Queues `command`; false (nothing queued) when [`ASYNC_QUEUE_CAPACITY`] wait already.
    pub fn queue(&mut self, command: String, command_id: Option<String>) -> bool {
        if self.queued.len() >= ASYNC_QUEUE_CAPACITY {
            return false;
        }
        self.queued.push_back((command, command_id));
        true
    }

    /// The oldest command line and its `CommandID`.
    pub fn pop(&mut self) -> Option<(String, Option<String>)> {
        self.queued.pop_front()
    }
}

/// `${AGISTATUS}` after a session, as Asterisk sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgiStatus {
    /// The program ended its session.
    Success,
    /// The session could not start or broke.
    Failure,
    /// The program does not exist.
    NotFound,
    /// The channel hung up.
    Hangup,
}

impl AgiStatus {
    /// The variable's value.
    pub fn as_str(self) -> &'static str {
        match self {
            AgiStatus::Success => "SUCCESS",
            AgiStatus::Failure => "FAILURE",
            AgiStatus::NotFound => "NOTFOUND",
            AgiStatus::Hangup => "HANGUP",
        }
    }
}

/// One session's own state.
#[derive(Debug)]
pub struct Session {
    next_command: u64,
    /// SET AUTOHANGUP's deadline.
    pub autohangup: Option<Instant>,
    context: String,
    exten: String,
    priority: Option<usize>,
    moved: bool,
    /// ASYNCAGI BREAK was run.
    pub broken: bool,
}

impl Session {
    /// A session started at `context`, `exten`.
    pub fn new(context: &str, exten: &str) -> Session {
        Session {
            next_command: 1,
            autohangup: None,
            context: context.to_owned(),
            exten: exten.to_owned(),
            priority: None,
            moved: false,
            broken: false,
        }
    }

    /// A new id for the next command (AGIExecStart's `CommandId`).
    pub fn next_command_id(&mut self) -> String {
        let id = self.next_command.to_string();
        self.next_command += 1;
        id
    }

    /// SET CONTEXT.
    pub fn set_context(&mut self, context: String) {
        self.context = context;
        self.moved = true;
    }

    /// SET EXTENSION.
    pub fn set_extension(&mut self, exten: String) {
        self.exten = exten;
        self.moved = true;
    }

    /// SET PRIORITY.
    pub fn set_priority(&mut self, priority: usize) {
        self.priority = Some(priority);
        self.moved = true;
    }

    /// Where the channel goes when the session ends (context, exten, priority from 1), if the
    /// program moved it; priority 1 unless it set one.
    pub fn destination(&self) -> Option<(&str, &str, usize)> {
        self.moved.then(|| {
            (
                self.context.as_str(),
                self.exten.as_str(),
                self.priority.unwrap_or(1),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_and_in_order() {
        let mut queue = AsyncQueue::default();
        for n in 0..ASYNC_QUEUE_CAPACITY {
            assert!(queue.queue(format!("NOOP {n}"), None));
        }
        assert!(!queue.queue("NOOP".into(), None));
        assert_eq!(queue.pop(), Some(("NOOP 0".into(), None)));
    }

    #[test]
    fn a_session_moves_the_channel_only_when_told() {
        let mut session = Session::new("internal", "8010");
        assert_eq!(session.destination(), None);
        assert_eq!(session.next_command_id(), "1");
        assert_eq!(session.next_command_id(), "2");
        session.set_extension("8000".into());
        assert_eq!(session.destination(), Some(("internal", "8000", 1)));
        session.set_priority(3);
        session.set_context("ivr".into());
        assert_eq!(session.destination(), Some(("ivr", "8000", 3)));
    }
}
