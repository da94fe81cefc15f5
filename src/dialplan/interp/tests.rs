use super::*;
use crate::dialplan::DialTarget;
use std::path::Path;
use std::time::Duration;

const PLAN: &str = r#"
[context.menu]
"s"   = ["Background(ivr-menu)", "WaitExten(3)"]
"1"   = ["Playback(one)"]
"12"  = ["Playback(twelve)"]
"_5X" = ["Playback(fifty-${EXTEN:1})"]
"i"   = ["Playback(invalid-option)", "Goto(s,1)"]
"dyn" = ["Goto(${NOPE}7,1)"]

[context.bare]
"s"    = ["WaitExten(2)"]
"conf" = ["ConfBridge(${EXTEN})", "Playback(no-room)"]
"8000" = ["Answer()", "Playback(hello-world)", "Hangup()"]
"fall" = ["Answer()", "Answer()"]
"wait" = ["Wait(1.5)", "Ringing()", "Progress()", "Hangup()"]

[context.flow]
"labels" = ["Goto(there)", "Playback(no)", "there: Playback(a,noanswer)", "Goto(6)", "NoOp()", "Playback(b,noanswer)"]
"cond"   = ["GotoIf($[${env:X} > 3]?big:small)", "small: Playback(small,noanswer)", "Hangup()", "big: Playback(big,noanswer)"]
"_999X." = ["Set(N=${EXTEN:3})", "Playback(n-${N}&c-${CALLERID(num)}&${env:X},noanswer)"]
"dial"   = ["Dial(endpoint/6001&trunk/p/${CALLERID(num)}, 20, T)", "GotoIf($[${DIALSTATUS} = BUSY]?busy)", "Playback(failed)", "busy: Hangup(17)"]
"dialg"  = ["Dial(endpoint/6001,,g)", "Playback(after)"]
"loop"   = ["NoOp(spin)", "Goto(1)"]
"read"   = ["Read(PIN,enter-pin,4,3)", "Playback(pin-${PIN})"]
"echo"   = ["Echo()"]
"dyn"    = ["Goto(nowhere${NOPE},s,1)"]
"h"      = ["Playback(bye)", "Set(CLEANED=yes)"]

[context.hloop]
"s" = ["Hangup()"]
"h" = ["NoOp()", "Goto(1)"]
"#;

fn start_with(context: &str, exten: &str, x: &'static str) -> Interpreter {
    let plan = Arc::new(Dialplan::parse(Path::new("t.toml"), PLAN).unwrap());
    let call = CallInfo {
        context: context.into(),
        exten: exten.into(),
        caller_num: "6001".into(),
        caller_name: "Alice".into(),
    };
    Interpreter::new(plan, call, move |n: &str| (n == "X").then(|| x.to_owned())).unwrap()
}

pub(crate) fn start(context: &str, exten: &str) -> Interpreter {
    start_with(context, exten, "5")
}

pub(crate) fn play(sounds: &[&str], interruptible: bool) -> Action {
    Action::Play {
        sounds: sounds.iter().map(|s| s.to_string()).collect(),
        interruptible,
    }
}

pub(crate) fn wait_digit(secs: u64) -> Action {
    Action::WaitDigit {
        timeout: Duration::from_secs(secs),
    }
}

pub(crate) const HANGUP: Action = Action::Hangup { cause: None };

#[test]
fn answer_play_hangup() {
    let mut c = start("bare", "8000");
    assert_eq!(c.resume(Event::Started), Action::Answer);
    assert_eq!(c.resume(Event::Done), play(&["hello-world"], false));
    assert_eq!(c.resume(Event::PlaybackDone), HANGUP);
    assert_eq!(c.resume(Event::Hangup), Action::Finished);
    assert!(c.is_finished());
    assert_eq!(c.resume(Event::Digit('1')), Action::Finished);
}

#[test]
fn goto_by_label_and_number() {
    let mut c = start("flow", "labels");
    assert_eq!(c.resume(Event::Started), play(&["a"], false));
    assert_eq!(c.location(), ("flow", "labels", 3));
    assert_eq!(c.resume(Event::PlaybackDone), play(&["b"], false));
    assert_eq!(c.resume(Event::PlaybackDone), HANGUP);
}

#[test]
fn goto_if_expressions() {
    assert_eq!(
        start_with("flow", "cond", "5").resume(Event::Started),
        play(&["big"], false)
    );
    let mut small = start_with("flow", "cond", "1");
    assert_eq!(small.resume(Event::Started), play(&["small"], false));
    assert_eq!(small.resume(Event::PlaybackDone), HANGUP);
}

#[test]
fn set_and_substitution() {
    let mut c = start("flow", "9995551234");
    let expected = play(&["n-5551234", "c-6001", "5"], false);
    assert_eq!(c.resume(Event::Started), expected);
    assert_eq!(c.get_var("N").as_deref(), Some("5551234"));
    assert_eq!(c.variables().len(), 1);
}

