//! The admin API's `[api] token`: with one, every `/api` request (HTTP and the event
//! WebSocket) must present it and `pbx ctl` sends `PBX_API_TOKEN`; ARI keeps its own
//! accounts; a non-loopback bind without a token is a config error.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{write_file, Pbx, PbxOptions};

const TOKEN: &str = "t0ken-for-tests";

fn status(request: ureq::Request) -> (u16, Option<String>) {
    match request.timeout(Duration::from_secs(5)).call() {
        Ok(response) => (response.status(), None),
        Err(ureq::Error::Status(status, response)) => (
            status,
            response.header("WWW-Authenticate").map(str::to_owned),
        ),
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn with_a_token_the_admin_api_answers_only_requests_that_present_it() {
    let pbx = Pbx::start_with(PbxOptions {
        api_token: Some(TOKEN.into()),
        extra_config: common::ari::ARI_USER.into(),
        ..PbxOptions::default()
    });
    let url = |path: &str| format!("{}{path}", pbx.api);
    let (code, challenge) = status(ureq::get(&url("/api/health")));
    assert_eq!(code, 401);
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"pbx\""));
    let wrong = ureq::get(&url("/api/channels")).set("Authorization", "Bearer t0ken-for-test");
    assert_eq!(status(wrong).0, 401);
    let basic = ureq::get(&url("/api/channels")).set("Authorization", "Basic YXBwOnNlY3JldA==");
    assert_eq!(status(basic).0, 401, "ARI's account is not the admin token");
    assert!(
        pbx.get("/api/health").is_ok(),
        "the harness sends the token"
    );
    assert_eq!(
        status(ureq::get(&url(&format!("/api/stats?token={TOKEN}")))).0,
        200
    );

    let health = pbx.ctl(&["health"]);
    assert!(health.status.success(), "{health:?}");
    let bare = Command::new(env!("CARGO_BIN_EXE_pbx"))
        .args(["ctl", "--api", &pbx.api, "health"])
        .env_remove("PBX_API_TOKEN")
        .output()
        .unwrap();
    assert!(!bare.status.success());
    let text = String::from_utf8_lossy(&bare.stderr);
    assert!(
        text.contains("401") && text.contains("PBX_API_TOKEN"),
        "{text}"
    );

    let host = pbx.api.trim_start_matches("http://");
    let ws = format!("ws://{host}/api/events");
    match tungstenite::connect(ws.as_str()) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("the event WebSocket opened without the token: {other:?}"),
    }
    let mut request =
        tungstenite::client::IntoClientRequest::into_client_request(ws.as_str()).unwrap();
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (mut socket, _) = tungstenite::connect(request).expect("the WebSocket with the token");
    socket.close(None).unwrap();

    let ari = ureq::get(&url("/ari/asterisk/ping")).set("Authorization", "Basic YXBwOnNlY3JldA==");
    assert_eq!(status(ari).0, 200, "ARI answers its own accounts");
}

#[test]
fn a_non_loopback_bind_without_a_token_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let open = write_file(
        dir.path(),
        "open.toml",
        "[sip]\nbind = \"127.0.0.1:5060\"\nrealm = \"pbx\"\n\n[api]\nbind = \"0.0.0.0:8088\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_pbx"))
        .arg("check-config")
        .arg(&open)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("open.toml") && text.contains(":6:") && text.contains("token"),
        "{text}"
    );
    let guarded = write_file(
        dir.path(),
        "guarded.toml",
        "[sip]\nbind = \"127.0.0.1:5060\"\nrealm = \"pbx\"\n\n[api]\nbind = \"0.0.0.0:8088\"\ntoken = \"long-random-token\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_pbx"))
        .arg("check-config")
        .arg(&guarded)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
