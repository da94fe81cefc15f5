//! The README's first command, run as written: `./scripts/run.sh` builds the release binary
//! and starts the PBX with the embedded defaults, which serves 6001/6002 and answers its admin
//! API. Only the listening addresses are moved (through the variables the default config
//! reads) so the test cannot collide with anything on 5060/8088. The release build goes to its
//! own target directory: the test runs while `cargo test` holds the usual one.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, free_port, free_tcp_port, sipp, PASSWORD};

/// The commands of the README's "two commands" block.
fn readme_commands() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## The two commands")
        .nth(1)
        .expect("two commands section");
    let block = section
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("code block");
    block
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readme_run_command_starts_a_pbx_that_registers_6001() {
    let commands = readme_commands();
    assert_eq!(
        commands.len(),
        2,
        "the README must show exactly two commands: {commands:?}"
    );
    assert_eq!(
        commands[1], "./scripts/test.sh",
        "the test command is what CI runs"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (sip_port, api_port) = (free_port(), free_tcp_port());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&commands[0])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", root.join("target/readme-quick-start"))
        .env("SIP_BIND", format!("127.0.0.1:{sip_port}"))
        .env("PBX_API_BIND", format!("127.0.0.1:{api_port}"))
        .env(
            "PBX_REGISTRATIONS_FILE",
            dir.path().join("registrations.json"),
        )
        .env("RTP_PORT_MIN", "46000")
        .env("RTP_PORT_MAX", "46099")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("run.log")).unwrap())
        .process_group(0)
        .spawn()
        .expect("run the README command");
    let health = format!("http://127.0.0.1:{api_port}/api/health");
    // The first run compiles the release binary: allow for it.
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut up = false;
    while Instant::now() < deadline {
        if ureq::get(&health)
            .timeout(Duration::from_secs(2))
            .call()
            .is_ok()
        {
            up = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the README command exited with {status}:\n{}",
                std::fs::read_to_string(dir.path().join("run.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let target = format!("127.0.0.1:{sip_port}").parse().unwrap();
    let registered = up
        && sipp(
            &fixture("sipp/register.xml"),
            target,
            &["-s", "6001", "-au", "6001", "-ap", PASSWORD, "-m", "1"],
        )
        .successful
            == 1;
    let _ = Command::new("kill")
        .args(["-TERM", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    assert!(
        up,
        "the PBX did not come up:\n{}",
        std::fs::read_to_string(dir.path().join("run.log")).unwrap_or_default()
    );
    assert!(
        registered,
        "6001 could not register with the embedded defaults"
    );
}
