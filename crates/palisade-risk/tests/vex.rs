//! VEX: scenarios written as data (`scenarios/vex/*.json`), every CycloneDX
//! VEX sample of the corpus read with the statement count the sample itself
//! states, insta snapshots of the three exports, and export → import round
//! trips (proptest).
//!
//! The corpus is found through `PALISADE_CORPUS` (default: the shared corpus
//! beside the repository); tests and scenarios that need it print `SKIPPED`
//! without it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use palisade_risk::vex::{
    self, CycloneDxSpec, Disposition, ExportOptions, Exported, Justification, Status, VexFormat,
    VexStatement, VexSubject,
};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        });
    dir.is_dir().then_some(dir)
}

fn here(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

// ---------------------------------------------------------------------------
// Scenarios as data.
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    /// `fixtures/...` (beside this file) or `corpus:<path in the corpus>`.
    documents: Vec<String>,
    artifacts: Vec<String>,
    findings: Vec<ScenarioFinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFinding {
    ids: Vec<String>,
    purl: String,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    disposition: Disposition,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    document: Option<String>,
    #[serde(default)]
    format: Option<VexFormat>,
    #[serde(default)]
    reason_contains: Option<String>,
}

#[test]
fn vex_scenarios() {
    let mut dir: Vec<PathBuf> = std::fs::read_dir(here("scenarios/vex"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dir.sort();
    let mut ran = 0;
    for path in dir {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let scenario: Scenario = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut statements = Vec::new();
        let mut missing = None;
        for doc in &scenario.documents {
            let file = match doc.strip_prefix("corpus:") {
                Some(rel) => match corpus() {
                    Some(c) if c.join(rel).is_file() => c.join(rel),
                    _ => {
                        missing = Some(doc.clone());
                        break;
                    }
                },
                None => here(doc),
            };
            let parsed = vex::parse(&std::fs::read(&file).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {doc}: {e}"));
            statements.extend(parsed.statements);
        }
        if let Some(doc) = missing {
            eprintln!("SKIPPED: scenario {name}: {doc} not found");
            continue;
        }
        let findings: Vec<VexSubject> = scenario
            .findings
            .iter()
            .map(|f| VexSubject {
                ids: f.ids.clone(),
                purl: Some(f.purl.clone()),
                component_ref: None,
            })
            .collect();
        let artifacts: Vec<&str> = scenario.artifacts.iter().map(String::as_str).collect();
        let outcomes = vex::apply(&statements, &findings, &artifacts);
        for (i, (f, o)) in scenario.findings.iter().zip(&outcomes).enumerate() {
            let ctx = format!(
                "{name} ({}) finding {i}: {}",
                scenario.description, o.reason
            );
            let e = &f.expect;
            assert_eq!(o.disposition, e.disposition, "{ctx}");
            assert_eq!(o.suppressed, e.disposition.suppresses(), "{ctx}");
            let src = o.applied.as_ref().and_then(|s| s.source.as_ref());
            if let Some(p) = &e.path {
                assert_eq!(src.map(|s| s.path.as_str()), Some(p.as_str()), "{ctx}");
            }
            if let Some(d) = &e.document {
                assert_eq!(
                    src.and_then(|s| s.document.as_deref()),
                    Some(d.as_str()),
                    "{ctx}"
                );
            }
            if let Some(fmt) = e.format {
                assert_eq!(src.map(|s| s.format), Some(fmt), "{ctx}");
            }
            if let Some(r) = &e.reason_contains {
                assert!(o.reason.contains(r.as_str()), "{ctx}");
            }
        }
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} scenarios ran");
}

// ---------------------------------------------------------------------------
// The corpus' CycloneDX VEX samples.
// ---------------------------------------------------------------------------

/// The statements a CycloneDX document states, counted from its JSON: each
/// vulnerability with an id, an analysis state and affects, one per affects
/// entry, or per listed version.
fn stated(doc: &Value) -> usize {
    doc["vulnerabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["id"].is_string() && v["analysis"]["state"].is_string())
        .flat_map(|v| v["affects"].as_array().into_iter().flatten())
        .map(|a| a["versions"].as_array().map_or(1, |l| l.len().max(1)))
        .sum()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

#[test]
fn corpus_cyclonedx_vex_samples() {
    let Some(root) = corpus() else {
        eprintln!("SKIPPED: corpus not found");
        return;
    };
    let mut files = Vec::new();
    for d in ["sbom", "extra/sbom"] {
        json_files(&root.join(d), &mut files);
    }
    files.sort();
    let (mut documents, mut statements, mut suppressing) = (0, 0, 0);
    for f in &files {
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        let bytes = std::fs::read(f).unwrap();
        let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if doc["bomFormat"] != "CycloneDX" || !doc["vulnerabilities"].is_array() {
            continue;
        }
        // Conformance files meant to fail validation may be refused.
        let must_parse = !name.contains("/invalid-");
        match vex::parse(&bytes) {
            Ok(parsed) => {
                assert_eq!(vex::detect_format(&bytes), Some(VexFormat::CycloneDx));
                assert_eq!(parsed.statements.len(), stated(&doc), "{name}");
                documents += 1;
                statements += parsed.statements.len();
                suppressing += parsed
                    .statements
                    .iter()
                    .filter(|s| s.status == Status::NotAffected && s.is_justified())
                    .count();
                for s in &parsed.statements {
                    assert!(
                        s.source
                            .as_ref()
                            .is_some_and(|src| src.path.starts_with("$.vulnerabilities["))
                    );
                }
            }
            Err(e) => assert!(!must_parse, "{name}: {e}"),
        }
    }
    eprintln!(
        "CycloneDX documents with vulnerabilities: {documents}, VEX statements: {statements} ({suppressing} justified not_affected)"
    );
    assert!(documents >= 25, "{documents}");
}

#[test]
fn corpus_cisa_case_1_statuses() {
    let Some(root) = corpus() else {
        eprintln!("SKIPPED: corpus not found");
        return;
    };
    let dir = root.join("sbom/cyclonedx-vex/CISA-Use-Cases/Case-1");
    if !dir.is_dir() {
        eprintln!("SKIPPED: {} not found", dir.display());
        return;
    }
    for (file, status, product) in [
        ("vex-affected.json", Status::Affected, "product-DEF"),
        ("vex-fixed.json", Status::Fixed, "product-DEF"),
        ("vex-not_affected.json", Status::NotAffected, "product-ABC"),
        (
            "vex-under_investigation.json",
            Status::UnderInvestigation,
            "product-GHI",
        ),
    ] {
        let d = vex::parse(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        assert_eq!(d.statements.len(), 1, "{file}");
        let s = &d.statements[0];
        assert_eq!(
            (s.status, s.product.as_str(), s.vulnerability.as_str()),
            (status, product, "CVE-2021-44228"),
            "{file}"
        );
        if status == Status::NotAffected {
            assert_eq!(
                s.justification,
                Some(Justification::VulnerableCodeNotPresent)
            );
            assert_eq!(
                s.source.as_ref().unwrap().original_justification.as_deref(),
                Some("code_not_present")
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Exports: snapshots and round trips.
// ---------------------------------------------------------------------------

/// Triage decisions as a team would record them.
fn triage() -> Vec<VexStatement> {
    let image =
        "pkg:oci/shop@sha256:7d5a2f5f4b4b8e1c9d0f1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e";
    let mut log4j = VexStatement::new("CVE-2021-44228", image, Status::NotAffected);
    log4j.subcomponent = Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into());
    log4j.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
    log4j.justification = Some(Justification::VulnerableCodeNotInExecutePath);
    log4j.impact_statement =
        Some("JndiLookup is removed from the class path at build time.".into());
    log4j.timestamp = Some("2025-03-01T09:00:00Z".into());
    let mut lodash =
        VexStatement::new("CVE-2021-23337", "pkg:npm/lodash@4.17.20", Status::Affected);
    lodash.aliases = vec!["GHSA-35jh-r3h4-6jhm".into()];
    lodash.action_statement = Some("Upgrade lodash to 4.17.21.".into());
    lodash.timestamp = Some("2025-03-01T09:05:00Z".into());
    let mut xz = VexStatement::new("CVE-2024-3094", "pkg:deb/debian/xz-utils", Status::Fixed);
    xz.version = Some("5.6.1+really5.4.5-1".into());
    xz.action_statement = Some("Debian reverted to 5.4.5.".into());
    let mut range = VexStatement::new(
        "GHSA-xxxx-yyyy-zzzz",
        "pkg:npm/left-pad",
        Status::NotAffected,
    );
    range.version = Some("vers:npm/>=1.0.0|<2.0.0".into());
    range.justification = Some(Justification::ComponentNotPresent);
    let review = VexStatement::new("CVE-2025-0001", image, Status::UnderInvestigation);
    vec![log4j, lodash, xz, range, review]
}

fn options() -> ExportOptions {
    ExportOptions {
        id: None,
        author: "Example Shop security team".into(),
        ..ExportOptions::at("2025-03-02T10:00:00Z")
    }
}

fn summary(e: &Exported) -> String {
    let mut s = format!("statements: {}\n", e.statements);
    for x in &e.skipped {
        s.push_str(&format!("skipped {}: {}\n", x.statement, x.reason));
    }
    for x in &e.degraded {
        s.push_str(&format!("degraded {}: {}\n", x.statement, x.reason));
    }
    s.push_str("---\n");
    s.push_str(&e.json);
    s
}

#[test]
fn export_snapshots() {
    let t = triage();
    insta::assert_snapshot!(
        "openvex",
        summary(&vex::export_openvex(&t, &options()).unwrap())
    );
    insta::assert_snapshot!(
        "cyclonedx",
        summary(&vex::export_cyclonedx(&t, &options()).unwrap())
    );
    let o14 = ExportOptions {
        cyclonedx_spec: CycloneDxSpec::V1_4,
        ..options()
    };
    insta::assert_snapshot!(
        "cyclonedx_1_4",
        summary(&vex::export_cyclonedx(&t, &o14).unwrap())
    );
    insta::assert_snapshot!("csaf", summary(&vex::export_csaf(&t, &options()).unwrap()));
}

#[test]
fn imported_documents_export_and_read_back() {
    // Real and fixture documents, imported then exported as each format:
    // the statements each format can carry come back unchanged.
    let mut sources = vec![
        here("fixtures/vex/openvex-shop.json"),
        here("fixtures/vex/csaf-appliance.json"),
        here("fixtures/vex/cyclonedx-trivy-style.json"),
    ];
    if let Some(root) = corpus() {
        for rel in [
            "sbom/cyclonedx-vex/vex.json",
            "sbom/cyclonedx-vex/CISA-Use-Cases/Case-3/vex.json",
            "sbom/cyclonedx-vex/CISA-Use-Cases/Case-6/vex.json",
            "sbom/cyclonedx-vex/Use-Cases/Case-8/vex.json",
        ] {
            if root.join(rel).is_file() {
                sources.push(root.join(rel));
            }
        }
    }
    for src in sources {
        let doc = vex::parse(&std::fs::read(&src).unwrap()).unwrap();
        let statements: Vec<VexStatement> = doc
            .statements
            .iter()
            .map(VexStatement::without_source)
            .collect();
        for (format, exported) in exports(&statements, &options()) {
            let back = vex::parse(exported.json.as_bytes())
                .unwrap_or_else(|e| panic!("{}: {format}: {e}", src.display()));
            let skipped: Vec<usize> = exported.skipped.iter().map(|s| s.statement).collect();
            let mut want: Vec<VexStatement> = statements
                .iter()
                .enumerate()
                .filter(|(i, _)| !skipped.contains(i))
                .map(|(_, s)| expressible(s, format, &exported, &statements))
                .collect();
            want.sort();
            want.dedup();
            let mut got: Vec<VexStatement> = back
                .statements
                .iter()
                .map(VexStatement::without_source)
                .collect();
            got.sort();
            assert_eq!(got, want, "{}: {format}\n{}", src.display(), exported.json);
        }
    }
}

/// CycloneDX exports validate against the official JSON schemas (from the
/// corpus) of the version they declare.
#[test]
fn cyclonedx_exports_validate_against_the_schemas() {
    let Some(root) = corpus() else {
        eprintln!("SKIPPED: corpus not found");
        return;
    };
    let dir = root.join("schemas/cyclonedx");
    if !dir.join("bom-1.6.schema.json").is_file() {
        eprintln!("SKIPPED: {} not found", dir.display());
        return;
    }
    let load = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let mut opts = jsonschema::options().should_validate_formats(true);
    for name in [
        "spdx.schema.json",
        "jsf-0.82.schema.json",
        "cryptography-defs.schema.json",
    ] {
        if dir.join(name).is_file() {
            opts = opts.with_resource(
                format!("http://cyclonedx.org/schema/{name}"),
                jsonschema::Resource::from_contents(load(name)),
            );
        }
    }
    let mut sets = vec![triage()];
    for rel in [
        "fixtures/vex/openvex-shop.json",
        "fixtures/vex/csaf-appliance.json",
    ] {
        let d = vex::parse(&std::fs::read(here(rel)).unwrap()).unwrap();
        sets.push(d.statements);
    }
    for (spec, schema) in [
        (CycloneDxSpec::V1_4, "bom-1.4.schema.json"),
        (CycloneDxSpec::V1_5, "bom-1.5.schema.json"),
        (CycloneDxSpec::V1_6, "bom-1.6.schema.json"),
    ] {
        let validator = opts.build(&load(schema)).unwrap();
        for set in &sets {
            let o = ExportOptions {
                cyclonedx_spec: spec,
                ..options()
            };
            let e = vex::export_cyclonedx(set, &o).unwrap();
            let doc: Value = serde_json::from_str(&e.json).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .take(5)
                .map(|err| format!("{err} at {}", err.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{schema}: {errors:#?}\n{}", e.json);
        }
    }
}

fn exports(statements: &[VexStatement], o: &ExportOptions) -> Vec<(VexFormat, Exported)> {
    vec![
        (
            VexFormat::OpenVex,
            vex::export_openvex(statements, o).unwrap(),
        ),
        (
            VexFormat::CycloneDx,
            vex::export_cyclonedx(statements, o).unwrap(),
        ),
        (VexFormat::Csaf, vex::export_csaf(statements, o).unwrap()),
    ]
}

/// What a format gives back for a statement it exported: OpenVEX folds an
/// exact version into the purl; CSAF carries one alias list per
/// vulnerability and drops dates it has no place for (reported as
/// degraded).
fn expressible(
    s: &VexStatement,
    format: VexFormat,
    e: &Exported,
    all: &[VexStatement],
) -> VexStatement {
    let mut s = s.clone();
    match format {
        VexFormat::OpenVex => {
            if let Some(v) = s.version.take() {
                match &mut s.subcomponent {
                    Some(sub) => *sub = with_version(sub, &v),
                    None => s.product = with_version(&s.product, &v),
                }
            }
        }
        VexFormat::Csaf => {
            let mut aliases: Vec<String> = all
                .iter()
                .filter(|o| o.vulnerability == s.vulnerability)
                .flat_map(|o| o.aliases.clone())
                .filter(|a| *a != s.vulnerability)
                .collect();
            aliases.sort();
            aliases.dedup();
            s.aliases = aliases;
            let dated = s.justification.is_some()
                || s.impact_statement.is_some()
                || s.action_statement.is_some();
            if !dated {
                s.timestamp = None;
            }
        }
        VexFormat::CycloneDx => {}
    }
    let _ = e;
    s
}

/// The purl with `version` folded in (what OpenVEX export does).
fn with_version(purl: &str, version: &str) -> String {
    let (head, tail) = match purl.find(['?', '#']) {
        Some(i) => purl.split_at(i),
        None => (purl, ""),
    };
    format!("{head}@{version}{tail}")
}

// Generated statements that every format can carry: purl products and
// subcomponents, CISA justifications, texts each format needs, one alias
// list per vulnerability, timestamps on statements that say why.

fn arb_purl() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("npm"), Just("pypi"), Just("cargo"), Just("golang")],
        "[a-z][a-z0-9]{0,6}",
        proptest::option::of("[0-9]\\.[0-9]{1,2}\\.[0-9]"),
    )
        .prop_map(|(ty, name, version)| match (ty, version) {
            ("golang", Some(v)) => format!("pkg:golang/example.com/{name}@v{v}"),
            ("golang", None) => format!("pkg:golang/example.com/{name}"),
            (ty, Some(v)) => format!("pkg:{ty}/{name}@{v}"),
            (ty, None) => format!("pkg:{ty}/{name}"),
        })
}

fn arb_statement() -> impl Strategy<Value = VexStatement> {
    (
        0u32..6,
        prop_oneof![arb_purl(), Just("product-ABC".to_owned())],
        proptest::option::of(arb_purl()),
        prop_oneof![
            Just(Status::NotAffected),
            Just(Status::Affected),
            Just(Status::Fixed),
            Just(Status::UnderInvestigation)
        ],
        proptest::option::of(proptest::sample::select(Justification::ALL.to_vec())),
        proptest::option::of("[A-Za-z][A-Za-z .]{0,30}"),
        proptest::option::of("[A-Za-z][A-Za-z .]{0,30}"),
        proptest::option::of(0u8..3),
    )
        .prop_map(
            |(v, product, sub, status, justification, impact, action, day)| {
                let vulnerability = if v % 2 == 0 {
                    format!("CVE-2024-{:04}", v + 1)
                } else {
                    format!("GHSA-aaaa-bbbb-{v:04}")
                };
                let mut s = VexStatement::new(vulnerability.clone(), product, status);
                // One alias list per vulnerability, as CSAF keeps them.
                s.aliases = if v % 2 == 0 {
                    vec![format!("GHSA-cccc-dddd-{v:04}")]
                } else {
                    vec![]
                };
                s.subcomponent = sub;
                match status {
                    Status::NotAffected => {
                        s.justification = justification;
                        if justification.is_none() {
                            s.impact_statement =
                                Some(impact.unwrap_or_else(|| "Not reachable.".into()));
                        } else {
                            s.impact_statement = impact;
                        }
                    }
                    Status::Affected => {
                        s.action_statement = Some(action.unwrap_or_else(|| "Upgrade.".into()));
                        s.impact_statement = impact;
                    }
                    _ => {
                        s.action_statement = action;
                        s.impact_statement = impact;
                    }
                }
                let says_why = s.justification.is_some()
                    || s.impact_statement.is_some()
                    || s.action_statement.is_some();
                if says_why {
                    s.timestamp = day.map(|d| format!("2025-01-0{}T00:00:00Z", d + 1));
                }
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Export then import yields the same statements, in every format.
    #[test]
    fn export_import_round_trip(statements in proptest::collection::vec(arb_statement(), 0..8)) {
        // CSAF keeps one status per product and vulnerability: give each
        // (vulnerability, product, subcomponent) one statement.
        let mut unique: Vec<VexStatement> = Vec::new();
        for s in statements {
            let key = |x: &VexStatement| (x.vulnerability.clone(), x.product.clone(), x.subcomponent.clone());
            if !unique.iter().any(|u| key(u) == key(&s)) {
                unique.push(s);
            }
        }
        let mut want = unique.clone();
        want.sort();
        want.dedup();
        for (format, exported) in exports(&unique, &options()) {
            prop_assert!(exported.skipped.is_empty(), "{format}: {:?}", exported.skipped);
            prop_assert!(exported.degraded.is_empty(), "{format}: {:?}", exported.degraded);
            let back = vex::parse(exported.json.as_bytes()).map_err(|e| TestCaseError::fail(format!("{format}: {e}\n{}", exported.json)))?;
            prop_assert_eq!(back.format, format);
            prop_assert!(back.warnings.is_empty(), "{format}: {:?}", back.warnings);
            let mut got: Vec<VexStatement> = back.statements.iter().map(VexStatement::without_source).collect();
            got.sort();
            prop_assert_eq!(&got, &want, "{}\n{}", format, exported.json);
            // And exporting what was read gives the same bytes.
            let again = exports(&got, &options());
            let same = again.iter().find(|(f, _)| *f == format).map(|(_, e)| e.json.clone());
            prop_assert_eq!(same, Some(exported.json.clone()));
        }
    }

    /// Any bytes: parsing never panics, and whatever is accepted applies
    /// and exports without panicking.
    #[test]
    fn arbitrary_json_never_panics(doc in arb_json(4)) {
        let bytes = serde_json::to_vec(&doc).unwrap();
        let _ = vex::detect_format(&bytes);
        if let Ok(d) = vex::parse(&bytes) {
            let f = VexSubject { ids: vec!["CVE-1".into()], purl: Some("pkg:npm/a@1".into()), component_ref: None };
            let _ = vex::apply(&d.statements, &[f], &["pkg:npm/a"]);
            let _ = exports(&d.statements, &options());
        }
    }
}

/// JSON shaped like VEX documents often enough to get past detection.
fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let word = prop_oneof![
        Just("@context".to_owned()),
        Just("https://openvex.dev/ns/v0.2.0".to_owned()),
        Just("statements".to_owned()),
        Just("products".to_owned()),
        Just("@id".to_owned()),
        Just("status".to_owned()),
        Just("not_affected".to_owned()),
        Just("vulnerability".to_owned()),
        Just("bomFormat".to_owned()),
        Just("CycloneDX".to_owned()),
        Just("vulnerabilities".to_owned()),
        Just("analysis".to_owned()),
        Just("state".to_owned()),
        Just("affects".to_owned()),
        Just("ref".to_owned()),
        Just("document".to_owned()),
        Just("csaf_version".to_owned()),
        Just("product_status".to_owned()),
        Just("known_not_affected".to_owned()),
        Just("product_tree".to_owned()),
        Just("pkg:npm/a@1".to_owned()),
        Just("CVE-1".to_owned()),
        "[a-z_]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        word.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(word.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
