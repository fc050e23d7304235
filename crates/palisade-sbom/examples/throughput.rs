//! Parse throughput by CPU time, for machines where wall-clock benchmarks are
//! distorted by other load: `cargo run --release -p palisade-sbom --example
//! throughput -- FILE [ITERATIONS]`. Prints MB/s of process CPU time (user +
//! system, from `/proc/self/stat`) and of wall time, for the full read and for
//! the CycloneDX/SPDX JSON serde pass alone.

use std::time::Instant;

fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat are utime and stime in clock ticks
    // (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

fn measure(label: &str, bytes: &[u8], iterations: usize, mut f: impl FnMut() -> usize) {
    let (c0, w0) = (cpu_seconds(), Instant::now());
    let mut n = 0;
    for _ in 0..iterations {
        n += f();
    }
    let (cpu, wall) = (cpu_seconds() - c0, w0.elapsed().as_secs_f64());
    let mb = (bytes.len() * iterations) as f64 / 1e6;
    println!(
        "{label}: {:.0} MB/s by CPU time, {:.0} MB/s by wall time ({n} items)",
        mb / cpu.max(1e-9),
        mb / wall.max(1e-9)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: throughput FILE [ITERATIONS]");
        std::process::exit(2);
    };
    let iterations = args.next().and_then(|n| n.parse().ok()).unwrap_or(200);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    println!("{path}: {} bytes, {iterations} iterations", bytes.len());
    measure("read", &bytes, iterations, || {
        palisade_sbom::read(&bytes, &path)
            .map(|i| i.components.len())
            .unwrap_or(0)
    });
    // The serde pass applies only to CycloneDX JSON; the purl pass only when
    // the document has purls (otherwise they would report nonsense rates).
    let is_cyclonedx_json =
        serde_json::from_slice::<palisade_sbom::cyclonedx::model::Bom<'_>>(&bytes)
            .is_ok_and(|b| b.bom_format.as_deref() == Some("CycloneDX"));
    if is_cyclonedx_json {
        measure("serde pass (CycloneDX model)", &bytes, iterations, || {
            serde_json::from_slice::<palisade_sbom::cyclonedx::model::Bom<'_>>(&bytes)
                .map(|b| b.components.map_or(0, |c| c.len()))
                .unwrap_or(0)
        });
    }
    let purls: Vec<String> = palisade_sbom::read(&bytes, &path)
        .map(|i| i.components.into_iter().filter_map(|c| c.purl).collect())
        .unwrap_or_default();
    if !purls.is_empty() {
        measure("purl resolution alone", &bytes, iterations, || {
            purls
                .iter()
                .filter(|p| palisade_inventory::purl::parse(p).is_ok())
                .count()
        });
    }
}
