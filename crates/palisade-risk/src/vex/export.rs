//! Writing statements (imported, or triage decisions) as OpenVEX, CycloneDX
//! VEX or CSAF VEX.
//!
//! The design decision: output is a pure function of the statements and the
//! options. Statements are sorted and deduplicated first, grouped by what a
//! format lets them share, and written with fixed key order; document ids,
//! when not given, are derived from a SHA-256 of the content. So the same
//! decisions always give the same bytes, and importing an export gives the
//! same statements back (property-tested).
//!
//! What a format cannot say is never widened into a broader claim: such a
//! statement is *skipped* and listed in [`Exported::skipped`] with the
//! reason (OpenVEX has no version ranges; OpenVEX and CSAF require a reason
//! for `not_affected` and an action for `affected`; CSAF allows one status
//! per product and vulnerability). Information that is dropped while the
//! statement itself is kept (a timestamp CycloneDX 1.4 or CSAF has no place
//! for) is listed in [`Exported::degraded`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::purl_match::{display_name, is_purl, with_version};
use super::{MAX_ID_LEN, MAX_TEXT_LEN, Status, VexStatement, parse_time};

/// The CycloneDX version written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CycloneDxSpec {
    /// 1.4 (no analysis timestamps).
    #[serde(rename = "1.4")]
    V1_4,
    /// 1.5.
    #[serde(rename = "1.5")]
    V1_5,
    /// 1.6.
    #[default]
    #[serde(rename = "1.6")]
    V1_6,
}

impl CycloneDxSpec {
    fn as_str(self) -> &'static str {
        match self {
            CycloneDxSpec::V1_4 => "1.4",
            CycloneDxSpec::V1_5 => "1.5",
            CycloneDxSpec::V1_6 => "1.6",
        }
    }
}

/// Document-level settings of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportOptions {
    /// The document id (OpenVEX `@id`, CycloneDX `serialNumber` when it is a
    /// `urn:uuid:`, CSAF `tracking.id`); derived from the content when absent.
    pub id: Option<String>,
    /// The author (OpenVEX `author`, CycloneDX `metadata.authors`, CSAF
    /// `publisher.name`).
    pub author: String,
    /// The document timestamp, RFC 3339 (required: output must not depend
    /// on the clock).
    pub timestamp: String,
    /// The document version.
    pub version: u32,
    /// The tool named in the document.
    pub tooling: String,
    /// The CSAF `document.title`.
    pub title: String,
    /// The CSAF `publisher.namespace` (a URI naming the publisher).
    pub publisher_namespace: String,
    /// The CSAF `publisher.category` (`vendor`, `user`, `coordinator`,
    /// `discoverer`, `translator`, `other`).
    pub publisher_category: String,
    /// The CycloneDX version written.
    pub cyclonedx_spec: CycloneDxSpec,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            id: None,
            author: "Palisade".to_owned(),
            timestamp: String::new(),
            version: 1,
            tooling: "Palisade".to_owned(),
            title: "VEX statements".to_owned(),
            publisher_namespace: "urn:palisade".to_owned(),
            publisher_category: "vendor".to_owned(),
            cyclonedx_spec: CycloneDxSpec::default(),
        }
    }
}

impl ExportOptions {
    /// Defaults with the given timestamp.
    pub fn at(timestamp: impl Into<String>) -> ExportOptions {
        ExportOptions {
            timestamp: timestamp.into(),
            ..ExportOptions::default()
        }
    }
}

/// A statement not exported (or exported with a loss), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Its index in the input.
    pub statement: usize,
    /// Why.
    pub reason: String,
}

/// An exported document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// The JSON document, pretty-printed, with a final newline.
    pub json: String,
    /// How many statements it carries.
    pub statements: usize,
    /// Statements left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Statements written with something dropped, with what.
    pub degraded: Vec<Skipped>,
}

/// Why nothing could be exported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// An option is invalid.
    #[error("VEX export: {field}: {reason}")]
    Option {
        /// The option.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn check_options(o: &ExportOptions) -> Result<(), ExportError> {
    parse_time(&o.timestamp).map_err(|reason| ExportError::Option {
        field: "timestamp",
        reason,
    })?;
    for (field, v) in [
        ("author", &o.author),
        ("tooling", &o.tooling),
        ("title", &o.title),
        ("publisher_namespace", &o.publisher_namespace),
    ] {
        if v.trim().is_empty() || v.len() > MAX_ID_LEN {
            return Err(ExportError::Option {
                field,
                reason: format!("must be 1 to {MAX_ID_LEN} bytes"),
            });
        }
    }
    if let Some(id) = &o.id
        && (id.trim().is_empty() || id.len() > MAX_ID_LEN)
    {
        return Err(ExportError::Option {
            field: "id",
            reason: format!("must be 1 to {MAX_ID_LEN} bytes"),
        });
    }
    if ![
        "vendor",
        "user",
        "coordinator",
        "discoverer",
        "translator",
        "other",
    ]
    .contains(&o.publisher_category.as_str())
    {
        return Err(ExportError::Option {
            field: "publisher_category",
            reason: format!(
                "{:?} is not a CSAF publisher category",
                o.publisher_category
            ),
        });
    }
    Ok(())
}

