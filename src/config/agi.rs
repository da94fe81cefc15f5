//! `[agi]`: where `AGI(program)` finds programs and how long FastAGI may take to connect
//! (Asterisk's `astagidir` and its FastAGI connect timeout), and where the AstDB is saved. Programs run only from `dir`:
//! unset (the default), `AGI(program)` fails with `${AGISTATUS}` = FAILURE.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// `[agi]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgiConfig {
    /// The directory AGI programs are found in (relative to the working directory).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Seconds a FastAGI server may take to accept the connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// The file the AstDB (AGI's DATABASE commands, AMI's DBGet/DBPut/DBDel) is saved in;
    /// unset or empty, it lives in memory only.
    #[serde(default)]
    pub db_file: Option<PathBuf>,
}

impl Default for AgiConfig {
    fn default() -> Self {
        AgiConfig {
            dir: None,
            connect_timeout_secs: default_connect_timeout(),
            db_file: None,
        }
    }
}

impl AgiConfig {
    /// The program directory, `None` when unset or empty.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref().filter(|p| !p.as_os_str().is_empty())
    }

    /// The AstDB file, `None` when unset or empty.
    pub fn db_file(&self) -> Option<&Path> {
        self.db_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// How long a FastAGI connect may take.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }
}

fn default_connect_timeout() -> u64 {
    5
}
