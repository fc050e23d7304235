//! Read, write, read again: the inventory must survive every writer, and
//! every written document must validate against its official JSON schema
//! (CycloneDX 1.6/1.7 with their `spdx.schema.json`, `jsf-0.82.schema.json`
//! and `cryptography-defs.schema.json` references resolved from the corpus
//! folder, never the network; SPDX 2.3).
//!
//! Exactness: an inventory read from a format and written back in the same
//! family (CycloneDX to CycloneDX, SPDX to SPDX) reads back equal, apart from
//! `source_format`, `warnings` and the writer's own tool entry. Across
//! families the first conversion may shed what the other format cannot say
//! (a tool's vendor in SPDX), so there the check is that a second round trip
//! changes nothing and that components and purls are kept.

use std::path::{Path, PathBuf};

use palisade_sbom::{Format, Inventory, WriteOptions};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap_or_default()
}

/// The inventory without what legitimately changes on a round trip.
fn normalized(inv: &Inventory) -> Inventory {
    let mut i = inv.clone();
    i.warnings.clear();
    i.metadata.source_format = None;
    i.metadata.tools.retain(|t| t.name != "palisade");
    i
}

fn is_cdx(f: Format) -> bool {
    matches!(f, Format::CycloneDxJson16 | Format::CycloneDxJson17)
}

struct Schemas {
    cdx16: jsonschema::Validator,
    cdx17: jsonschema::Validator,
    spdx23: jsonschema::Validator,
}

fn load_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
}

fn schemas(root: &Path) -> Option<Schemas> {
    let cdx = root.join("schemas/cyclonedx");
    let mut opts = jsonschema::options().should_validate_formats(true);
    for name in [
        "spdx.schema.json",
        "jsf-0.82.schema.json",
        "cryptography-defs.schema.json",
    ] {
        let v = load_json(&cdx.join(name));
        opts = opts.with_resource(
            format!("http://cyclonedx.org/schema/{name}"),
            jsonschema::Resource::from_contents(v),
        );
    }
    let build = |o: &jsonschema::ValidationOptions, p: &Path| match o.build(&load_json(p)) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("cannot build schema {}: {e}", p.display());
            None
        }
    };
    Some(Schemas {
        cdx16: build(&opts, &cdx.join("bom-1.6.schema.json"))?,
        cdx17: build(&opts, &cdx.join("bom-1.7.schema.json"))?,
        spdx23: build(
            &jsonschema::options().should_validate_formats(true),
            &root.join("schemas/spdx/spdx-2.3-schema.json"),
        )?,
    })
}

fn validate(schemas: &Schemas, format: Format, doc: &[u8], what: &str) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(doc)
        .map_err(|e| format!("{what}: written JSON does not parse: {e}"))?;
    let v = match format {
        Format::CycloneDxJson16 => &schemas.cdx16,
        Format::CycloneDxJson17 => &schemas.cdx17,
        Format::SpdxJson23 => &schemas.spdx23,
    };
    let errors: Vec<String> = v
        .iter_errors(&value)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{what} as {format}: schema errors: {errors:?}"))
    }
}

/// Checks one source inventory against every writer; returns failures.
fn check(
    inv: &Inventory,
    source_is_cdx: bool,
    what: &str,
    schemas: Option<&Schemas>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for &format in Format::ALL {
        let opts = WriteOptions::default();
        let doc = match palisade_sbom::write(inv, format, &opts) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{what}: cannot write {format}: {e}"));
                continue;
            }
        };
        if let Some(s) = schemas
            && let Err(e) = validate(s, format, &doc, what)
        {
            failures.push(e);
        }
        let again = match palisade_sbom::read(&doc, "written") {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{what}: cannot read back {format}: {e}"));
                continue;
            }
        };
        // Determinism: writing the same inventory twice gives the same bytes.
        if palisade_sbom::write(inv, format, &opts).ok().as_deref() != Some(doc.as_slice()) {
            failures.push(format!("{what}: {format} output is not deterministic"));
        }
        let same_family = source_is_cdx == is_cdx(format);
        if same_family {
            if normalized(&again) != normalized(inv) {
                failures.push(format!(
                    "{what}: {format} round trip changed the inventory: {}",
                    diff(&normalized(inv), &normalized(&again))
                ));
            }
        } else {
            let purls = |i: &Inventory| {
                i.components
                    .iter()
                    .map(|c| (c.bom_ref.clone(), c.purl.clone()))
                    .collect::<Vec<_>>()
            };
            if purls(&again) != purls(inv) {
                failures.push(format!(
                    "{what}: {format} conversion changed components or purls"
                ));
            }
            let doc2 = palisade_sbom::write(&again, format, &opts).unwrap_or_default();
            match palisade_sbom::read(&doc2, "written twice") {
                Ok(third) if normalized(&third) == normalized(&again) => {}
                Ok(third) => failures.push(format!(
                    "{what}: {format} second round trip changed the inventory: {}",
                    diff(&normalized(&again), &normalized(&third))
                )),
                Err(e) => failures.push(format!("{what}: {format} second read failed: {e}")),
            }
        }
    }
    failures
}

