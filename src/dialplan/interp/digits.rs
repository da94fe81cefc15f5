//! Digits: dialling an extension during `Background`/`WaitExten`, and `Read`.
//!
//! Part of the interpreter, split out by role. Dialling: each digit extends the collected
//! extension; collection goes on while some extension of the current context could still
//! match more digits, each awaited for [`DIGIT_TIMEOUT`], and ends on the first digit after
//! which none could: the call jumps to the matching extension, or to `i`. Read: digits until
//! the maximum, `#`, or the per-digit timeout.

use std::sync::Arc;
use std::time::Duration;

use super::{Action, Interpreter, Waiting};
use crate::dialplan::apps::read::ReadRequest;

/// Time allowed between digits while an extension is being dialled (Asterisk's default).
pub const DIGIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest extension collected from digits (Asterisk's `AST_MAX_EXTENSION`).
const MAX_EXTEN_LEN: usize = 80;

impl Interpreter {
    pub(super) fn collect(&mut self, mut digits: String, digit: char) -> Action {
        digits.push(digit);
        self.collected(digits, false)
    }

    /// Decides what the digits dialled so far lead to.
    pub(super) fn collected(&mut self, digits: String, timed_out: bool) -> Action {
        let dialplan = Arc::clone(&self.dialplan);
        let Some(context) = dialplan.context(&self.pos.context) else {
            return self.hang_up(None);
        };
        let room = digits.chars().count() < MAX_EXTEN_LEN;
        if !timed_out && room && context.can_match_more(&digits) {
            self.waiting = Waiting::Collect(digits);
            return Action::WaitDigit {
                timeout: DIGIT_TIMEOUT,
            };
        }
        if let Some(ext) = context.position(&digits) {
            self.move_to(context.name().to_owned(), &digits, ext);
            return self.run();
        }
        self.ctx.set("INVALID_EXTEN", digits);
        if self.enter_special(context.name().to_owned(), "i") {
            self.run()
        } else {
            self.hang_up(None)
        }
    }

    pub(super) fn read_wait(&mut self, req: ReadRequest, got: String) -> Action {
        let timeout = req.timeout;
        self.waiting = Waiting::ReadDigits(req, got);
        Action::WaitDigit { timeout }
    }

    pub(super) fn read_digit(&mut self, req: ReadRequest, mut got: String, digit: char) -> Action {
        if digit == '#' {
            return self.read_done(req, got, true);
        }
        got.push(digit);
        if got.chars().count() >= req.max_digits {
            return self.read_done(req, got, true);
        }
        self.read_wait(req, got)
    }

    /// Stores what Read collected; READSTATUS is TIMEOUT only when nothing came at all.
    pub(super) fn read_done(&mut self, req: ReadRequest, got: String, ended: bool) -> Action {
        let status = if ended || !got.is_empty() {
            "OK"
        } else {
            "TIMEOUT"
        };
        self.ctx.set(&req.var, got);
        self.ctx.set("READSTATUS", status.to_owned());
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{play, start, wait_digit, HANGUP};
    use super::*;
    use crate::dialplan::Event;

    #[test]
    fn digits_collected_across_prompt_and_wait() {
        let mut c = start("menu", "s");
        assert_eq!(
            c.resume(Event::Started),
            Action::Answer,
            "Background answers first"
        );
        assert_eq!(c.resume(Event::Done), play(&["ivr-menu"], true));
        assert!(c.wants_digits());
        // 1 could still become 12: wait for another digit.
        assert_eq!(c.resume(Event::Digit('1')), wait_digit(5));
        assert_eq!(c.resume(Event::Digit('2')), play(&["twelve"], false));
        assert_eq!(c.location(), ("menu", "12", 1));
        assert!(!c.wants_digits());

        let mut c = start("menu", "s");
        c.resume(Event::Started);
        c.resume(Event::Done);
        assert_eq!(c.resume(Event::PlaybackDone), wait_digit(3));
        assert_eq!(c.resume(Event::Digit('1')), wait_digit(5));
        assert_eq!(
            c.resume(Event::Timeout),
            play(&["one"], false),
            "timeout takes 1"
        );
        assert_eq!(c.resume(Event::PlaybackDone), HANGUP, "fell off the end");

        let mut c = start("menu", "s");
        c.resume(Event::Started);
        c.resume(Event::Done);
        assert_eq!(c.resume(Event::Digit('5')), wait_digit(5));
        assert_eq!(c.resume(Event::Digit('7')), play(&["fifty-7"], false));
        assert_eq!(c.get_var("EXTEN").as_deref(), Some("57"));
    }

    #[test]
    fn invalid_and_timeouts() {
        let mut c = start("menu", "s");
        c.resume(Event::Started);
        let menu = c.resume(Event::Done);
        assert_eq!(
            c.resume(Event::Digit('9')),
            play(&["invalid-option"], false)
        );
        assert_eq!(c.get_var("INVALID_EXTEN").as_deref(), Some("9"));
        assert_eq!(
            c.resume(Event::PlaybackDone),
            menu,
            "back, no second Answer"
        );
        assert_eq!(c.resume(Event::Digit('5')), wait_digit(5));
        assert_eq!(
            c.resume(Event::Timeout),
            play(&["invalid-option"], false),
            "5 alone"
        );

        let mut c = start("bare", "s");
        assert_eq!(c.resume(Event::Started), wait_digit(2));
        assert_eq!(c.resume(Event::Timeout), HANGUP, "no t extension");
        assert_eq!(c.resume(Event::Hangup), Action::Finished, "no h extension");
        let mut c = start("bare", "s");
        c.resume(Event::Started);
        assert_eq!(
            c.resume(Event::Digit('7')),
            HANGUP,
            "no match, no i extension"
        );
    }

    #[test]
    fn read_collects_digits() {
        let mut c = start("flow", "read");
        assert_eq!(c.resume(Event::Started), Action::Answer);
        assert_eq!(c.resume(Event::Done), play(&["enter-pin"], true));
        assert_eq!(c.resume(Event::Digit('1')), wait_digit(3));
        assert_eq!(c.resume(Event::Digit('2')), wait_digit(3));
        assert_eq!(c.resume(Event::Digit('#')), play(&["pin-12"], false));
        assert_eq!(c.get_var("READSTATUS").as_deref(), Some("OK"));

        let mut c = start("flow", "read");
        c.resume(Event::Started);
        c.resume(Event::Done);
        assert_eq!(c.resume(Event::PlaybackDone), wait_digit(3));
        for d in ['1', '2', '3'] {
            c.resume(Event::Digit(d));
        }
        assert_eq!(
            c.resume(Event::Digit('4')),
            play(&["pin-1234"], false),
            "maxdigits"
        );

        let mut c = start("flow", "read");
        c.resume(Event::Started);
        c.resume(Event::Done);
        c.resume(Event::PlaybackDone);
        assert_eq!(c.resume(Event::Timeout), play(&["pin-"], false));
        assert_eq!(c.get_var("READSTATUS").as_deref(), Some("TIMEOUT"));
    }
}
