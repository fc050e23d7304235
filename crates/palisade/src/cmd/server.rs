//! `palisade server`: the REST API (and, as they land, the portal and the
//! admission webhook) over SQLite in the data directory or PostgreSQL.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use palisade_store::Store;
use palisade_store::tokens::Role;

use crate::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "PALISADE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database URL: `postgres://...`, or `sqlite://PATH`. Default: SQLite
    /// in the data directory.
    #[arg(long, env = "PALISADE_DATABASE")]
    pub database: Option<String>,
    /// Seed the demo organisation (teams, environments, workloads, tokens).
    #[arg(long)]
    pub demo: bool,
    /// Seconds in-flight requests get to finish after a shutdown signal.
    #[arg(long, default_value_t = 20)]
    pub grace_seconds: u64,
}

pub fn run(args: ServerArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, global))
}

async fn serve(args: ServerArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let store = match &args.database {
        Some(url) => Store::open(url).await?,
        None => Store::open_in_dir(&global.data_dir()?).await?,
    };
    if args.demo {
        palisade_server::demo::seed(&store)
            .await
            .context("seeding demo data")?;
        eprintln!("demo data seeded; demo tokens:");
        for (name, role, team, secret) in palisade_server::demo::DEMO_TOKENS {
            eprintln!(
                "  {secret:<20} {:<9} {}{}",
                role.as_str(),
                name,
                team.map(|t| format!(" [{t}]")).unwrap_or_default()
            );
        }
    }
    // The first administrator: from PALISADE_ADMIN_TOKEN, so deployments can
    // provision it from a secret store.
    if let Ok(secret) = std::env::var("PALISADE_ADMIN_TOKEN") {
        if secret.len() < 16 {
            anyhow::bail!("PALISADE_ADMIN_TOKEN must be at least 16 characters");
        }
        store
            .insert_token("bootstrap-admin", Role::Admin, None, &secret)
            .await?;
    }
    let listener = palisade_server::bind(args.listen).await?;
    let state = palisade_server::AppState::new(store)?;
    eprintln!("palisade server listening on http://{}", args.listen);
    palisade_server::serve(
        listener,
        state,
        shutdown_signal(),
        Duration::from_secs(args.grace_seconds),
    )
    .await?;
    eprintln!("palisade server stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
