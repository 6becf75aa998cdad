//! The web face of Photodesk: public pages, the JSON API and media routes.
//! Handlers only translate HTTP to use-case calls on [`Photodesk`] and back;
//! [`error`] is the one place where a failure becomes a status code.

mod api;
mod assets;
mod auth;
mod editor;
mod error;
mod export;
mod public;
mod templates;

use axum::Router;
pub use export::{file_path as export_file_path, Export, SitePath, StaticFile};
use ipnet::IpNet;
use photodesk_core::Photodesk;
pub use public::PAGE_SIZE;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// The site's name in titles, feeds and structured data.
pub const SITE_NAME: &str = "Photodesk";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: Photodesk,
    templates: Arc<templates::Templates>,
    assets: Arc<assets::Assets>,
    cache: public::PageCache,
    /// Scheme and host for absolute URLs, without a trailing slash; from the
    /// request's `Host` when not configured.
    base_url: Option<Arc<str>>,
    /// Peers whose `X-Forwarded-For` names the client (load balancers).
    trusted_proxies: Arc<[IpNet]>,
}

impl AppState {
    pub fn new(app: Photodesk, base_url: Option<String>) -> Self {
        let assets = assets::Assets::new();
        let templates = templates::Templates::new(&[
            ("assets", assets.urls()),
            ("site_name", SITE_NAME.into()),
        ]);
        AppState {
            app,
            templates: Arc::new(templates),
            assets: Arc::new(assets),
            cache: public::PageCache::new(),
            base_url: base_url.map(Into::into),
            trusted_proxies: Arc::new([]),
        }
    }

    /// Believes `X-Forwarded-For` from these peers, so rate limits see
    /// the client behind a load balancer rather than the balancer.
    pub fn trusting_proxies(mut self, proxies: Vec<IpNet>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }
}

/// The whole site as a router, so tests can drive it without a socket.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(public::routes())
        .merge(editor::routes())
        .nest(
            "/api/v1",
            api::routes().layer(tower_http::compression::CompressionLayer::new()),
        )
        .fallback(public::not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