/// The first difference between two inventories, for messages.
fn diff(a: &Inventory, b: &Inventory) -> String {
    if a.metadata != b.metadata {
        return format!("metadata {:?} vs {:?}", a.metadata, b.metadata);
    }
    if a.components.len() != b.components.len() {
        return format!(
            "{} vs {} components",
            a.components.len(),
            b.components.len()
        );
    }
    for (x, y) in a.components.iter().zip(&b.components) {
        if x != y {
            return format!("component {x:?} vs {y:?}");
        }
    }
    if a.dependencies != b.dependencies {
        return "dependencies differ".to_owned();
    }
    "no difference".to_owned()
}

#[test]
fn handwritten_fixtures_round_trip() {
    let root = corpus();
    let schemas = root.as_deref().and_then(schemas);
    let mut failures = Vec::new();
    for (name, cdx) in [("small.cdx.json", true), ("small.spdx", false)] {
        let inv = match palisade_sbom::read(&fixture(name), name) {
            Ok(i) => i,
            Err(e) => panic!("{name}: {e}"),
        };
        failures.extend(check(&inv, cdx, name, schemas.as_ref()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_sboms_round_trip_and_validate() {
    let Some(root) = corpus() else { return };
    let Some(schemas) = schemas(&root) else {
        panic!("the official schemas in the corpus do not build")
    };
    let files = [
        "sbom/cyclonedx/juice-shop/via_npm/bare/bom.1.4.json",
        "sbom/cyclonedx/juice-shop/via_npm/flat/bom.1.2.xml",
        "sbom/cyclonedx/dropwizard-1.3.15/bom.xml",
        "sbom/cyclonedx/laravel-7.12.0/bom.1.1.xml",
        "sbom/cyclonedx/proton-bridge/proton-bridge-v1.8.0.bom.json",
        "sbom/cyclonedx/cern-lhc-vdm-editor-e564943/bom.json",
        "extra/sbom/cdx-spec-conformance/1.6/valid-bom-1.6.json",
        "extra/sbom/cdx-spec-conformance/1.6/valid-component-types-1.6.json",
        "extra/sbom/cdx-spec-conformance/1.7/valid-bom-1.7.json",
        "extra/sbom/cdx-defectdojo-with-vulns/nested-component-log4j.json",
        "extra/sbom/osv-scanner-fixtures/postgres-stretch.cdx.xml",
        "extra/sbom/spdx-bom-shelter-in-the-wild/istio-release.spdx",
        "extra/sbom/spdx-bom-shelter-in-the-wild/constellation-spdx.json",
        "extra/sbom/spdx-bom-shelter-in-the-lab-4tools/spdx-syft-newrelic_cli-sha256_fae73bbdb237e19c9ed828ae24c22820ff45647b38861f3a5103d9a6f570d753.json",
        "extra/sbom/spdx-bom-shelter-in-the-lab-4tools/spdx-trivy-newrelic_cli-sha256_fae73bbdb237e19c9ed828ae24c22820ff45647b38861f3a5103d9a6f570d753.json",
        "sbom/spdx/software/example6/spdx2.2/example6-lib.spdx",
        "sbom/spdx/software/example9/spdx2.2/appbomination.spdx.json",
        "sbom/spdx/presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json",
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for rel in files {
        let Ok(bytes) = std::fs::read(root.join(rel)) else {
            eprintln!("SKIPPED: {rel} not in the corpus");
            continue;
        };
        let inv = match palisade_sbom::read(&bytes, rel) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{rel}: {e}"));
                continue;
            }
        };
        let cdx = inv
            .metadata
            .source_format
            .as_deref()
            .is_some_and(|f| f.starts_with("cyclonedx"));
        failures.extend(check(&inv, cdx, rel, Some(&schemas)));
        checked += 1;
    }
    eprintln!(
        "round-tripped {checked} corpus documents through {} writers",
        Format::ALL.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The validators are real: the conformance suite's valid documents pass and
/// its invalid ones fail (so a passing validation above means something).
#[test]
fn schema_validators_accept_valid_and_reject_invalid_conformance_files() {
    let Some(root) = corpus() else { return };
    let Some(schemas) = schemas(&root) else {
        panic!("the official schemas in the corpus do not build")
    };
    let mut checked = 0;
    for (version, format) in [
        ("1.6", Format::CycloneDxJson16),
        ("1.7", Format::CycloneDxJson17),
    ] {
        for name in [
            "valid-bom",
            "valid-component-hashes",
            "valid-license-expression",
            "invalid-hash-md5",
            "invalid-scope",
            "invalid-component-type",
        ] {
            let rel = format!("extra/sbom/cdx-spec-conformance/{version}/{name}-{version}.json");
            let Ok(bytes) = std::fs::read(root.join(&rel)) else {
                continue;
            };
            let result = validate(&schemas, format, &bytes, &rel);
            if name.starts_with("valid-") {
                assert!(result.is_ok(), "{result:?}");
            } else {
                assert!(result.is_err(), "{rel} should not validate");
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "too few conformance files found ({checked})");
    // SPDX: a document without its required members fails.
    assert!(
        validate(
            &schemas,
            Format::SpdxJson23,
            br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"x"}]}"#,
            "bare"
        )
        .is_err()
    );
}

#[test]
fn derived_serial_numbers_are_stable_and_content_based() {
    let inv = palisade_sbom::read(&fixture("small.cdx.json"), "small").unwrap_or_default();
    let a = palisade_sbom::write(&inv, Format::CycloneDxJson16, &WriteOptions::default())
        .unwrap_or_default();
    let mut other = inv.clone();
    other.components.truncate(1);
    let b = palisade_sbom::write(&other, Format::CycloneDxJson16, &WriteOptions::default())
        .unwrap_or_default();
    let serial = |d: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(d)
            .ok()
            .and_then(|v| {
                v.get("serialNumber")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            })
    };
    assert!(serial(&a).is_some_and(|s| s.starts_with("urn:uuid:")));
    assert_ne!(serial(&a), serial(&b));
    let random = WriteOptions {
        serial_number: palisade_sbom::SerialNumber::Random,
        ..WriteOptions::default()
    };
    let r1 = palisade_sbom::write(&inv, Format::CycloneDxJson16, &random).unwrap_or_default();
    let r2 = palisade_sbom::write(&inv, Format::CycloneDxJson16, &random).unwrap_or_default();
    assert_ne!(serial(&r1), serial(&r2));
}

mod generated {
    //! Property tests: inventories generated in the shape the readers
    //! produce (sorted, unique refs, edges between known refs) survive every
    //! writer exactly.

    use std::collections::{BTreeMap, BTreeSet};

    use palisade_inventory::{
        Component, ComponentKind, Inventory, Metadata, Scope, SourcePackage, Subject, Tool,
    };
    use palisade_sbom::{Format, WriteOptions};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9][a-zA-Z0-9 ._:/@+-]{0,12}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    fn kind() -> impl Strategy<Value = ComponentKind> {
        prop_oneof![
            Just(ComponentKind::Library),
            Just(ComponentKind::Application),
            Just(ComponentKind::Framework),
            Just(ComponentKind::Container),
            Just(ComponentKind::OperatingSystem),
            Just(ComponentKind::Firmware),
            Just(ComponentKind::File),
            Just(ComponentKind::Other),
        ]
    }

    fn component() -> impl Strategy<Value = Component> {
        (
            text(),
            proptest::option::of("[0-9]\\.[0-9]{1,2}"),
            proptest::option::of(prop_oneof![
                Just("npm"),
                Just("pypi"),
                Just("cargo"),
                Just("generic")
            ]),
            proptest::option::of(prop_oneof![
                Just("MIT"),
                Just("Apache-2.0 OR MIT"),
                Just("LicenseRef-x")
            ]),
            proptest::option::of("[0-9a-f]{64}"),
            proptest::option::of(prop_oneof![
                Just(Scope::Required),
                Just(Scope::Optional),
                Just(Scope::Excluded)
            ]),
            kind(),
            proptest::option::of(text()),
            proptest::collection::btree_map("[a-z]{1,6}", text(), 0..3),
            proptest::collection::btree_set("/[a-z]{1,8}", 0..3),
            proptest::option::of(text()),
            any::<bool>(),
        )
            .prop_map(
                |(
                    name,
                    version,
                    ty,
                    license,
                    sha,
                    scope,
                    kind,
                    supplier,
                    properties,
                    locations,
                    layer,
                    derived,
                )| {
                    let purl = ty.map(|t| {
                        let n: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
                        let n = if n.is_empty() {
                            "x".to_owned()
                        } else {
                            n.to_lowercase()
                        };
                        match &version {
                            Some(v) => format!("pkg:{t}/{n}@{v}"),
                            None => format!("pkg:{t}/{n}"),
                        }
                    });
                    let mut hashes = BTreeMap::new();
                    if let Some(h) = sha {
                        hashes.insert("SHA-256".to_owned(), h);
                    }
                    Component {
                        bom_ref: String::new(),
                        name,
                        version,
                        ecosystem: purl
                            .as_deref()
                            .and_then(|p| palisade_inventory::purl::parse(p).ok())
                            .and_then(|p| p.ecosystem),
                        purl_derived: derived && purl.is_some(),
                        purl,
                        license: license.map(str::to_owned),
                        hashes,
                        supplier,
                        scope,
                        kind,
                        layer,
                        locations,
                        source_package: None,
                        properties,
                    }
                },
            )
    }

    fn inventory() -> impl Strategy<Value = Inventory> {
        (
            proptest::collection::vec(component(), 0..8),
            proptest::collection::vec((0usize..8, 0usize..8), 0..12),
            proptest::option::of(text()),
            // SPDX writes a tool as `name-version`, so a version-less name
            // ending in `-<digit>` cannot survive it; real tool names are
            // generated without `-`.
            proptest::collection::vec(
                ("[a-z][a-z_]{0,8}", proptest::option::of("[0-9]\\.[0-9]")),
                0..3,
            ),
        )
            .prop_map(|(mut components, edges, subject, tools)| {
                for (i, c) in components.iter_mut().enumerate() {
                    c.bom_ref = format!("SPDXRef-c{i}");
                    if c.kind == ComponentKind::OperatingSystem && c.purl.is_none() {
                        c.source_package = Some(SourcePackage {
                            name: "src".into(),
                            version: None,
                        });
                    }
                }
                let n = components.len();
                let mut dependencies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                if n > 0 {
                    for (a, b) in edges {
                        let (a, b) = (a % n, b % n);
                        let e = dependencies.entry(format!("SPDXRef-c{a}")).or_default();
                        if a != b {
                            e.insert(format!("SPDXRef-c{b}"));
                        }
                    }
                }
                let mut inv = Inventory {
                    metadata: Metadata {
                        subject: subject.map(|s| Subject {
                            name: s,
                            bom_ref: Some("SPDXRef-subject".into()),
                            kind: ComponentKind::Container,
                            ..Subject::default()
                        }),
                        tools: tools
                            .into_iter()
                            .map(|(name, version)| Tool {
                                vendor: None,
                                name,
                                version,
                            })
                            .collect(),
                        timestamp: Some("2024-01-01T00:00:00Z".into()),
                        ..Metadata::default()
                    },
                    components,
                    dependencies,
                    warnings: Vec::new(),
                };
                // Readers take the distribution from a lone operating-system
                // component; generated inventories follow the same rule.
                let os: Vec<&Component> = inv
                    .components
                    .iter()
                    .filter(|c| c.kind == ComponentKind::OperatingSystem && !c.name.is_empty())
                    .collect();
                if let [one] = os.as_slice() {
                    inv.metadata.distro = Some(palisade_inventory::Distro {
                        id: one.name.to_ascii_lowercase(),
                        version_id: one.version.clone(),
                        codename: None,
                    });
                }
                inv.sort();
                inv
            })
    }

    fn strip(mut i: Inventory) -> Inventory {
        i.warnings.clear();
        i.metadata.source_format = None;
        i.metadata.tools.retain(|t| t.name != "palisade");
        i
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn every_writer_round_trips(inv in inventory()) {
            for &format in Format::ALL {
                let doc = palisade_sbom::write(&inv, format, &WriteOptions::default());
                prop_assert!(doc.is_ok(), "{format}: {:?}", doc.err());
                let doc = doc.unwrap_or_default();
                let back = palisade_sbom::read(&doc, "generated");
                prop_assert!(back.is_ok(), "{format}: {:?}", back.err());
                let back = strip(back.unwrap_or_default());
                prop_assert_eq!(&back, &strip(inv.clone()), "{}", format);
            }
        }

        #[test]
        fn output_does_not_depend_on_input_order(inv in inventory()) {
            let mut shuffled = inv.clone();
            shuffled.components.reverse();
            shuffled.sort();
            for &format in Format::ALL {
                let a = palisade_sbom::write(&inv, format, &WriteOptions::default()).unwrap_or_default();
                let b = palisade_sbom::write(&shuffled, format, &WriteOptions::default()).unwrap_or_default();
                prop_assert_eq!(a, b);
            }
        }
    }
}
