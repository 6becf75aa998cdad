use anyhow::Context;
use photodesk_config::Config;
use photodesk_core::Photodesk;
use photodesk_web::AppState;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    serve(app, &config, "/").await
}

/// Binds, prints the URL of `path` and serves until Ctrl-C or SIGTERM.
pub async fn serve(app: Photodesk, config: &Config, path: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    println!("Photodesk is serving http://{address}{path}");
    tracing::info!(%address, data_dir = %config.data_dir.display(), "serving");
    // AVIF renditions missing (new photos, an interrupted run) are made meanwhile.
    app.spawn_rendition_worker();
    // Scheduled stories go public on time.
    app.spawn_scheduler();
    photodesk_web::serve(
        AppState::new(app, config.base_url.clone())
            .trusting_proxies(config.trusted_proxies.clone()),
        listener,
        shutdown_signal(),
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
