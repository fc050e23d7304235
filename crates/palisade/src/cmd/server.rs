//! `palisade server`: the REST API (and, as they land, the portal and the
//! admission webhook) over SQLite in the data directory or PostgreSQL.

use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// The policy bundle (a directory or a bundle file); default: the
    /// built-in policy library. Its environments are the server's.
    #[arg(long, env = "PALISADE_POLICY")]
    pub policy: Option<PathBuf>,
    /// A trusted public key for attestations, `NAME=PATH` (PEM); repeatable.
    #[arg(long = "trust-key", value_name = "NAME=PATH")]
    pub trust_keys: Vec<String>,
    /// A trusted keyless signer for Sigstore bundles,
    /// `IDENTITY=OIDC-ISSUER`; repeatable.
    #[arg(long = "trust-identity", value_name = "IDENTITY=ISSUER")]
    pub trust_identities: Vec<String>,
    /// The Sigstore trusted root (`trusted_root.json`); default: the
    /// public-good instance's, built in.
    #[arg(long)]
    pub sigstore_trusted_root: Option<PathBuf>,
    /// OSV records to import at start (a file, a directory or a zip).
    #[arg(long)]
    pub advisories: Option<PathBuf>,
    /// Background worker tasks in this process (0: none; another process
    /// on the same PostgreSQL does the work).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// TLS certificate chain (PEM); with --tls-key, the server speaks HTTPS
    /// (required for the Kubernetes admission webhook).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Download and import these ecosystems' OSV exports periodically
    /// (comma-separated OSV ecosystem names; none: no sync).
    #[arg(long, value_delimiter = ',')]
    pub sync_ecosystems: Vec<String>,
    /// Minutes between advisory syncs.
    #[arg(long, default_value_t = 60)]
    pub sync_minutes: u64,
    /// Where the OSV exports are downloaded from (`<URL>/<ecosystem>/all.zip`).
    #[arg(long, default_value = palisade_advisory::sync::DEFAULT_BASE_URL)]
    pub sync_url: String,
    /// Seconds a worker holds a job before another process may take it over
    /// (a killed process's jobs run again after this).
    #[arg(long, default_value_t = 30)]
    pub job_lease_seconds: u64,
    /// Seconds between sweeps (expired exceptions, audit of what runs).
    #[arg(long, default_value_t = 300)]
    pub sweep_seconds: u64,
    /// Environments that are production (prioritisation and the portal use
    /// this).
    #[arg(long, value_delimiter = ',', default_value = "prod,production")]
    pub production: Vec<String>,
    /// A registry the `fetch-evidence` job reaches over plain HTTP
    /// (`host[:port]`); repeatable. Loopback registries always are.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
    /// The Docker configuration with registry credentials (default:
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
    #[arg(long, env = "PALISADE_DOCKER_CONFIG", value_name = "FILE")]
    pub docker_config: Option<PathBuf>,
    /// Contact HOST for registry NAME (a mirror, or a registry whose API
    /// host differs from its name); repeatable.
    #[arg(long = "registry-endpoint", value_name = "NAME=HOST")]
    pub registry_endpoints: Vec<String>,
    /// Never contact registries: images the store does not know are not
    /// looked up (no `fetch-evidence` jobs).
    #[arg(long)]
    pub no_registry: bool,
    /// External scanners the `scan` job runs (`POST /api/v1/scans/run`),
    /// a TOML file (docs/scanners.md); without it that endpoint is refused.
    #[arg(long, env = "PALISADE_SCANNERS", value_name = "FILE")]
    pub scanners: Option<PathBuf>,
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
        eprintln!("demo portal users (username / password):");
        for (username, _, role, team, password, _) in palisade_server::demo::DEMO_USERS {
            eprintln!(
                "  {username:<8} {password:<22} {:<9}{}",
                role.as_str(),
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
    let engine = match &args.policy {
        Some(p) => {
            let bundle = palisade_policy::load::load(p)
                .with_context(|| format!("policy bundle {}", p.display()))?;
            palisade_policy::Engine::new(&bundle, palisade_policy::EngineOptions::default())?
        }
        None => palisade_policy::Engine::builtin(palisade_policy::EngineOptions::default())?,
    };
    palisade_server::sync_environments(&store, &engine, &args.production).await?;
    let trust = trust(&args)?;
    if let Some(path) = &args.advisories {
        import_advisories(&store, path).await?;
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(palisade_server::tls_config(c, k).await?),
        _ => None,
    };
    let listener = palisade_server::bind(args.listen).await?;
    let mut state = palisade_server::AppState::with(store, engine, trust)?;
    if !args.sync_ecosystems.is_empty() {
        state.sync = Some(std::sync::Arc::new(palisade_server::worker::SyncConfig {
            base_url: args.sync_url.clone(),
            ecosystems: args.sync_ecosystems.clone(),
            dir: global.data_dir()?.join("advisory-downloads"),
            every: Duration::from_secs(args.sync_minutes.max(1) * 60),
        }));
    }
    if !args.no_registry {
        state.oci = Some(std::sync::Arc::new(registry_client(&args)?));
    }
    if let Some(file) = &args.scanners {
        state.scanners = Some(std::sync::Arc::new(palisade_scanners::Config::load(file)?));
    }
    eprintln!(
        "palisade server listening on {}://{}",
        if tls.is_some() { "https" } else { "http" },
        args.listen
    );
    let workers = (args.workers > 0).then(|| palisade_server::worker::WorkerOptions {
        workers: args.workers,
        sweep_every: Duration::from_secs(args.sweep_seconds.max(1)),
        lease: Duration::from_secs(args.job_lease_seconds.max(1)),
    });
    // The portal, beside the API; its cookies are Secure when we speak TLS.
    let portal = palisade_portal::routes_tls(tls.is_some());
    palisade_server::serve_tls(
        listener,
        tls,
        state,
        portal,
        shutdown_signal(),
        Duration::from_secs(args.grace_seconds),
        workers,
    )
    .await?;
    eprintln!("palisade server stopped");
    Ok(ExitCode::SUCCESS)
}

/// The registry client of the `fetch-evidence` job.
fn registry_client(args: &ServerArgs) -> anyhow::Result<palisade_oci::Client> {
    let mut endpoints = std::collections::BTreeMap::new();
    for e in &args.registry_endpoints {
        let (name, host) = e
            .split_once('=')
            .with_context(|| format!("--registry-endpoint {e:?}: expected NAME=HOST"))?;
        endpoints.insert(name.to_owned(), host.to_owned());
    }
    let options = palisade_oci::ClientOptions {
        insecure_registries: args.insecure_registries.clone(),
        docker_config: match &args.docker_config {
            Some(p) => palisade_oci::DockerConfigSource::Path(p.clone()),
            None => palisade_oci::DockerConfigSource::Default,
        },
        endpoints,
        ..palisade_oci::ClientOptions::default()
    };
    palisade_oci::Client::new(options).context("registry client (or start with --no-registry)")
}

fn trust(args: &ServerArgs) -> anyhow::Result<palisade_server::trust::Trust> {
    let mut trust = palisade_server::trust::Trust::default();
    for spec in &args.trust_keys {
        let (name, path) = spec
            .split_once('=')
            .with_context(|| format!("--trust-key {spec:?}: expected NAME=PATH"))?;
        let pem = std::fs::read(path).with_context(|| format!("cannot read key {path}"))?;
        let key = palisade_attest::PublicKey::from_pem(&pem, None)
            .with_context(|| format!("key {path}"))?;
        trust.keys.push((name.to_owned(), key));
    }
    for spec in &args.trust_identities {
        let (identity, issuer) = spec
            .split_once('=')
            .with_context(|| format!("--trust-identity {spec:?}: expected IDENTITY=ISSUER"))?;
        trust
            .identities
            .push((identity.to_owned(), issuer.to_owned()));
    }
    trust.sigstore = Some(match &args.sigstore_trusted_root {
        Some(p) => palisade_attest::sigstore::BundleVerifier::new(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("trusted root {}", p.display()))?,
        None => palisade_attest::sigstore::BundleVerifier::public_good()?,
    });
    Ok(trust)
}

/// Imports OSV records from a file, directory or zip, then re-analyses.
async fn import_advisories(store: &Store, path: &std::path::Path) -> anyhow::Result<()> {
    let source = palisade_advisory::Source::open(path)
        .with_context(|| format!("advisories {}", path.display()))?;
    let mut rows = Vec::new();
    let mut rejected = 0usize;
    source
        .for_each(|item| {
            match item
                .bytes
                .and_then(|b| palisade_server::analysis::advisory_row(&b))
            {
                Ok(r) => rows.push(r),
                Err(e) => {
                    rejected += 1;
                    tracing::warn!(record = %item.origin, error = %e, "advisory rejected");
                }
            }
        })
        .with_context(|| format!("reading {}", path.display()))?;
    let upsert = store.upsert_advisories(&rows).await?;
    eprintln!(
        "advisories: {} new, {} updated, {} unchanged, {rejected} rejected{}",
        upsert.new,
        upsert.updated,
        upsert.unchanged,
        if upsert.job.is_some() {
            "; re-analysis queued"
        } else {
            ""
        }
    );
    Ok(())
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
