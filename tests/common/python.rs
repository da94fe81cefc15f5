//! A Python client program the tests run (written with a real client library: panoramisk,
//! pyst2, greenswitch...), its stdout read line by line, every wait bounded. Each program
//! prints `READY` when the test may go on and one JSON object with what it saw.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{fixture, require_program, Pbx};

/// Longest a client program may take to print a line (each of its own waits is shorter).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

/// A running client program; killed on drop.
pub struct PythonClient {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl PythonClient {
    /// Runs `python3 tests/fixtures/<script> args...`.
    pub fn start(script: &str, args: &[&str]) -> PythonClient {
        require_program("python3");
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr.txt");
        let mut child = Command::new("python3")
            .arg(fixture(script))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start python3");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        PythonClient {
            child,
            lines,
            stderr,
            _dir: dir,
        }
    }

    /// Fails the test saying `what`, with the program's stderr and the pbx log.
    pub fn failure(&mut self, what: &str, pbx: &Pbx) -> ! {
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        panic!(
            "{what}; client exit {status:?}\nclient stderr:\n{}\npbx log:\n{}",
            std::fs::read_to_string(&self.stderr).unwrap_or_default(),
            pbx.log()
        );
    }

    /// Waits for a line satisfying `wanted` (`what` names it in the failure).
    pub fn line(&mut self, pbx: &Pbx, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(_) => self.failure(&format!("no {what} from the client"), pbx),
            }
        }
    }

    /// Waits for `READY`.
    pub fn ready(&mut self, pbx: &Pbx) {
        self.line(pbx, "READY", |l| l == "READY");
    }

    /// The program's JSON line.
    pub fn report(&mut self, pbx: &Pbx) -> serde_json::Value {
        let line = self.line(pbx, "result", |l| l.starts_with('{'));
        serde_json::from_str(&line).unwrap()
    }

    /// The program's JSON line, once it has exited successfully (within 10 s of printing it).
    pub fn result(mut self, pbx: &Pbx) -> serde_json::Value {
        let report = self.report(pbx);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait().unwrap() {
                Some(status) if status.success() => return report,
                Some(_) => self.failure("the client failed", pbx),
                None if Instant::now() > deadline => self.failure("the client did not exit", pbx),
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for PythonClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