/// Sorted, deduplicated, valid statements (without sources), each with its
/// first index in the input.
fn prepare(statements: &[VexStatement]) -> (Vec<(usize, VexStatement)>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let mut seen = BTreeMap::new();
    for (i, s) in statements.iter().enumerate() {
        let mut s = s.without_source();
        s.vulnerability = s.vulnerability.trim().to_owned();
        s.product = s.product.trim().to_owned();
        s.subcomponent = s.subcomponent.map(|x| x.trim().to_owned());
        s.version = s.version.map(|x| x.trim().to_owned());
        s.normalise_aliases();
        let ids_ok = [
            Some(&s.vulnerability),
            Some(&s.product),
            s.subcomponent.as_ref(),
            s.version.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(&s.aliases)
        .all(|x| !x.is_empty() && x.len() <= MAX_ID_LEN);
        let texts_ok = [&s.impact_statement, &s.action_statement]
            .into_iter()
            .flatten()
            .all(|t| t.len() <= MAX_TEXT_LEN);
        if !ids_ok || !texts_ok {
            skipped.push(Skipped {
                statement: i,
                reason: "empty or oversized identifier or text".to_owned(),
            });
            continue;
        }
        if let Some(t) = &s.timestamp
            && parse_time(t).is_err()
        {
            skipped.push(Skipped {
                statement: i,
                reason: format!("timestamp {t:?} is not RFC 3339"),
            });
            continue;
        }
        seen.entry(s).or_insert(i);
    }
    let mut out: Vec<(usize, VexStatement)> = seen.into_iter().map(|(s, i)| (i, s)).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    (out, skipped)
}

/// OpenVEX and CSAF require a reason for `not_affected` and an action for
/// `affected`.
fn required_texts(s: &VexStatement, format: &str) -> Option<String> {
    match s.status {
        Status::NotAffected if !s.is_justified() => Some(format!(
            "{format} requires a justification or impact statement for not_affected"
        )),
        Status::Affected
            if s.action_statement
                .as_deref()
                .is_none_or(|a| a.trim().is_empty()) =>
        {
            Some(format!(
                "{format} requires an action statement for affected"
            ))
        }
        _ => None,
    }
}

fn digest(kind: &str, statements: &[(usize, VexStatement)], o: &ExportOptions) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    for part in [&o.author, &o.timestamp, &o.tooling, &o.title] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.update(o.version.to_be_bytes());
    for (_, s) in statements {
        let bytes = serde_json::to_vec(s).unwrap_or_default();
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(&bytes);
    }
    h.finalize().into()
}

