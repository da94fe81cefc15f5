//! Tests of the session state machine: logins, permission checks, the Events filter.

use super::*;
use crate::ami::users::{md5_key, User};

fn users() -> Users {
    let loopback = vec!["127.0.0.0/8".parse().unwrap()];
    Users::new(vec![
        User::new(
            "admin",
            "s3cret",
            ClassSet::ALL,
            ClassSet::ALL,
            loopback.clone(),
        ),
        User::new(
            "monitor",
            "watch",
            ClassSet::of(&[Class::Call]),
            ClassSet::of(&[Class::Reporting]),
            loopback,
        ),
    ])
}

fn clock() -> Clock {
    Clock {
        wall: UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456),
        uptime: Duration::from_secs(42),
        random: 123_456_789,
    }
}

fn session() -> Session {
    Session::new(users(), "127.0.0.1".parse().unwrap())
}

fn action(pairs: &[(&'static str, &str)]) -> Message {
    pairs
        .iter()
        .fold(Message::new(), |m, (k, v)| m.with(*k, v.to_string()))
}

fn sent(outcome: Outcome) -> Vec<Message> {
    match outcome {
        Outcome::Send(messages) => messages,
        other => panic!("expected Send, got {other:?}"),
    }
}

fn login(session: &mut Session, user: &str, secret: &str) -> Outcome {
    session.handle_message(
        &action(&[
            ("Action", "Login"),
            ("ActionID", "1"),
            ("Username", user),
            ("Secret", secret),
        ]),
        &clock(),
    )
}

#[test]
fn a_plain_login_is_accepted_then_fully_booted_follows() {
    let mut s = session();
    let reply = sent(login(&mut s, "admin", "s3cret"));
    assert_eq!(
        reply[0].render(),
        b"Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"
    );
    assert_eq!(
        reply[1].render(),
        b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 42\r\nLastReload: 42\r\nStatus: Fully Booted\r\n\r\n"
    );
    assert_eq!(s.user(), Some("admin"));
}

#[test]
fn an_md5_login_needs_the_challenge_it_was_given() {
    let mut s = session();
    let reply = sent(s.handle_message(
        &action(&[
            ("Action", "Challenge"),
            ("AuthType", "MD5"),
            ("ActionID", "c"),
        ]),
        &clock(),
    ));
    assert_eq!(reply[0].get("Response"), Some("Success"));
    assert_eq!(reply[0].get("ActionID"), Some("c"));
    let challenge = reply[0].get("Challenge").unwrap().to_string();
    assert_eq!(challenge, "123456789");
    let wrong = sent(s.handle_message(
        &action(&[
            ("Action", "Login"),
            ("AuthType", "md5"),
            ("Username", "admin"),
            ("Key", &md5_key("other", "s3cret")),
        ]),
        &clock(),
    ));
    assert_eq!(wrong[0].get("Message"), Some(texts::AUTH_FAILED));
    let right = sent(s.handle_message(
        &action(&[
            ("Action", "Login"),
            ("AuthType", "md5"),
            ("Username", "admin"),
            ("Key", &md5_key(&challenge, "s3cret")),
        ]),
        &clock(),
    ));
    assert_eq!(right[0].get("Message"), Some(texts::AUTH_ACCEPTED));
}

#[test]
fn an_md5_login_without_a_challenge_fails() {
    let mut s = session();
    let reply = sent(s.handle_message(
        &action(&[
            ("Action", "Login"),
            ("AuthType", "md5"),
            ("Username", "admin"),
            ("Key", &md5_key("", "s3cret")),
        ]),
        &clock(),
    ));
    assert_eq!(reply[0].get("Response"), Some("Error"));
}

#[test]
fn the_third_failed_login_closes_the_connection() {
    let mut s = session();
    for _ in 0..2 {
        let reply = sent(login(&mut s, "admin", "nope"));
        assert_eq!(
            reply[0].render(),
            b"Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n"
        );
    }
    let Outcome::SendAndClose(last) = login(&mut s, "nobody", "x") else {
        panic!("not closed");
    };
    assert_eq!(last[0].get("Message"), Some(texts::AUTH_FAILED));
    assert_eq!(s.user(), None);
}

#[test]
fn actions_before_login_are_refused_but_logoff_says_goodbye() {
    let mut s = session();
    let reply = sent(s.handle_message(&action(&[("Action", "Ping")]), &clock()));
    assert_eq!(reply[0].get("Message"), Some(texts::AUTH_REQUIRED));
    let Outcome::SendAndClose(bye) = s.handle_message(
        &action(&[("Action", "Logoff"), ("ActionID", "9")]),
        &clock(),
    ) else {
        panic!("Logoff must close");
    };
    assert_eq!(
        bye[0].render(),
        b"Response: Goodbye\r\nActionID: 9\r\nMessage: Thanks for all the fish.\r\n\r\n"
    );
}

#[test]
fn ping_answers_pong_with_a_timestamp_and_echoes_the_action_id() {
    let mut s = session();
    login(&mut s, "admin", "s3cret");
    let reply = sent(s.handle_message(
        &action(&[("action", "PING"), ("actionid", "p-1")]),
        &clock(),
    ));
    assert_eq!(
        reply[0].render(),
        b"Response: Success\r\nActionID: p-1\r\nPing: Pong\r\nTimestamp: 1700000000.123456\r\n\r\n"
    );
}

#[test]
fn unknown_and_missing_actions_get_asterisks_errors() {
    let mut s = session();
    login(&mut s, "admin", "s3cret");
    let reply = sent(s.handle_message(
        &action(&[("Action", "Frobnicate"), ("ActionID", "x")]),
        &clock(),
    ));
    assert_eq!(
        reply[0].render(),
        b"Response: Error\r\nActionID: x\r\nMessage: Invalid/unknown command\r\n\r\n"
    );
    let reply = sent(s.handle_message(&action(&[("ActionID", "y")]), &clock()));
    assert_eq!(reply[0].get("Message"), Some(texts::MISSING_ACTION));
}

#[test]
fn an_action_outside_the_write_classes_is_denied() {
    let mut s = session();
    login(&mut s, "monitor", "watch");
    let reply = sent(s.handle_message(
        &action(&[
            ("Action", "Hangup"),
            ("Channel", "PJSIP/6001-00000000"),
            ("ActionID", "h"),
        ]),
        &clock(),
    ));
    assert_eq!(
        reply[0].render(),
        b"Response: Error\r\nActionID: h\r\nMessage: Permission denied\r\n\r\n"
    );
    let allowed = s.handle_message(
        &action(&[("Action", "CoreShowChannels"), ("ActionID", "l")]),
        &clock(),
    );
    assert_eq!(
        allowed,
        Outcome::Run {
            request: Request::CoreShowChannels,
            action_id: Some("l".into())
        }
    );
}

#[test]
fn events_follow_read_classes_and_the_events_filter() {
    let mut s = session();
    assert!(!s.receives(Class::Call), "nothing before login");
    s.handle_message(
        &action(&[
            ("Action", "Login"),
            ("Username", "admin"),
            ("Secret", "s3cret"),
            ("Events", "call,dtmf"),
        ]),
        &clock(),
    );
    assert!(s.receives(Class::Call) && s.receives(Class::Dtmf));
    assert!(!s.receives(Class::System));
    let reply = sent(s.handle_message(
        &action(&[("Action", "Events"), ("EventMask", "off")]),
        &clock(),
    ));
    assert_eq!(reply[0].get("Events"), Some("Off"));
    assert!(!s.receives(Class::Call));
    let reply = sent(s.handle_message(
        &action(&[("Action", "Events"), ("EventMask", "on")]),
        &clock(),
    ));
    assert_eq!(reply[0].get("Events"), Some("On"));
    assert!(s.receives(Class::System));

    let mut monitor = session();
    let reply = sent(login(&mut monitor, "monitor", "watch"));
    assert_eq!(reply.len(), 1, "no FullyBooted without system read");
    assert!(monitor.receives(Class::Call));
    assert!(!monitor.receives(Class::Dtmf));
}

#[test]
fn list_commands_shows_what_the_user_may_run_with_its_classes() {
    let mut s = session();
    login(&mut s, "monitor", "watch");
    let reply = sent(s.handle_message(&action(&[("Action", "ListCommands")]), &clock()));
    assert_eq!(
        reply[0].get("Ping"),
        Some("Keep the connection alive. (Priv: <none>)")
    );
    assert_eq!(
        reply[0].get("CoreShowChannels"),
        Some("List the live channels. (Priv: system,reporting)")
    );
    assert_eq!(reply[0].get("Hangup"), None);
}
