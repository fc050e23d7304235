//! dpkg status, apk installed, os-release, RPM header blobs and the RPM
//! SQLite database on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_catalog::Limits;
use palisade_catalog::os::{apk, dpkg, parse_os_release, rpm};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = dpkg::parse("status", data, None, &limits);
    let _ = apk::parse("installed", data, None, &limits);
    let _ = parse_os_release(&String::from_utf8_lossy(data));
    let _ = rpm::parse_header(data);
    if data.starts_with(b"SQLite format 3\0") {
        let _ = rpm::parse("rpmdb.sqlite", data, None, &limits);
    }
});