/// A name-based (version 5 layout) UUID from a digest.
fn uuid(d: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn finish(
    doc: &Value,
    statements: usize,
    skipped: Vec<Skipped>,
    degraded: Vec<Skipped>,
) -> Exported {
    let mut json = serde_json::to_string_pretty(doc).unwrap_or_default();
    json.push('\n');
    Exported {
        json,
        statements,
        skipped,
        degraded,
    }
}

fn opt_str(map: &mut Map<String, Value>, key: &str, v: Option<&String>) {
    if let Some(v) = v {
        map.insert(key.to_owned(), Value::String(v.clone()));
    }
}

// ---------------------------------------------------------------------------
// OpenVEX
// ---------------------------------------------------------------------------

type OpenVexKey = (
    String,
    Vec<String>,
    Status,
    Option<super::Justification>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Writes OpenVEX v0.2.0.
pub fn export_openvex(
    statements: &[VexStatement],
    options: &ExportOptions,
) -> Result<Exported, ExportError> {
    check_options(options)?;
    let (prepared, mut skipped) = prepare(statements);
    let mut kept = Vec::new();
    // group -> product -> (whole product, subcomponents)
    let mut groups: BTreeMap<OpenVexKey, BTreeMap<String, (bool, BTreeSet<String>)>> =
        BTreeMap::new();
    for (i, s) in &prepared {
        if let Some(reason) = required_texts(s, "OpenVEX") {
            skipped.push(Skipped {
                statement: *i,
                reason,
            });
            continue;
        }
        // A version narrowing folds into a purl, or cannot be said.
        let (product, sub) = match (&s.version, &s.subcomponent) {
            (None, sub) => (s.product.clone(), sub.clone()),
            (Some(v), None) => match with_version(&s.product, v) {
                Some(p) => (p, None),
                None => {
                    skipped.push(Skipped {
                        statement: *i,
                        reason: format!("OpenVEX cannot narrow {} to versions {v}", s.product),
                    });
                    continue;
                }
            },
            (Some(v), Some(sub)) => match with_version(sub, v) {
                Some(x) => (s.product.clone(), Some(x)),
                None => {
                    skipped.push(Skipped {
                        statement: *i,
                        reason: format!("OpenVEX cannot narrow {sub} to versions {v}"),
                    });
                    continue;
                }
            },
        };
        let key = (
            s.vulnerability.clone(),
            s.aliases.clone(),
            s.status,
            s.justification,
            s.impact_statement.clone(),
            s.action_statement.clone(),
            s.timestamp.clone(),
        );
        let entry = groups.entry(key).or_default().entry(product).or_default();
        match sub {
            Some(x) => {
                entry.1.insert(x);
            }
            None => entry.0 = true,
        }
        kept.push((*i, s.clone()));
    }
    let mut out_statements = Vec::new();
    for ((vuln, aliases, status, justification, impact, action, stamp), products) in &groups {
        let mut vulnerability = Map::new();
        vulnerability.insert("name".into(), json!(vuln));
        if !aliases.is_empty() {
            vulnerability.insert("aliases".into(), json!(aliases));
        }
        let mut list = Vec::new();
        for (product, (whole, subs)) in products {
            if *whole {
                list.push(json!({ "@id": product }));
            }
            if !subs.is_empty() {
                let subs: Vec<Value> = subs.iter().map(|x| json!({ "@id": x })).collect();
                list.push(json!({ "@id": product, "subcomponents": subs }));
            }
        }
        let mut st = Map::new();
        st.insert("vulnerability".into(), Value::Object(vulnerability));
        opt_str(&mut st, "timestamp", stamp.as_ref());
        st.insert("products".into(), Value::Array(list));
        st.insert("status".into(), json!(status.as_str()));
        if let Some(j) = justification {
            st.insert("justification".into(), json!(j.as_str()));
        }
        opt_str(&mut st, "impact_statement", impact.as_ref());
        opt_str(&mut st, "action_statement", action.as_ref());
        out_statements.push(Value::Object(st));
    }
    let id = options
        .id
        .clone()
        .unwrap_or_else(|| format!("urn:uuid:{}", uuid(&digest("openvex", &kept, options))));
    let doc = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": id,
        "author": options.author,
        "timestamp": options.timestamp,
        "version": options.version,
        "tooling": options.tooling,
        "statements": out_statements,
    });
    skipped.sort_by_key(|s| s.statement);
    Ok(finish(&doc, kept.len(), skipped, Vec::new()))
}

// ---------------------------------------------------------------------------
// CycloneDX
// ---------------------------------------------------------------------------

fn cyclonedx_state(status: Status) -> &'static str {
    match status {
        Status::NotAffected => "not_affected",
        Status::Affected => "exploitable",
        Status::Fixed => "resolved",
        Status::UnderInvestigation => "in_triage",
    }
}

fn cyclonedx_version_status(status: Status) -> &'static str {
    match status {
        Status::NotAffected | Status::Fixed => "unaffected",
        Status::Affected => "affected",
        Status::UnderInvestigation => "unknown",
    }
}

/// The database an id comes from, for CycloneDX `references[].source` and
/// CSAF `ids[].system_name`.
fn id_system(id: &str) -> String {
    let prefix = id.split('-').next().unwrap_or(id);
    match prefix.to_ascii_uppercase().as_str() {
        "CVE" => "CVE".to_owned(),
        "GHSA" => "GitHub Advisory Database".to_owned(),
        "" => "other".to_owned(),
        _ => prefix.to_owned(),
    }
}

fn component(identifier: &str, bom_ref: &str, kind: &str) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("type".into(), json!(kind));
    c.insert("bom-ref".into(), json!(bom_ref));
    c.insert("name".into(), json!(display_name(identifier)));
    if is_purl(identifier) {
        c.insert("purl".into(), json!(identifier));
    } else if identifier.starts_with("cpe:") {
        c.insert("cpe".into(), json!(identifier));
    }
    c
}

