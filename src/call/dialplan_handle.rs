//! The current dialplan, swappable at run time (`pbx ctl dialplan reload`, SIGHUP). New calls
//! take the dialplan current when they start and keep it to their end, so a reload never
//! changes a call in progress; a reload that fails keeps the old dialplan.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::dialplan::{Dialplan, DialplanError};

/// Where the dialplan comes from.
#[derive(Debug, Clone)]
pub enum DialplanSource {
    /// The demo dialplan embedded in the binary.
    Embedded,
    /// A file, re-read on reload.
    File(PathBuf),
}

/// Clonable handle to the current dialplan.
#[derive(Debug, Clone)]
pub struct DialplanHandle {
    current: Arc<RwLock<(Arc<Dialplan>, SystemTime)>>,
    source: DialplanSource,
}

impl DialplanHandle {
    /// Loads the dialplan from `source`.
    pub fn load(source: DialplanSource) -> Result<DialplanHandle, DialplanError> {
        let dialplan = read(&source)?;
        Ok(DialplanHandle {
            current: Arc::new(RwLock::new((Arc::new(dialplan), SystemTime::now()))),
            source,
        })
    }

    /// The dialplan new calls use now.
    pub fn current(&self) -> Arc<Dialplan> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }

    /// When the current dialplan was loaded (start-up or the last successful reload).
    pub fn loaded_at(&self) -> SystemTime {
        self.current.read().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Re-reads the source and swaps it in; on error the current dialplan stays.
    pub fn reload(&self) -> Result<Arc<Dialplan>, DialplanError> {
        let dialplan = Arc::new(read(&self.source)?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) =
            (dialplan.clone(), SystemTime::now());
        Ok(dialplan)
    }
}

fn read(source: &DialplanSource) -> Result<Dialplan, DialplanError> {
    match source {
        DialplanSource::Embedded => Dialplan::embedded(),
        DialplanSource::File(path) => Dialplan::load(path),
    }
}
