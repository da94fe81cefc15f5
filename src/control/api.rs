//! The admin API routes. JSON in and out; every route is read-only for now.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::location::{Location, RegistrationView};
use crate::transport::{TransportStats, TransportStatsView};

/// What the API handlers read.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// Registered contacts.
    pub location: Location,
    /// SIP transport counters.
    pub transport: Arc<TransportStats>,
    /// When the server started, for uptime.
    pub started: Instant,
}

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// Always `ok` when the API answers.
    pub status: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Crate version.
    pub version: String,
}

/// `GET /api/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// SIP transport counters.
    pub sip: TransportStatsView,
    /// Live registered contacts.
    pub registrations: usize,
}

/// Builds the API router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/version", get(version))
        .route("/api/registrations", get(registrations))
        .route("/api/stats", get(stats))
        .with_state(state)
}

async fn health(State(state): State<ApiState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        uptime_secs: state.started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

async fn version() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }))
}

async fn registrations(State(state): State<ApiState>) -> Json<Vec<RegistrationView>> {
    Json(state.location.views(Instant::now()))
}

async fn stats(State(state): State<ApiState>) -> Json<Stats> {
    Json(Stats {
        sip: state.transport.view(),
        registrations: state.location.len(),
    })
}