type CdxKey = (
    String,
    Vec<String>,
    Status,
    Option<super::Justification>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Writes a CycloneDX VEX BOM (1.6 by default): the products as components
/// (their subcomponents nested), and one `vulnerabilities[]` entry per
/// vulnerability and analysis.
pub fn export_cyclonedx(
    statements: &[VexStatement],
    options: &ExportOptions,
) -> Result<Exported, ExportError> {
    check_options(options)?;
    let (prepared, mut skipped) = prepare(statements);
    let mut degraded = Vec::new();
    let spec = options.cyclonedx_spec;

    // Components and their bom-refs: products by their identifier, nested
    // subcomponents by theirs when free (else, for purls and CPEs, which
    // carry their identity in their own field, a qualified ref).
    let products: BTreeSet<&str> = prepared.iter().map(|(_, s)| s.product.as_str()).collect();
    let mut used: BTreeSet<String> = products.iter().map(|p| (*p).to_owned()).collect();
    let mut nested: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut kept = Vec::new();
    for (i, s) in &prepared {
        if let Some(sub) = &s.subcomponent {
            let key = (s.product.clone(), sub.clone());
            if let std::collections::btree_map::Entry::Vacant(slot) = nested.entry(key) {
                let self_identifying = is_purl(sub) || sub.starts_with("cpe:");
                let candidates = [sub.clone(), format!("{sub}#{}", s.product)];
                let free = candidates
                    .into_iter()
                    .take(if self_identifying { 2 } else { 1 })
                    .find(|c| !used.contains(c));
                match free {
                    Some(r) => {
                        used.insert(r.clone());
                        slot.insert(r);
                    }
                    None => {
                        skipped.push(Skipped {
                            statement: *i,
                            reason: format!(
                                "CycloneDX needs a unique bom-ref for {sub} inside {}",
                                s.product
                            ),
                        });
                        continue;
                    }
                }
            }
        }
        if spec == CycloneDxSpec::V1_4 && s.timestamp.is_some() {
            degraded.push(Skipped {
                statement: *i,
                reason: "CycloneDX 1.4 has no analysis timestamp; dropped".to_owned(),
            });
        }
        kept.push((*i, s.clone()));
    }
    let kept_products: BTreeSet<&str> = kept.iter().map(|(_, s)| s.product.as_str()).collect();
    let mut components = Vec::new();
    for p in &kept_products {
        let mut c = component(p, p, "application");
        let subs: Vec<Value> = nested
            .iter()
            .filter(|((prod, _), _)| prod == p)
            .map(|((_, sub), r)| Value::Object(component(sub, r, "library")))
            .collect();
        if !subs.is_empty() {
            c.insert("components".into(), Value::Array(subs));
        }
        components.push(Value::Object(c));
    }

    // group -> ref -> versions (None for the whole component)
    let mut groups: BTreeMap<CdxKey, BTreeMap<String, BTreeSet<Option<String>>>> = BTreeMap::new();
    for (_, s) in &kept {
        let reference = match &s.subcomponent {
            Some(sub) => nested
                .get(&(s.product.clone(), sub.clone()))
                .cloned()
                .unwrap_or_else(|| sub.clone()),
            None => s.product.clone(),
        };
        let key = (
            s.vulnerability.clone(),
            s.aliases.clone(),
            s.status,
            s.justification,
            s.impact_statement.clone(),
            s.action_statement.clone(),
            if spec == CycloneDxSpec::V1_4 {
                None
            } else {
                s.timestamp.clone()
            },
        );
        groups
            .entry(key)
            .or_default()
            .entry(reference)
            .or_default()
            .insert(s.version.clone());
    }
    let mut vulnerabilities = Vec::new();
    for ((vuln, aliases, status, justification, impact, action, stamp), refs) in &groups {
        let mut v = Map::new();
        v.insert("id".into(), json!(vuln));
        if !aliases.is_empty() {
            let refs: Vec<Value> = aliases
                .iter()
                .map(|a| json!({ "id": a, "source": { "name": id_system(a) } }))
                .collect();
            v.insert("references".into(), Value::Array(refs));
        }
        opt_str(&mut v, "recommendation", action.as_ref());
        let mut analysis = Map::new();
        analysis.insert("state".into(), json!(cyclonedx_state(*status)));
        if let Some(j) = justification {
            analysis.insert("justification".into(), json!(j.to_cyclonedx()));
        }
        opt_str(&mut analysis, "detail", impact.as_ref());
        opt_str(&mut analysis, "lastUpdated", stamp.as_ref());
        v.insert("analysis".into(), Value::Object(analysis));
        let mut affects = Vec::new();
        for (r, versions) in refs {
            if versions.contains(&None) {
                affects.push(json!({ "ref": r }));
            }
            let listed: Vec<Value> = versions
                .iter()
                .flatten()
                .map(|ver| {
                    let field = if ver.starts_with("vers:") {
                        "range"
                    } else {
                        "version"
                    };
                    json!({ field: ver, "status": cyclonedx_version_status(*status) })
                })
                .collect();
            if !listed.is_empty() {
                affects.push(json!({ "ref": r, "versions": listed }));
            }
        }
        v.insert("affects".into(), Value::Array(affects));
        vulnerabilities.push(Value::Object(v));
    }

    let serial = match &options.id {
        Some(id) if is_urn_uuid(id) => id.clone(),
        _ => {
            let kind = format!("cyclonedx-{}", spec.as_str());
            format!("urn:uuid:{}", uuid(&digest(&kind, &kept, options)))
        }
    };
    let tools = if spec == CycloneDxSpec::V1_4 {
        json!([{ "name": options.tooling }])
    } else {
        json!({ "components": [{ "type": "application", "name": options.tooling }] })
    };
    let mut doc = Map::new();
    doc.insert("bomFormat".into(), json!("CycloneDX"));
    doc.insert("specVersion".into(), json!(spec.as_str()));
    doc.insert("serialNumber".into(), json!(serial));
    doc.insert("version".into(), json!(options.version));
    doc.insert(
        "metadata".into(),
        json!({
            "timestamp": options.timestamp,
            "tools": tools,
            "authors": [{ "name": options.author }],
        }),
    );
    if !components.is_empty() {
        doc.insert("components".into(), Value::Array(components));
    }
    doc.insert("vulnerabilities".into(), Value::Array(vulnerabilities));
    skipped.sort_by_key(|s| s.statement);
    degraded.sort_by_key(|s| s.statement);
    Ok(finish(&Value::Object(doc), kept.len(), skipped, degraded))
}

fn is_urn_uuid(id: &str) -> bool {
    id.strip_prefix("urn:uuid:").is_some_and(|u| {
        u.len() == 36
            && u.chars().enumerate().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    })
}

// ---------------------------------------------------------------------------
// CSAF
// ---------------------------------------------------------------------------

/// A product tree node: an identifier, narrowed or not.
type Node = (String, Option<String>);

fn is_cve(id: &str) -> bool {
    id.to_ascii_uppercase().starts_with("CVE-")
}

/// Writes a CSAF 2.0 document of category `csaf_vex`.
pub fn export_csaf(
    statements: &[VexStatement],
    options: &ExportOptions,
) -> Result<Exported, ExportError> {
    check_options(options)?;
    let (prepared, mut skipped) = prepare(statements);
    let mut degraded = Vec::new();

    // One status per (vulnerability, product): the latest statement wins.
    let mut chosen: BTreeMap<(String, Node, Option<String>), (usize, VexStatement)> =
        BTreeMap::new();
    for (i, s) in &prepared {
        if let Some(reason) = required_texts(s, "CSAF VEX") {
            skipped.push(Skipped {
                statement: *i,
                reason,
            });
            continue;
        }
        let target: Node = match &s.subcomponent {
            Some(sub) => (sub.clone(), s.version.clone()),
            None => (s.product.clone(), s.version.clone()),
        };
        let parent = s.subcomponent.as_ref().map(|_| s.product.clone());
        let key = (s.vulnerability.clone(), target, parent);
        match chosen.get(&key) {
            Some((j, prev)) => {
                let newer = s.effective_time() >= prev.effective_time();
                let (loser, winner) = if newer {
                    (*j, (*i, s.clone()))
                } else {
                    (*i, (*j, prev.clone()))
                };
                skipped.push(Skipped {
                    statement: loser,
                    reason: "CSAF allows one status per product and vulnerability; a later statement was kept".to_owned(),
                });
                chosen.insert(key, winner);
            }
            None => {
                chosen.insert(key, (*i, s.clone()));
            }
        }
    }
    let kept: Vec<(usize, VexStatement)> = {
        let mut k: Vec<_> = chosen.values().cloned().collect();
        k.sort_by(|a, b| a.1.cmp(&b.1));
        k
    };

    // Product ids: plain nodes, then relationships.
    let mut nodes: BTreeSet<Node> = BTreeSet::new();
    let mut relations: BTreeSet<(Node, String)> = BTreeSet::new();
    for (_, s) in &kept {
        match &s.subcomponent {
            Some(sub) => {
                nodes.insert((s.product.clone(), None));
                nodes.insert((sub.clone(), s.version.clone()));
                relations.insert(((sub.clone(), s.version.clone()), s.product.clone()));
            }
            None => {
                nodes.insert((s.product.clone(), s.version.clone()));
            }
        }
    }
    let mut ids: BTreeMap<Node, String> = BTreeMap::new();
    let mut next = 1usize;
    let mut new_id = || {
        let id = format!("CSAFPID-{next:04}");
        next += 1;
        id
    };
    for n in &nodes {
        ids.insert(n.clone(), new_id());
    }
    let mut relation_ids: BTreeMap<(Node, String), String> = BTreeMap::new();
    for r in &relations {
        relation_ids.insert(r.clone(), new_id());
    }
    let helper = |identifier: &str| -> Option<Value> {
        if is_purl(identifier) {
            Some(json!({ "purl": identifier }))
        } else if identifier.starts_with("cpe:") {
            Some(json!({ "cpe": identifier }))
        } else {
            None
        }
    };
    let mut full_product_names = Vec::new();
    let mut branches: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (n, id) in &ids {
        match &n.1 {
            None => {
                let mut p = Map::new();
                p.insert("name".into(), json!(n.0));
                p.insert("product_id".into(), json!(id));
                if let Some(h) = helper(&n.0) {
                    p.insert("product_identification_helper".into(), h);
                }
                full_product_names.push(Value::Object(p));
            }
            Some(v) => {
                let mut p = Map::new();
                p.insert("name".into(), json!(format!("{} {v}", n.0)));
                p.insert("product_id".into(), json!(id));
                if is_purl(&n.0) {
                    p.insert(
                        "product_identification_helper".into(),
                        json!({ "purl": n.0 }),
                    );
                }
                let category = if v.starts_with("vers:") {
                    "product_version_range"
                } else {
                    "product_version"
                };
                branches.entry(n.0.as_str()).or_default().push(json!({
                    "category": category,
                    "name": v,
                    "product": Value::Object(p),
                }));
            }
        }
    }
    let mut tree = Map::new();
    if !branches.is_empty() {
        let list: Vec<Value> = branches
            .into_iter()
            .map(|(name, children)| {
                json!({ "category": "product_name", "name": name, "branches": children })
            })
            .collect();
        tree.insert("branches".into(), Value::Array(list));
    }
    if !full_product_names.is_empty() {
        tree.insert(
            "full_product_names".into(),
            Value::Array(full_product_names),
        );
    }
    if !relation_ids.is_empty() {
        let list: Vec<Value> = relation_ids
            .iter()
            .filter_map(|((sub, product), rid)| {
                let sub_id = ids.get(sub)?;
                let product_id = ids.get(&(product.clone(), None))?;
                let sub_name = match &sub.1 {
                    Some(v) => format!("{} {v}", sub.0),
                    None => sub.0.clone(),
                };
                Some(json!({
                    "category": "default_component_of",
                    "full_product_name": {
                        "name": format!("{sub_name} as a component of {product}"),
                        "product_id": rid,
                    },
                    "product_reference": sub_id,
                    "relates_to_product_reference": product_id,
                }))
            })
            .collect();
        tree.insert("relationships".into(), Value::Array(list));
    }

    // Vulnerabilities.
    let mut by_vuln: BTreeMap<&str, Vec<&(usize, VexStatement)>> = BTreeMap::new();
    for k in &kept {
        by_vuln
            .entry(k.1.vulnerability.as_str())
            .or_default()
            .push(k);
    }
    let mut vulnerabilities = Vec::new();
    for (vuln, list) in &by_vuln {
        let aliases: BTreeSet<&str> = list
            .iter()
            .flat_map(|(_, s)| s.aliases.iter().map(String::as_str))
            .collect();
        let mut status: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        type Scoped<'a> = BTreeMap<(String, Option<String>), BTreeSet<&'a str>>;
        let mut flags: Scoped = BTreeMap::new();
        let mut threats: Scoped = BTreeMap::new();
        let mut remediations: BTreeMap<(String, String, Option<String>), BTreeSet<&str>> =
            BTreeMap::new();
        for (i, s) in list {
            let pid = match &s.subcomponent {
                Some(sub) => {
                    relation_ids.get(&((sub.clone(), s.version.clone()), s.product.clone()))
                }
                None => ids.get(&(s.product.clone(), s.version.clone())),
            };
            let Some(pid) = pid else { continue };
            let key = match s.status {
                Status::NotAffected => "known_not_affected",
                Status::Affected => "known_affected",
                Status::Fixed => "fixed",
                Status::UnderInvestigation => "under_investigation",
            };
            status.entry(key).or_default().insert(pid.as_str());
            let mut dated = false;
            if let Some(j) = s.justification {
                flags
                    .entry((j.as_str().to_owned(), s.timestamp.clone()))
                    .or_default()
                    .insert(pid.as_str());
                dated = true;
            }
            if let Some(impact) = &s.impact_statement {
                threats
                    .entry((impact.clone(), s.timestamp.clone()))
                    .or_default()
                    .insert(pid.as_str());
                dated = true;
            }
            if let Some(action) = &s.action_statement {
                let category = if s.status == Status::Fixed {
                    "vendor_fix"
                } else {
                    "mitigation"
                };
                remediations
                    .entry((category.to_owned(), action.clone(), s.timestamp.clone()))
                    .or_default()
                    .insert(pid.as_str());
                dated = true;
            }
            if s.timestamp.is_some() && !dated {
                degraded.push(Skipped {
                    statement: *i,
                    reason: "CSAF has no place for the date of a statement without justification, impact or action; dropped".to_owned(),
                });
            }
        }
        let mut v = Map::new();
        let mut id_list: Vec<&str> = Vec::new();
        if is_cve(vuln) {
            v.insert("cve".into(), json!(vuln));
        } else {
            id_list.push(vuln);
        }
        id_list.extend(aliases.iter().copied().filter(|a| a != vuln));
        if !id_list.is_empty() {
            let list: Vec<Value> = id_list
                .iter()
                .map(|a| json!({ "system_name": id_system(a), "text": a }))
                .collect();
            v.insert("ids".into(), Value::Array(list));
        }
        v.insert(
            "notes".into(),
            json!([{ "category": "description", "text": format!("VEX statements about {vuln}."), "title": "Statements" }]),
        );
        v.insert("product_status".into(), json!(status));
        let scoped = |entries: Scoped, name_key: &str, extra: Option<(&str, &str)>| -> Vec<Value> {
            entries
                .into_iter()
                .map(|((value, date), pids)| {
                    let mut m = Map::new();
                    if let Some((k, val)) = extra {
                        m.insert(k.to_owned(), json!(val));
                    }
                    m.insert(name_key.to_owned(), json!(value));
                    if let Some(d) = date {
                        m.insert("date".into(), json!(d));
                    }
                    m.insert("product_ids".into(), json!(pids));
                    Value::Object(m)
                })
                .collect()
        };
        if !flags.is_empty() {
            v.insert("flags".into(), Value::Array(scoped(flags, "label", None)));
        }
        if !threats.is_empty() {
            v.insert(
                "threats".into(),
                Value::Array(scoped(threats, "details", Some(("category", "impact")))),
            );
        }
        if !remediations.is_empty() {
            let list: Vec<Value> = remediations
                .into_iter()
                .map(|((category, details, date), pids)| {
                    let mut m = Map::new();
                    m.insert("category".into(), json!(category));
                    m.insert("details".into(), json!(details));
                    if let Some(d) = date {
                        m.insert("date".into(), json!(d));
                    }
                    m.insert("product_ids".into(), json!(pids));
                    Value::Object(m)
                })
                .collect();
            v.insert("remediations".into(), Value::Array(list));
        }
        vulnerabilities.push(Value::Object(v));
    }

    let tracking_id = options.id.clone().unwrap_or_else(|| {
        let d = digest("csaf", &kept, options);
        format!("PALISADE-VEX-{}", hex::encode(&d[..8]))
    });
    let version = options.version.to_string();
    let doc = json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "notes": [{
                "category": "summary",
                "text": format!("VEX statements exported by {}.", options.tooling),
                "title": "Summary",
            }],
            "publisher": {
                "category": options.publisher_category,
                "name": options.author,
                "namespace": options.publisher_namespace,
            },
            "title": options.title,
            "tracking": {
                "current_release_date": options.timestamp,
                "generator": { "engine": { "name": options.tooling } },
                "id": tracking_id,
                "initial_release_date": options.timestamp,
                "revision_history": [{
                    "date": options.timestamp,
                    "number": version,
                    "summary": format!("Exported by {}.", options.tooling),
                }],
                "status": "final",
                "version": version,
            },
        },
        "product_tree": Value::Object(tree),
        "vulnerabilities": vulnerabilities,
    });
    skipped.sort_by_key(|s| s.statement);
    degraded.sort_by_key(|s| s.statement);
    Ok(finish(&doc, kept.len(), skipped, degraded))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::vex::{Justification, VexFormat, parse_as};

    fn sample() -> Vec<VexStatement> {
        let mut a = VexStatement::new(
            "CVE-2021-44228",
            "pkg:oci/app@sha256:abc",
            Status::NotAffected,
        );
        a.subcomponent = Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into());
        a.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
        a.justification = Some(Justification::VulnerableCodeNotInExecutePath);
        a.impact_statement = Some("JndiLookup is removed from the class path.".into());
        a.timestamp = Some("2025-01-02T03:04:05Z".into());
        let mut b = VexStatement::new("GHSA-xxxx-yyyy-zzzz", "pkg:npm/lodash", Status::Affected);
        b.version = Some("vers:npm/<4.17.21".into());
        b.action_statement = Some("Upgrade lodash to 4.17.21.".into());
        let c = VexStatement::new("CVE-2024-0001", "product-ABC", Status::UnderInvestigation);
        vec![a, b, c]
    }

    #[test]
    fn exports_are_deterministic_and_read_back() {
        let o = ExportOptions::at("2025-01-02T03:04:05Z");
        let mut reversed = sample();
        reversed.reverse();
        for (format, f) in [
            (
                VexFormat::OpenVex,
                export_openvex
                    as fn(&[VexStatement], &ExportOptions) -> Result<Exported, ExportError>,
            ),
            (VexFormat::CycloneDx, export_cyclonedx),
            (VexFormat::Csaf, export_csaf),
        ] {
            let a = f(&sample(), &o).unwrap();
            let b = f(&reversed, &o).unwrap();
            assert_eq!(a.json, b.json, "{format}");
            let doc = parse_as(a.json.as_bytes(), format).unwrap();
            assert_eq!(super::super::detect_format(a.json.as_bytes()), Some(format));
            let mut got: Vec<VexStatement> = doc
                .statements
                .iter()
                .map(VexStatement::without_source)
                .collect();
            got.sort();
            let mut want: Vec<VexStatement> = sample();
            // OpenVEX cannot say version ranges.
            if format == VexFormat::OpenVex {
                want.retain(|s| s.version.is_none());
                assert_eq!(a.skipped.len(), 1, "{:?}", a.skipped);
            } else {
                assert!(a.skipped.is_empty(), "{format}: {:?}", a.skipped);
            }
            want.sort();
            assert_eq!(got, want, "{format}\n{}", a.json);
            assert!(doc.warnings.is_empty(), "{format}: {:?}", doc.warnings);
        }
    }

    #[test]
    fn options_are_checked() {
        let e = export_openvex(&sample(), &ExportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("timestamp"), "{e}");
        let o = ExportOptions {
            publisher_category: "boss".into(),
            ..ExportOptions::at("2025-01-01T00:00:00Z")
        };
        assert!(export_csaf(&[], &o).is_err());
    }

    #[test]
    fn unsayable_statements_are_skipped_not_widened() {
        let o = ExportOptions::at("2025-01-01T00:00:00Z");
        let bare = VexStatement::new("CVE-1", "pkg:npm/a", Status::NotAffected);
        let no_action = VexStatement::new("CVE-2", "pkg:npm/a", Status::Affected);
        for f in [export_openvex, export_csaf] {
            let e = f(&[bare.clone(), no_action.clone()], &o).unwrap();
            assert_eq!(e.statements, 0);
            assert_eq!(e.skipped.len(), 2);
        }
        // CycloneDX has no such rule.
        assert_eq!(
            export_cyclonedx(&[bare, no_action], &o).unwrap().statements,
            2
        );
        // CSAF: one status per product and vulnerability, the latest wins.
        let mut older = VexStatement::new("CVE-3", "pkg:npm/a", Status::UnderInvestigation);
        older.timestamp = Some("2024-01-01T00:00:00Z".into());
        let mut newer = VexStatement::new("CVE-3", "pkg:npm/a", Status::Fixed);
        newer.timestamp = Some("2024-02-01T00:00:00Z".into());
        let e = export_csaf(&[newer, older], &o).unwrap();
        assert_eq!(
            (e.statements, e.skipped.len(), e.skipped[0].statement),
            (1, 1, 1)
        );
        assert_eq!(e.degraded.len(), 1);
        // CycloneDX 1.4 drops analysis timestamps, and says so.
        let o14 = ExportOptions {
            cyclonedx_spec: CycloneDxSpec::V1_4,
            ..o.clone()
        };
        let e = export_cyclonedx(&sample(), &o14).unwrap();
        assert_eq!(e.degraded.len(), 1);
        assert!(e.json.contains("\"specVersion\": \"1.4\""));
    }

    #[test]
    fn uuid_layout() {
        let u = uuid(&[0xffu8; 32]);
        assert_eq!(u, "ffffffff-ffff-5fff-bfff-ffffffffffff");
        assert!(is_urn_uuid(&format!("urn:uuid:{u}")));
        assert!(!is_urn_uuid("urn:uuid:nope"));
    }
}