#[test]
fn dial_and_dialstatus() {
    let mut c = start("flow", "dial");
    let dial = Action::Dial {
        targets: vec![
            DialTarget::Endpoint("6001".into()),
            DialTarget::Trunk {
                trunk: "p".into(),
                number: "6001".into(),
            },
        ],
        timeout: Duration::from_secs(20),
        options: "T".into(),
    };
    assert_eq!(c.resume(Event::Started), dial);
    assert_eq!(
        c.resume(Event::Timeout),
        dial,
        "unexpected: same action again"
    );
    let busy = Event::DialResult(DialStatus::Busy);
    assert_eq!(c.resume(busy), Action::Hangup { cause: Some(17) });
    assert_eq!(c.get_var("DIALSTATUS").as_deref(), Some("BUSY"));

    let mut c = start("flow", "dial");
    c.resume(Event::Started);
    let no_answer = Event::DialResult(DialStatus::NoAnswer);
    assert_eq!(c.resume(no_answer), Action::Answer);
    assert_eq!(c.resume(Event::Done), play(&["failed"], false));

    let mut c = start("flow", "dial");
    c.resume(Event::Started);
    let answered = Event::DialResult(DialStatus::Answer);
    assert_eq!(c.resume(answered), HANGUP, "no g: the call is over");

    let mut c = start("flow", "dialg");
    c.resume(Event::Started);
    assert_eq!(
        c.resume(answered),
        play(&["after"], false),
        "g: go on, answered"
    );

    let mut c = start("flow", "dial");
    c.resume(Event::Started);
    assert_eq!(c.resume(Event::Hangup), play(&["bye"], false), "h runs");
    assert_eq!(c.get_var("DIALSTATUS").as_deref(), Some("CANCEL"));
}

#[test]
fn confbridge_ends_with_the_call_or_goes_on_without_a_room() {
    let mut c = start("bare", "conf");
    let join = Action::ConfBridge {
        room: "conf".into(),
    };
    assert_eq!(c.resume(Event::Started), join);
    assert_eq!(c.resume(Event::Hangup), Action::Finished);
    let mut c = start("bare", "conf");
    assert_eq!(c.resume(Event::Started), join);
    assert_eq!(c.resume(Event::Done), play(&["no-room"], false));
}

#[test]
fn hangup_runs_h() {
    let mut c = start("flow", "echo");
    assert_eq!(c.resume(Event::Started), Action::Echo);
    assert_eq!(c.resume(Event::Digit('5')), Action::Echo);
    assert_eq!(c.resume(Event::Hangup), play(&["bye"], false));
    assert_eq!(c.location(), ("flow", "h", 1));
    assert_eq!(
        c.resume(Event::Hangup),
        Action::Finished,
        "media in h ends at once"
    );
    assert_eq!(c.get_var("CLEANED").as_deref(), Some("yes"));
}

#[test]
fn runaway_loops_hang_up() {
    let mut c = start("flow", "loop");
    assert_eq!(c.resume(Event::Started), HANGUP);
    assert_eq!(c.resume(Event::Hangup), play(&["bye"], false));
    let mut c = start("hloop", "s");
    assert_eq!(c.resume(Event::Started), HANGUP);
    assert_eq!(
        c.resume(Event::Hangup),
        Action::Finished,
        "a loop in h ends too"
    );
}

#[test]
fn run_time_goto_failures() {
    let mut c = start("menu", "dyn");
    assert_eq!(c.resume(Event::Started), Action::Answer);
    assert_eq!(c.resume(Event::Done), play(&["invalid-option"], false));
    assert_eq!(c.get_var("INVALID_EXTEN").as_deref(), Some("7"));
    let mut c = start("flow", "dyn");
    assert_eq!(c.resume(Event::Started), HANGUP, "no such context");
}

#[test]
fn signals_waits_and_fall_through() {
    let mut c = start("bare", "wait");
    let wait = Action::Wait {
        duration: Duration::from_millis(1500),
    };
    assert_eq!(c.resume(Event::Started), wait);
    assert_eq!(c.resume(Event::Digit('1')), wait, "digits ignored");
    assert!(!c.wants_digits());
    assert_eq!(c.resume(Event::Timeout), Action::Ringing);
    assert_eq!(c.resume(Event::Done), Action::Progress);
    assert_eq!(c.resume(Event::Done), HANGUP);
    let mut c = start("bare", "fall");
    assert_eq!(c.resume(Event::Started), Action::Answer);
    assert_eq!(
        c.resume(Event::Done),
        HANGUP,
        "second Answer inline, then the end"
    );
}

