//! Any bytes as one OSV record: parsing may refuse the input, but must never
//! panic; an accepted record must survive the store's encoding and compile
//! into a matcher that answers queries without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_advisory::{Advisory, Matcher, Query};

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = palisade_advisory::osv::parse_record(data) else {
        return;
    };
    let advisory = parsed.advisory;
    let encoded = serde_json::to_vec(&advisory).expect("an accepted record encodes");
    let decoded: Advisory = serde_json::from_slice(&encoded).expect("and decodes");
    assert_eq!(decoded, advisory);
    let keys: Vec<_> = advisory.affected.clone();
    let matcher = Matcher::new([advisory]);
    for affected in keys {
        let Some(spec) = affected.ecosystem_spec() else {
            continue;
        };
        let probes = affected
            .versions
            .iter()
            .map(String::as_str)
            .chain(["0", "1.0.0"]);
        for v in probes {
            if let Ok(q) = Query::new(spec.ecosystem, spec.release.as_deref(), &affected.name, v) {
                let _ = matcher.match_query(&q);
            }
        }
    }
});
