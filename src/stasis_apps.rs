//! The registry of Stasis applications (edge): an application is registered while at least
//! one ARI WebSocket subscribes to it, as in Asterisk. `Stasis(app)` checks it before handing
//! a channel over (an unregistered app fails the step, `STASISSTATUS=FAILED`), ARI's
//! `/applications` lists it, and when a second WebSocket connects for an app the first one
//! is told (`ApplicationReplaced`) and loses it. A std mutex guards the map for one lookup
//! or change at a time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

/// An application's name as `Stasis(name)` and `?app=name` write it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppName(pub String);

impl std::fmt::Display for AppName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who holds an application: one WebSocket, and where to tell it that it lost the app.
#[derive(Debug)]
struct Holder {
    owner: u64,
    replaced: mpsc::UnboundedSender<AppName>,
}

#[derive(Debug, Default)]
struct Inner {
    apps: Mutex<BTreeMap<AppName, Holder>>,
    owners: AtomicU64,
}

/// Clonable handle on the registered applications.
#[derive(Debug, Clone, Default)]
pub struct StasisApps {
    inner: Arc<Inner>,
}

/// One WebSocket's hold on its applications; dropping it unregisters those it still holds.
#[derive(Debug)]
pub struct Holding {
    apps: StasisApps,
    owner: u64,
    names: Vec<AppName>,
    replaced: mpsc::UnboundedReceiver<AppName>,
}

impl StasisApps {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<AppName, Holder>> {
        self.inner.apps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `names` for a new holder, taking each from whoever held it before (who is
    /// told through its [`Holding::replaced`]).
    pub fn register(&self, names: Vec<AppName>) -> Holding {
        let owner = self.inner.owners.fetch_add(1, Ordering::Relaxed);
        let (tell, replaced) = mpsc::unbounded_channel();
        let mut apps = self.lock();
        for name in &names {
            let previous = apps.insert(
                name.clone(),
                Holder {
                    owner,
                    replaced: tell.clone(),
                },
            );
            if let Some(previous) = previous {
                let _ = previous.replaced.send(name.clone());
            }
        }
        drop(apps);
        Holding {
            apps: self.clone(),
            owner,
            names,
            replaced,
        }
    }

    /// Whether a WebSocket holds `name` now.
    pub fn is_registered(&self, name: &str) -> bool {
        self.lock().contains_key(&AppName(name.to_owned()))
    }

    /// The registered applications, by name.
    pub fn names(&self) -> Vec<AppName> {
        self.lock().keys().cloned().collect()
    }
}

impl Holding {
    /// The applications this holder still holds.
    pub fn names(&self) -> &[AppName] {
        &self.names
    }

    /// Whether this holder still holds `name`.
    pub fn holds(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.0 == name)
    }

    /// Waits until another holder takes one of this holder's applications; that app's name
    /// (it is no longer held here).
    pub async fn replaced(&mut self) -> AppName {
        loop {
            match self.replaced.recv().await {
                Some(name) => {
                    self.names.retain(|n| *n != name);
                    return name;
                }
                None => std::future::pending::<()>().await,
            }
        }
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        let mut apps = self.apps.lock();
        for name in &self.names {
            if apps.get(name).is_some_and(|h| h.owner == self.owner) {
                apps.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str) -> AppName {
        AppName(name.into())
    }

    #[tokio::test]
    async fn an_app_is_registered_while_held_and_a_second_holder_replaces_the_first() {
        let apps = StasisApps::default();
        assert!(!apps.is_registered("demo"));
        let mut first = apps.register(vec![app("demo"), app("other")]);
        assert!(apps.is_registered("demo"));
        let second = apps.register(vec![app("demo")]);
        assert_eq!(first.replaced().await, app("demo"));
        assert!(!first.holds("demo") && first.holds("other"));
        drop(first);
        assert!(apps.is_registered("demo"), "the new holder keeps it");
        assert!(!apps.is_registered("other"));
        drop(second);
        assert!(apps.names().is_empty());
    }
}
