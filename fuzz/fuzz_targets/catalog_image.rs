//! Image archives: arbitrary bytes written to a temporary file and
//! inventoried as a `docker save` or OCI tar. Nothing may be written
//! outside the temporary directory and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_catalog::{Limits, ImageOptions, catalog_image};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile_dir() else { return };
    let path = dir.join("image.tar");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let opts = ImageOptions { limits: Limits { max_layer_bytes: 1 << 24, ..Limits::default() }, platform: None };
    let _ = catalog_image(&path, &opts, &mut |_| {});
    let _ = std::fs::remove_file(&path);
});

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("palisade-fuzz-image-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