#[test]
fn entry_errors() {
    fn owned_by_a_task<T: Send + 'static>() {}
    owned_by_a_task::<Interpreter>();
    let plan = Arc::new(Dialplan::parse(Path::new("t.toml"), PLAN).unwrap());
    let call = |context: &str, exten: &str| CallInfo {
        context: context.into(),
        exten: exten.into(),
        caller_num: String::new(),
        caller_name: String::new(),
    };
    let err = Interpreter::new(plan.clone(), call("bare", "7777"), |_: &str| None);
    let expected = RunError::NoSuchExtension {
        context: "bare".into(),
        exten: "7777".into(),
    };
    assert_eq!(err.unwrap_err(), expected);
    let err = Interpreter::new(plan, call("nope", "1"), |_: &str| None);
    assert_eq!(err.unwrap_err(), RunError::NoSuchContext("nope".into()));
}

#[test]
fn notes_tell_each_step_run_and_each_variable_set_in_order() {
    let mut i = start("flow", "99942");
    assert_eq!(
        i.resume(Event::Started),
        play(&["n-42", "c-6001", "5"], false)
    );
    let steps: Vec<Note> = i.take_notes();
    assert_eq!(
        steps,
        vec![
            Note::Step {
                context: "flow".into(),
                exten: "99942".into(),
                priority: 1,
                app: "Set".into(),
                data: "N=${EXTEN:3}".into(),
            },
            Note::VarSet {
                name: "N".into(),
                value: "42".into(),
            },
            Note::Step {
                context: "flow".into(),
                exten: "99942".into(),
                priority: 2,
                app: "Playback".into(),
                data: "n-${N}&c-${CALLERID(num)}&${env:X},noanswer".into(),
            },
        ]
    );
    assert!(i.take_notes().is_empty(), "notes are taken once");
}

#[test]
fn a_dial_result_is_noted_as_the_dialstatus_variable() {
    let mut i = start("flow", "dialg");
    i.resume(Event::Started);
    i.take_notes();
    i.resume(Event::DialResult(DialStatus::Busy));
    let notes = i.take_notes();
    assert_eq!(
        notes.first(),
        Some(&Note::VarSet {
            name: "DIALSTATUS".into(),
            value: "BUSY".into()
        })
    );
    assert!(matches!(notes.get(1), Some(Note::Step { priority: 2, .. })));
}

#[test]
fn a_goto_loop_records_no_more_than_the_note_limit() {
    let mut i = start("flow", "loop");
    assert_eq!(i.resume(Event::Started), HANGUP);
    assert_eq!(i.take_notes().len(), MAX_NOTES);
}

#[test]
fn redirect_runs_from_the_new_position_on_the_next_resume() {
    let mut i = start("flow", "dialg");
    assert!(matches!(i.resume(Event::Started), Action::Dial { .. }));
    i.redirect("bare", "8000", 2).unwrap();
    assert_eq!(i.location(), ("bare", "8000", 2));
    assert_eq!(i.get_var("EXTEN").as_deref(), Some("8000"));
    assert_eq!(i.resume(Event::Started), Action::Answer);
    assert_eq!(i.resume(Event::Done), play(&["hello-world"], false));
    assert!(matches!(
        i.redirect("bare", "nope", 1),
        Err(RunError::NoSuchExtension { .. })
    ));
    assert!(matches!(
        i.redirect("nowhere", "s", 1),
        Err(RunError::NoSuchContext(_))
    ));
}

fn for_application() -> Interpreter {
    let plan = Arc::new(Dialplan::parse(Path::new("t.toml"), PLAN).unwrap());
    let call = CallInfo {
        context: "nowhere".into(),
        exten: "s".into(),
        caller_num: "6001".into(),
        caller_name: "Alice".into(),
    };
    let args = vec!["one".to_string()];
    Interpreter::for_application(plan, call, |_: &str| None, "demo".into(), args)
}

#[test]
fn an_originated_application_channel_starts_in_stasis_and_hangs_up_when_released() {
    let mut i = for_application();
    assert_eq!(
        i.resume(Event::Started),
        Action::Stasis {
            app: "demo".into(),
            args: vec!["one".into()]
        }
    );
    assert_eq!(i.resume(Event::Done), Action::Hangup { cause: None });
}

#[test]
fn an_originated_application_channel_moved_by_its_application_runs_the_dialplan_there() {
    let mut i = for_application();
    i.resume(Event::Started);
    i.redirect("bare", "8000", 2).unwrap();
    assert_eq!(i.resume(Event::Done), play(&["hello-world"], false));
}

#[test]
fn an_originated_application_channel_that_hangs_up_runs_no_h_extension() {
    let mut i = for_application();
    i.resume(Event::Started);
    assert_eq!(i.resume(Event::Hangup), Action::Finished);
}
