//! The README's commands, run as written: `./scripts/run.sh` builds the release binary and
//! starts the PBX with the embedded defaults; the quick start's follow-up commands and the
//! console's `pbx ctl ...` commands then work against it, with a phone registered and a call
//! up (which `pbx ctl hangup PJSIP/6001-00000000`, the first channel, ends). Only the listening addresses are moved, through the
//! variables the embedded config reads, so the test cannot collide with anything on
//! 5060/8088. The PBX is stopped by a SIGTERM to its own process id (never a process group).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    fixture, free_port, free_rtp_block, free_tcp_port, sipp, ulaw_rms_dbfs, wait_until, RtpPeer,
    PASSWORD,
};

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The commands of the first `sh` code block after the README heading `heading`, without
/// their comments.
fn readme_block(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split(&format!("\n{heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has no `{heading}` section"));
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("no sh code block under `{heading}`"));
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Parent process ids from /proc, to find what a shell command started.
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(candidate) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{candidate}/stat")) else {
            continue;
        };
        // The fields after the command name (which may hold spaces) in parentheses.
        let after_name = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
        let ppid = after_name.split(' ').nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            found.push(candidate);
        }
    }
    found
}

/// The process running the `pbx` binary at `pid` or below it, with its executable.
fn find_pbx(pid: u32) -> Option<(u32, PathBuf)> {
    let mut queue = vec![pid];
    while let Some(next) = queue.pop() {
        if let Ok(exe) = std::fs::read_link(format!("/proc/{next}/exe")) {
            if exe.file_name().is_some_and(|name| name == "pbx") {
                return Some((next, exe));
            }
        }
        queue.extend(children_of(next));
    }
    None
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
}

/// The README's run command in the background, stopped on drop.
struct RunCommand {
    child: Child,
    log: PathBuf,
}

impl RunCommand {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM to the pbx (a graceful stop), SIGKILL to it and the shell after 15 s.
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        if let Some((pbx, _)) = find_pbx(self.child.id()) {
            signal(pbx, "TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Some((pbx, _)) = find_pbx(self.child.id()) {
            signal(pbx, "KILL");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for RunCommand {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Runs one README line with `sh -c` in the checkout, `path_dir` first on PATH.
fn run_line(line: &str, env: &[(String, String)], path_dir: &Path) -> Output {
    let path = format!(
        "{}:{}",
        path_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(repo_root())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run `{line}`: {e}"))
}

#[test]
fn readme_commands_run_as_written() {
    let two = readme_block("## The two commands");
    assert_eq!(two.len(), 2, "the README must show two commands: {two:?}");
    assert_eq!(
        two[1], "./scripts/test.sh",
        "the test command is what CI runs"
    );
    let quick = readme_block("## Quick start without docker");
    assert_eq!(
        quick[0], two[0],
        "the quick start begins with the run command"
    );
    let console = readme_block("Check it from a console on the PBX machine:");
    assert!(
        console.iter().all(|l| l.starts_with("pbx ctl ")),
        "{console:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (sip_port, api_port, rtp_min) = (free_port(), free_tcp_port(), free_rtp_block());
    let env: Vec<(String, String)> = [
        ("SIP_BIND", format!("127.0.0.1:{sip_port}")),
        ("PBX_API_BIND", format!("127.0.0.1:{api_port}")),
        ("PBX_API", format!("http://127.0.0.1:{api_port}")),
        (
            "PBX_REGISTRATIONS_FILE",
            dir.path().join("registrations.json").display().to_string(),
        ),
        ("RTP_PORT_MIN", rtp_min.to_string()),
        ("RTP_PORT_MAX", (rtp_min + 39).to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let log = dir.path().join("run.log");
    let mut run = RunCommand {
        child: Command::new("sh")
            .arg("-c")
            .arg(&two[0])
            .current_dir(repo_root())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the README's run command"),
        log,
    };
    // A clean checkout compiles the release binary first: allow for it.
    let health = format!("http://127.0.0.1:{api_port}/api/health");
    let deadline = Instant::now() + Duration::from_secs(1200);
    while ureq::get(&health)
        .timeout(Duration::from_secs(2))
        .call()
        .is_err()
    {
        if let Ok(Some(status)) = run.child.try_wait() {
            panic!("`{}` exited with {status}:\n{}", two[0], run.log());
        }
        assert!(
            Instant::now() < deadline,
            "the PBX did not come up:\n{}",
            run.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, exe) = find_pbx(run.child.id()).expect("the pbx process under the run command");
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&exe, bin.path().join("pbx")).unwrap();

    let target = format!("127.0.0.1:{sip_port}").parse().unwrap();
    let registered = sipp(
        &fixture("sipp/register.xml"),
        target,
        &["-s", "6001", "-au", "6001", "-ap", PASSWORD, "-m", "1"],
    );
    assert_eq!(registered.successful, 1, "{}", registered.stdout);

    for line in &quick[1..] {
        let out = run_line(line, &env, bin.path());
        assert!(out.status.success(), "`{line}` failed: {out:?}");
        if line.ends_with("ctl registrations") {
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("6001"),
                "`{line}` does not list 6001: {out:?}"
            );
        }
    }

    // A call to the IVR stays up (menu, then waiting for a key) until `pbx ctl hangup PJSIP/6001-00000000`.
    let api = format!("http://127.0.0.1:{api_port}");
    let media = RtpPeer::start();
    let caller = std::thread::spawn({
        let port = media.port.to_string();
        let csv = fixture("sipp/caller_6001.csv").display().to_string();
        move || {
            sipp(
                &fixture("sipp/uac_call.xml"),
                target,
                &[
                    "-s", "8001", "-au", "6001", "-ap", PASSWORD, "-m", "1", "-inf", &csv, "-key",
                    "rtp_port", &port,
                ],
            )
        }
    });
    let up = wait_until(Duration::from_secs(10), || {
        ureq::get(&format!("{api}/api/channels"))
            .call()
            .ok()
            .and_then(|r| r.into_json::<serde_json::Value>().ok())
            .is_some_and(|calls| calls.as_array().is_some_and(|a| a.len() == 1))
    });
    assert!(up, "the IVR call is not listed:\n{}", run.log());
    // Let a second of the menu play before the console hangs the call up.
    media.wait_packets(50, Duration::from_secs(5));
    for line in &console {
        let out = run_line(line, &env, bin.path());
        assert!(out.status.success(), "`{line}` failed: {out:?}");
    }
    let call = caller.join().unwrap();
    let heard: Vec<u8> = media
        .packets()
        .into_iter()
        .flat_map(|p| p.payload)
        .collect();
    assert!(
        heard.len() >= 8000 && ulaw_rms_dbfs(&heard) > -40.0,
        "the caller did not hear the IVR menu: {} bytes at {:.1} dBFS",
        heard.len(),
        ulaw_rms_dbfs(&heard)
    );
    assert_eq!(
        (call.successful, call.failed),
        (1, 0),
        "the call did not end with the PBX's BYE: {}",
        call.stdout
    );

    let status = run.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "the PBX did not stop cleanly on SIGTERM ({status:?}):\n{}",
        run.log()
    );
}
