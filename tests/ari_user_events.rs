//! ARI user events (`POST /ari/events/user/{eventName}`): the application named gets
//! `ChannelUserevent` with the event's name, its variables and, with `source=channel:ID`,
//! the channel (here a SIPp call in `Stasis(demo)`); an application nobody holds is 404, a
//! source of another scheme 400 and one that does not exist 422.

mod common;

use std::time::Duration;

use common::ari::{AppSocket, ARI_USER};
use common::{call_as_6001, Pbx, PbxOptions, RtpPeer};
use serde_json::{json, Value};

/// POSTs an ARI request as the test's account, with a JSON `body`; the status.
fn post(pbx: &Pbx, path_and_query: &str, body: Value) -> u16 {
    let url = format!("{}/ari{path_and_query}", pbx.api);
    match ureq::post(&url)
        .set("Authorization", "Basic YXBwOnNlY3JldA==")
        .timeout(Duration::from_secs(5))
        .send_json(body)
    {
        Ok(response) => response.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(error) => panic!("POST {path_and_query}: {error}"),
    }
}

#[test]
fn a_user_event_reaches_its_application_with_its_variables_and_channel() {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: ARI_USER.into(),
        ..PbxOptions::default()
    });
    let mut app = AppSocket::connect(&pbx, "app=demo");

    let sent = post(
        &pbx,
        "/events/user/Ping?application=demo",
        json!({"variables": {"order": "42", "who": "test"}}),
    );
    assert_eq!(sent, 204);
    let event = app.expect("ChannelUserevent Ping", |e| {
        e["type"] == "ChannelUserevent" && e["eventname"] == "Ping"
    });
    assert_eq!(event["application"], "demo", "{event}");
    assert_eq!(
        event["userevent"],
        json!({"order": "42", "who": "test"}),
        "{event}"
    );
    assert!(event.get("channel").is_none(), "{event}");

    assert_eq!(
        post(&pbx, "/events/user/Ping?application=nobody", json!({})),
        404
    );
    assert_eq!(
        post(
            &pbx,
            "/events/user/Ping?application=demo&source=video:1",
            json!({})
        ),
        400
    );
    assert_eq!(
        post(
            &pbx,
            "/events/user/Ping?application=demo&source=channel:none",
            json!({})
        ),
        422
    );

    let media = RtpPeer::start();
    let run = std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8003", media.port, &["-m", "1"]));
        let start = app.expect("StasisStart", |e| e["type"] == "StasisStart");
        let channel = start["channel"]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            post(&pbx, &format!("/channels/{channel}/answer"), json!({})),
            204
        );
        let path = format!("/events/user/Seen?application=demo&source=channel:{channel}");
        assert_eq!(post(&pbx, &path, json!({})), 204);
        let event = app.expect("ChannelUserevent Seen", |e| {
            e["type"] == "ChannelUserevent" && e["eventname"] == "Seen"
        });
        assert_eq!(event["channel"]["id"], channel.as_str(), "{event}");
        assert_eq!(event["userevent"], json!({}), "{event}");
        pbx.post(&format!("/api/channels/{channel}/hangup"), json!({}))
            .unwrap_or_else(|e| panic!("hang up: {e}"));
        caller.join().unwrap()
    });
    run.assert_succeeded(1, &pbx);
}
