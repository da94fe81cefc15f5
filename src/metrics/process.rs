//! The process' own CPU time, memory, threads and file descriptors, read from `/proc/self`
//! (proc(5)) at scrape time, under the names Prometheus' client libraries give them
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`, ...), so dashboards made for
//! any exporter read them.

use std::path::Path;

/// Clock ticks per second of the CPU times in `/proc/self/stat` (`USER_HZ`). The kernel
/// reports them in this unit on every architecture Linux userspace sees (it is part of the
/// ABI, independent of the kernel's own `HZ`); Prometheus' procfs library fixes it at 100
/// the same way rather than calling `sysconf(_SC_CLK_TCK)`.
pub const USER_HZ: f64 = 100.0;

/// Why the process figures could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A file under `/proc/self` could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file lacks a field, or has it in a form proc(5) does not describe.
    #[error("{path}: no usable {field}")]
    Field {
        /// The file.
        path: &'static str,
        /// The field.
        field: &'static str,
    },
}

/// One reading of the process figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessSample {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, in bytes.
    pub resident_bytes: u64,
    /// Virtual memory size, in bytes.
    pub virtual_bytes: u64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit of open file descriptors, when it is not unlimited.
    pub max_fds: Option<u64>,
}

const STAT: &str = "/proc/self/stat";
const STATUS: &str = "/proc/self/status";
const LIMITS: &str = "/proc/self/limits";
const FD: &str = "/proc/self/fd";

fn read(path: &'static str) -> Result<String, ProcessError> {
    std::fs::read_to_string(path).map_err(|source| ProcessError::Read { path, source })
}

/// Reads the figures of this process now.
pub fn sample() -> Result<ProcessSample, ProcessError> {
    let cpu_seconds = cpu_seconds(&read(STAT)?)?;
    let status = read(STATUS)?;
    let kib = |field| status_value(&status, field).map(|kib| kib * 1024);
    let open_fds = std::fs::read_dir(Path::new(FD))
        .map_err(|source| ProcessError::Read { path: FD, source })?
        .count() as u64;
    Ok(ProcessSample {
        cpu_seconds,
        resident_bytes: kib("VmRSS")?,
        virtual_bytes: kib("VmSize")?,
        threads: status_value(&status, "Threads")?,
        open_fds,
        max_fds: max_open_files(&read(LIMITS)?)?,
    })
}

/// `utime + stime` of a `/proc/[pid]/stat` line, in seconds. The command name (field 2) is
/// in parentheses and may hold spaces or parentheses itself, so fields are counted from the
/// last `)`: field 3 (state) comes first, utime and stime are fields 14 and 15.
fn cpu_seconds(stat: &str) -> Result<f64, ProcessError> {
    let missing = ProcessError::Field {
        path: STAT,
        field: "utime/stime",
    };
    let (_, rest) = stat.rsplit_once(')').ok_or(ProcessError::Field {
        path: STAT,
        field: "comm",
    })?;
    let mut fields = rest.split_whitespace().skip(14 - 3);
    let mut ticks = || fields.next().and_then(|f| f.parse::<u64>().ok());
    match (ticks(), ticks()) {
        (Some(utime), Some(stime)) => Ok((utime + stime) as f64 / USER_HZ),
        _ => Err(missing),
    }
}

/// The number of a `Name:   value [kB]` line of `/proc/[pid]/status`.
fn status_value(status: &str, field: &'static str) -> Result<u64, ProcessError> {
    status
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name == field).then(|| value.split_whitespace().next()?.parse().ok())?
        })
        .ok_or(ProcessError::Field {
            path: STATUS,
            field,
        })
}

/// The soft limit of the `Max open files` line of `/proc/[pid]/limits`; `None` when it is
/// `unlimited`.
fn max_open_files(limits: &str) -> Result<Option<u64>, ProcessError> {
    let bad = || ProcessError::Field {
        path: LIMITS,
        field: "Max open files",
    };
    let line = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .ok_or_else(bad)?;
    match line.split_whitespace().next().ok_or_else(bad)? {
        "unlimited" => Ok(None),
        soft => soft.parse().map(Some).map_err(|_| bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_counted_from_the_last_parenthesis() {
        let stat = "4242 (pbx (odd) name) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 75 0 0 20 0 9 0 1234 1000000 500 18446744073709551615";
        assert_eq!(cpu_seconds(stat).unwrap(), 3.25);
        assert!(cpu_seconds("4242 (pbx) S 1").is_err());
        assert!(cpu_seconds("no parenthesis").is_err());
    }

    #[test]
    fn status_fields_are_read_by_name() {
        let status = "Name:\tpbx\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t9\n";
        assert_eq!(status_value(status, "VmRSS").unwrap(), 2048);
        assert_eq!(status_value(status, "Threads").unwrap(), 9);
        assert!(status_value(status, "VmSwap").is_err());
    }

    #[test]
    fn the_open_files_limit_is_the_soft_one() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits).unwrap(), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(max_open_files(unlimited).unwrap(), None);
        assert!(max_open_files("Max processes 10 10 processes\n").is_err());
    }

    #[test]
    fn this_process_can_be_sampled() {
        let sample = sample().unwrap();
        assert!(sample.resident_bytes > 0);
        assert!(sample.threads >= 1);
        assert!(sample.open_fds >= 3, "stdin, stdout and stderr at least");
    }
}
