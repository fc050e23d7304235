//! in-toto layouts and links (the v0.9 metadata format) and their
//! verification, following the reference implementation's `verifylib`.
//!
//! Design: the verifier is pure. It takes the signed layout, the layout
//! keys, the link files (name and bytes) and a [`InspectionRunner`] that the
//! caller implements; running a command is the caller's business, and the
//! default runner refuses, so an inspection is never executed unless the
//! caller explicitly allowed it (an inspection that did not run fails its
//! check: nothing verifies by default). The steps mirror `in_toto_verify`:
//! layout signatures (every layout key must have signed), expiry, links per
//! step (`STEP.KEYID8.link`) with their signatures and per-step thresholds,
//! agreement of the links of a threshold step, command alignment (a warning,
//! as in the reference), the artifact rules of every step, then the
//! inspections and their rules. Artifact rules have the reference's
//! "consume from a queue" semantics: MATCH, CREATE, DELETE, MODIFY and ALLOW
//! only consume; DISALLOW fails on any artifact left that matches, REQUIRE
//! fails when the named artifact is absent. Patterns are Python `fnmatch`
//! patterns (`*` also matches `/`).
//!
//! Both wrappers are read and written: the classic `{"signed", "signatures"}`
//! metablock (signature over OLPC canonical JSON, hex) and DSSE envelopes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::dsse::{self, Envelope, INTOTO_PAYLOAD_TYPE};
use crate::keys::{PrivateKey, PublicKey, SslibKey};
use crate::verification::{Check, Signer, Verification};
use crate::{Error, cjson};

/// Hash algorithm to hex digest.
pub type HashDict = BTreeMap<String, String>;
/// Artifact path to its hashes.
pub type Artifacts = BTreeMap<String, HashDict>;

/// The most rules a step may carry, and the most steps, links and artifacts.
pub const MAX_RULES: usize = 1024;
/// The most steps plus inspections in a layout.
pub const MAX_STEPS: usize = 1024;
/// The most artifacts recorded in one link.
pub const MAX_ARTIFACTS: usize = 1_000_000;

/// A step of a layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Always `step`.
    #[serde(rename = "_type", default = "step_type")]
    pub type_: String,
    /// The step name (unique in the layout).
    pub name: String,
    /// Artifact rules for the materials.
    #[serde(default)]
    pub expected_materials: Vec<Vec<String>>,
    /// Artifact rules for the products.
    #[serde(default)]
    pub expected_products: Vec<Vec<String>>,
    /// The functionaries' key ids.
    #[serde(default)]
    pub pubkeys: Vec<String>,
    /// The command the functionary is expected to run.
    #[serde(default)]
    pub expected_command: Vec<String>,
    /// How many functionaries must have signed a link.
    #[serde(default = "one")]
    pub threshold: usize,
}

fn step_type() -> String {
    "step".into()
}
fn inspection_type() -> String {
    "inspection".into()
}
fn one() -> usize {
    1
}

/// An inspection of a layout: a command the verifier runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// Always `inspection`.
    #[serde(rename = "_type", default = "inspection_type")]
    pub type_: String,
    /// The inspection name.
    pub name: String,
    /// Artifact rules for the materials.
    #[serde(default)]
    pub expected_materials: Vec<Vec<String>>,
    /// Artifact rules for the products.
    #[serde(default)]
    pub expected_products: Vec<Vec<String>>,
    /// The command to run.
    #[serde(default)]
    pub run: Vec<String>,
}

/// An in-toto layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Always `layout`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Expiry, RFC 3339 (`2030-11-18T16:06:36Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Free text.
    #[serde(default)]
    pub readme: String,
    /// Functionary keys by key id.
    #[serde(default)]
    pub keys: BTreeMap<String, SslibKey>,
    /// The steps.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The inspections.
    #[serde(default)]
    pub inspect: Vec<Inspection>,
}

/// A link: what one step consumed and produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Always `link`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// The step name.
    pub name: String,
    /// The command that ran.
    #[serde(default)]
    pub command: Vec<String>,
    /// Materials.
    #[serde(default)]
    pub materials: Artifacts,
    /// Products.
    #[serde(default)]
    pub products: Artifacts,
    /// Byproducts (stdout, stderr, return value).
    #[serde(default)]
    pub byproducts: serde_json::Map<String, serde_json::Value>,
    /// Environment.
    #[serde(default)]
    pub environment: serde_json::Map<String, serde_json::Value>,
}

/// A classic signature: key id and hex signature over canonical JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetablockSignature {
    /// The signer's key id.
    pub keyid: String,
    /// Hex signature.
    pub sig: String,
}

/// The classic metadata wrapper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metablock {
    /// The signed document.
    pub signed: serde_json::Value,
    /// Its signatures.
    pub signatures: Vec<MetablockSignature>,
}

/// A signed document in either wrapper.
#[derive(Clone, Debug, PartialEq)]
pub enum Signed {
    /// `{"signed", "signatures"}`.
    Metablock(Metablock),
    /// A DSSE envelope.
    Envelope(Envelope),
}

impl Signed {
    /// Reads either wrapper.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let value: serde_json::Value = cjson::parse_bounded(bytes, "in-toto metadata")?;
        if value.get("signed").is_some() {
            let mb: Metablock = serde_json::from_value(value).map_err(|e| Error::Json {
                what: "in-toto metablock",
                reason: e.to_string(),
            })?;
            if mb.signatures.len() > dsse::MAX_SIGNATURES {
                return Err(Error::format("in-toto metablock", "too many signatures"));
            }
            Ok(Signed::Metablock(mb))
        } else if value.get("payload").is_some() {
            Ok(Signed::Envelope(Envelope::from_json(bytes)?))
        } else {
            Err(Error::format(
                "in-toto metadata",
                "neither a {\"signed\", \"signatures\"} metablock nor a DSSE envelope",
            ))
        }
    }

    /// The signed payload as JSON (unauthenticated until verified).
    pub fn payload(&self) -> Result<serde_json::Value, Error> {
        match self {
            Signed::Metablock(mb) => Ok(mb.signed.clone()),
            Signed::Envelope(env) => cjson::parse_bounded(&env.decoded_payload()?, "DSSE payload"),
        }
    }

    /// The key ids that signatures claim.
    pub fn signature_keyids(&self) -> Vec<String> {
        match self {
            Signed::Metablock(mb) => mb.signatures.iter().map(|s| s.keyid.clone()).collect(),
            Signed::Envelope(env) => env.signatures.iter().map(|s| s.keyid.clone()).collect(),
        }
    }

    /// Whether a signature by `key` verifies. `Err` explains why not.
    pub fn verify_with(&self, key: &PublicKey) -> Result<(), String> {
        match self {
            Signed::Metablock(mb) => {
                let sigs: Vec<&MetablockSignature> = mb
                    .signatures
                    .iter()
                    .filter(|s| key.matches_keyid(&s.keyid))
                    .collect();
                if sigs.is_empty() {
                    return Err(format!("No signature by key {} is present.", key.keyid()));
                }
                let message = cjson::canonical_bytes(&mb.signed).map_err(|e| e.to_string())?;
                for s in sigs {
                    let Ok(bytes) = hex::decode(&s.sig) else {
                        continue;
                    };
                    if key.verify(&message, &bytes).is_ok() {
                        return Ok(());
                    }
                }
                Err(format!(
                    "The signature by key {} does not verify.",
                    key.keyid()
                ))
            }
            Signed::Envelope(env) => {
                if env.payload_type != INTOTO_PAYLOAD_TYPE {
                    return Err(format!(
                        "The DSSE payload type is {:?}, not {INTOTO_PAYLOAD_TYPE}.",
                        env.payload_type
                    ));
                }
                let report = env
                    .verify_signatures(std::slice::from_ref(key), 1)
                    .map_err(|e| e.to_string())?;
                if report.threshold_met {
                    Ok(())
                } else {
                    Err(format!(
                        "No DSSE signature by key {} verifies.",
                        key.keyid()
                    ))
                }
            }
        }
    }

    /// Signs `document` in the classic wrapper with every key.
    pub fn sign_metablock(
        document: &serde_json::Value,
        keys: &[&PrivateKey],
    ) -> Result<Metablock, Error> {
        let message = cjson::canonical_bytes(document)?;
        let signatures = keys
            .iter()
            .map(|k| {
                Ok(MetablockSignature {
                    keyid: k.keyid().to_string(),
                    sig: hex::encode(k.sign(&message)?),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Metablock {
            signed: document.clone(),
            signatures,
        })
    }
}

/// A parsed MATCH rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchRule {
    /// The pattern.
    pub pattern: String,
    /// Prefix of the source artifacts.
    pub source_prefix: Option<String>,
    /// Compare with the destination step's materials (`true`) or products.
    pub with_materials: bool,
    /// Prefix in the destination.
    pub destination_prefix: Option<String>,
    /// The destination step.
    pub step: String,
}

/// An artifact rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// MATCH.
    Match(MatchRule),
    /// CREATE.
    Create(String),
    /// DELETE.
    Delete(String),
    /// MODIFY.
    Modify(String),
    /// ALLOW.
    Allow(String),
    /// DISALLOW.
    Disallow(String),
    /// REQUIRE.
    Require(String),
}

impl Rule {
    /// Parses a rule as the reference's `unpack_rule` does (keywords are case-insensitive).
    pub fn parse(rule: &[String]) -> Result<Rule, Error> {
        let bad = |why: &str| Error::format("artifact rule", format!("{rule:?}: {why}"));
        let kw = |i: usize| rule.get(i).map(|s| s.to_ascii_uppercase());
        let arg = |i: usize| rule.get(i).cloned().ok_or_else(|| bad("too short"));
        let kind = kw(0).ok_or_else(|| bad("empty rule"))?;
        let simple = |f: fn(String) -> Rule| -> Result<Rule, Error> {
            if rule.len() != 2 {
                return Err(bad("expected exactly one pattern"));
            }
            Ok(f(arg(1)?))
        };
        match kind.as_str() {
            "CREATE" => simple(Rule::Create),
            "DELETE" => simple(Rule::Delete),
            "MODIFY" => simple(Rule::Modify),
            "ALLOW" => simple(Rule::Allow),
            "DISALLOW" => simple(Rule::Disallow),
            "REQUIRE" => simple(Rule::Require),
            "MATCH" => {
                let pattern = arg(1)?;
                let mut i = 2;
                let mut source_prefix = None;
                if kw(i).as_deref() == Some("IN") {
                    source_prefix = Some(arg(i + 1)?);
                    i += 2;
                }
                if kw(i).as_deref() != Some("WITH") {
                    return Err(bad("expected WITH"));
                }
                let with_materials = match kw(i + 1).as_deref() {
                    Some("MATERIALS") => true,
                    Some("PRODUCTS") => false,
                    _ => return Err(bad("expected MATERIALS or PRODUCTS after WITH")),
                };
                i += 2;
                let mut destination_prefix = None;
                if kw(i).as_deref() == Some("IN") {
                    destination_prefix = Some(arg(i + 1)?);
                    i += 2;
                }
                if kw(i).as_deref() != Some("FROM") {
                    return Err(bad("expected FROM"));
                }
                let step = arg(i + 1)?;
                if rule.len() != i + 2 {
                    return Err(bad("trailing words"));
                }
                Ok(Rule::Match(MatchRule {
                    pattern,
                    source_prefix,
                    with_materials,
                    destination_prefix,
                    step,
                }))
            }
            other => Err(bad(&format!("unknown rule type {other}"))),
        }
    }
}

/// Python `fnmatch.fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]`; `*` matches `/`.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    #[derive(Debug)]
    enum Tok {
        Lit(char),
        Any,
        Star,
        Class(bool, Vec<(char, char)>),
    }
    let pc: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = pc.get(i) {
        match c {
            '*' => {
                if !matches!(toks.last(), Some(Tok::Star)) {
                    toks.push(Tok::Star);
                }
                i += 1;
            }
            '?' => {
                toks.push(Tok::Any);
                i += 1;
            }
            '[' => {
                // Find the closing bracket as Python's translate does.
                let mut j = i + 1;
                if pc.get(j) == Some(&'!') {
                    j += 1;
                }
                if pc.get(j) == Some(&']') {
                    j += 1;
                }
                while pc.get(j).is_some_and(|&c| c != ']') {
                    j += 1;
                }
                if j >= pc.len() {
                    toks.push(Tok::Lit('['));
                    i += 1;
                    continue;
                }
                let body = pc.get(i + 1..j).unwrap_or_default();
                let (neg, body) = match body.split_first() {
                    Some(('!', rest)) => (true, rest),
                    _ => (false, body),
                };
                let mut ranges = Vec::new();
                let mut k = 0;
                while let Some(&a) = body.get(k) {
                    if body.get(k + 1) == Some(&'-') && body.get(k + 2).is_some() {
                        let b = body.get(k + 2).copied().unwrap_or(a);
                        ranges.push((a, b));
                        k += 3;
                    } else {
                        ranges.push((a, a));
                        k += 1;
                    }
                }
                toks.push(Tok::Class(neg, ranges));
                i = j + 1;
            }
            c => {
                toks.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    let nc: Vec<char> = name.chars().collect();
    let one = |t: &Tok, c: char| match t {
        Tok::Lit(l) => *l == c,
        Tok::Any => true,
        Tok::Class(neg, ranges) => ranges.iter().any(|(a, b)| *a <= c && c <= *b) != *neg,
        Tok::Star => false,
    };
    // Iterative wildcard matching with single-star backtracking: linear in
    // practice, quadratic at worst, never exponential.
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < nc.len() {
        match (toks.get(p), nc.get(n)) {
            (Some(Tok::Star), _) => {
                star = Some((p, n));
                p += 1;
            }
            (Some(t), Some(&c)) if one(t, c) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    while matches!(toks.get(p), Some(Tok::Star)) {
        p += 1;
    }
    p == toks.len()
}

fn filter<'a>(queue: &'a BTreeSet<String>, pattern: &str) -> BTreeSet<&'a String> {
    queue.iter().filter(|a| fnmatch(pattern, a)).collect()
}

fn join_prefix(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

/// Applies `rules` to `artifacts` (materials or products of `step`) with the
/// reference's queue semantics; returns one failure sentence per violated rule.
pub fn verify_rules(
    rules: &[Rule],
    artifacts: &Artifacts,
    materials: &Artifacts,
    products: &Artifacts,
    links: &BTreeMap<String, Link>,
) -> Vec<String> {
    let mut queue: BTreeSet<String> = artifacts.keys().cloned().collect();
    let mut failures = Vec::new();
    for rule in rules {
        let consumed: BTreeSet<String> = match rule {
            Rule::Create(p) => filter(&queue, p)
                .into_iter()
                .filter(|a| products.contains_key(*a) && !materials.contains_key(*a))
                .cloned()
                .collect(),
            Rule::Delete(p) => filter(&queue, p)
                .into_iter()
                .filter(|a| materials.contains_key(*a) && !products.contains_key(*a))
                .cloned()
                .collect(),
            Rule::Modify(p) => filter(&queue, p)
                .into_iter()
                .filter(|a| match (materials.get(*a), products.get(*a)) {
                    (Some(m), Some(p)) => m != p,
                    _ => false,
                })
                .cloned()
                .collect(),
            Rule::Allow(p) => filter(&queue, p).into_iter().cloned().collect(),
            Rule::Disallow(p) => {
                let hit = filter(&queue, p);
                if let Some(first) = hit.iter().next() {
                    failures.push(format!(
                        "DISALLOW {p}: {} artifact(s) not consumed by an earlier rule match, first {first:?}.",
                        hit.len()
                    ));
                }
                BTreeSet::new()
            }
            Rule::Require(p) => {
                if !queue.contains(p) {
                    failures.push(format!("REQUIRE {p}: the artifact is not there."));
                }
                BTreeSet::new()
            }
            Rule::Match(m) => {
                let mut consumed = BTreeSet::new();
                if let Some(dest) = links.get(&m.step) {
                    let dest_artifacts = if m.with_materials {
                        &dest.materials
                    } else {
                        &dest.products
                    };
                    let pattern = match &m.source_prefix {
                        Some(pre) => join_prefix(pre, &m.pattern),
                        None => m.pattern.clone(),
                    };
                    for path in filter(&queue, &pattern) {
                        let rel = match &m.source_prefix {
                            Some(pre) => {
                                let pre = format!("{}/", pre.trim_end_matches('/'));
                                match path.strip_prefix(pre.as_str()) {
                                    Some(r) => r.to_string(),
                                    None => continue,
                                }
                            }
                            None => path.clone(),
                        };
                        let dest_path = match &m.destination_prefix {
                            Some(pre) => join_prefix(pre, &rel),
                            None => rel,
                        };
                        if let (Some(src), Some(dst)) =
                            (artifacts.get(path), dest_artifacts.get(&dest_path))
                            && src == dst
                        {
                            consumed.insert(path.clone());
                        }
                    }
                }
                consumed
            }
        };
        for c in consumed {
            queue.remove(&c);
        }
    }
    failures
}

/// Runs an inspection. Implemented by the caller (the binary runs the
/// command in the product directory and records what it read and wrote).
pub trait InspectionRunner {
    /// Runs `inspection`; returns the link it produced, or why it did not run.
    fn run(&mut self, inspection: &Inspection) -> Result<Link, String>;
}

/// A runner that refuses to run anything: the default.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoInspections;

impl InspectionRunner for NoInspections {
    fn run(&mut self, inspection: &Inspection) -> Result<Link, String> {
        Err(format!(
            "Inspection {:?} would run {:?}; running commands was not allowed.",
            inspection.name, inspection.run
        ))
    }
}

/// The link file name for a step and functionary: `STEP.KEYID8.link`.
pub fn link_file_name(step: &str, keyid: &str) -> String {
    let short: String = keyid.chars().take(8).collect();
    format!("{step}.{short}.link")
}

fn parse_rules(raw: &[Vec<String>]) -> Result<Vec<Rule>, Error> {
    if raw.len() > MAX_RULES {
        return Err(Error::format("in-toto layout", "too many artifact rules"));
    }
    raw.iter().map(|r| Rule::parse(r)).collect()
}

/// Verifies a layout and its links. `links` maps link file names
/// (`STEP.KEYID8.link`) to their bytes; `now` decides expiry.
pub fn verify_layout(
    layout_bytes: &[u8],
    layout_keys: &[PublicKey],
    links: &BTreeMap<String, Vec<u8>>,
    now: OffsetDateTime,
    runner: &mut dyn InspectionRunner,
) -> Result<Verification, Error> {
    let mut v = Verification::new("in-toto-layout");
    let signed = Signed::from_json(layout_bytes)?;
    if layout_keys.is_empty() {
        v.push(Check::fail(
            "layout-signature",
            None,
            "No layout key was given, so the layout cannot be authenticated.",
        ));
        return Ok(v);
    }
    for key in layout_keys {
        match signed.verify_with(key) {
            Ok(()) => {
                v.push(Check::pass(
                    "layout-signature",
                    Some(format!("layout key {}", key.keyid())),
                    format!(
                        "The layout is signed by {} ({}).",
                        key.keyid(),
                        key.scheme()
                    ),
                ));
                v.signers.push(Signer {
                    keyid: Some(key.keyid().to_string()),
                    scheme: Some(key.scheme().to_string()),
                    ..Signer::default()
                });
            }
            Err(reason) => v.push(Check::fail(
                "layout-signature",
                Some(format!("layout key {}", key.keyid())),
                reason,
            )),
        }
    }
    if v.failures().next().is_some() {
        // Nothing else is read from an unauthenticated layout.
        return Ok(v);
    }
    let layout: Layout = serde_json::from_value(signed.payload()?).map_err(|e| Error::Json {
        what: "in-toto layout",
        reason: e.to_string(),
    })?;
    if layout.type_ != "layout" {
        v.push(Check::fail(
            "layout-format",
            None,
            format!("_type is {:?}, not \"layout\".", layout.type_),
        ));
        return Ok(v);
    }
    if layout.steps.len() + layout.inspect.len() > MAX_STEPS {
        return Err(Error::format("in-toto layout", "too many steps"));
    }
    match &layout.expires {
        None => v.push(Check::fail(
            "layout-expiry",
            None,
            "The layout has no expiry date.",
        )),
        Some(exp) => match OffsetDateTime::parse(exp, &Rfc3339) {
            Err(e) => v.push(Check::fail(
                "layout-expiry",
                None,
                format!("The expiry {exp:?} is not an RFC 3339 time: {e}."),
            )),
            Ok(t) if t <= now => v.push(Check::fail(
                "layout-expiry",
                None,
                format!("The layout expired at {exp}."),
            )),
            Ok(_) => v.push(Check::pass(
                "layout-expiry",
                None,
                format!("The layout is valid until {exp}."),
            )),
        },
    }
    // Functionary keys.
    let mut keys: BTreeMap<String, PublicKey> = BTreeMap::new();
    for (keyid, key) in &layout.keys {
        let mut key = key.clone();
        key.keyid = Some(keyid.clone());
        match PublicKey::from_sslib(&key) {
            Ok(k) => {
                keys.insert(keyid.clone(), k);
            }
            Err(e) => v.push(Check::fail(
                "functionary-key",
                Some(format!("key {keyid}")),
                format!("{e}."),
            )),
        }
    }
    // Links per step.
    let mut chosen: BTreeMap<String, Link> = BTreeMap::new();
    for step in &layout.steps {
        let target = Some(format!("step {}", step.name));
        let mut valid: Vec<(String, Link)> = Vec::new();
        for keyid in &step.pubkeys {
            let file = link_file_name(&step.name, keyid);
            let Some(bytes) = links.get(&file) else {
                continue;
            };
            let ltarget = Some(format!("link {file}"));
            let Some(key) = keys.get(keyid) else {
                v.push(Check::fail(
                    "link-signature",
                    ltarget,
                    format!("The layout lists functionary {keyid} but has no such key."),
                ));
                continue;
            };
            let signed = match Signed::from_json(bytes) {
                Ok(s) => s,
                Err(e) => {
                    v.push(Check::fail("link-signature", ltarget, format!("{e}.")));
                    continue;
                }
            };
            if let Err(reason) = signed.verify_with(key) {
                v.push(Check::fail("link-signature", ltarget, reason));
                continue;
            }
            let link: Link = match signed.payload().and_then(|p| {
                serde_json::from_value(p).map_err(|e| Error::Json {
                    what: "in-toto link",
                    reason: e.to_string(),
                })
            }) {
                Ok(l) => l,
                Err(e) => {
                    v.push(Check::fail("link-format", ltarget, format!("{e}.")));
                    continue;
                }
            };
            if link.type_ != "link" || link.name != step.name {
                v.push(Check::fail(
                    "link-format",
                    ltarget,
                    format!(
                        "The link is a {:?} named {:?}, expected a link for step {:?}.",
                        link.type_, link.name, step.name
                    ),
                ));
                continue;
            }
            if link.materials.len() + link.products.len() > MAX_ARTIFACTS {
                return Err(Error::format("in-toto link", "too many artifacts"));
            }
            v.push(Check::pass(
                "link-signature",
                ltarget,
                format!("The link is signed by functionary {keyid}."),
            ));
            valid.push((keyid.clone(), link));
        }
        let threshold = step.threshold.max(1);
        if valid.len() < threshold {
            v.push(Check::fail(
                "step-threshold",
                target,
                format!(
                    "{} valid link(s) from authorised functionaries; the step requires {threshold}.",
                    valid.len()
                ),
            ));
            continue;
        }
        v.push(Check::pass(
            "step-threshold",
            target.clone(),
            format!(
                "{} valid link(s) from authorised functionaries; {threshold} required.",
                valid.len()
            ),
        ));
        let Some((_, reference)) = valid.first().cloned() else {
            continue;
        };
        if let Some((other, _)) = valid
            .iter()
            .find(|(_, l)| l.materials != reference.materials || l.products != reference.products)
        {
            v.push(Check::fail(
                "step-agreement",
                target.clone(),
                format!("The link of functionary {other} records other materials or products than the others."),
            ));
        }
        if !step.expected_command.is_empty() && reference.command != step.expected_command {
            v.push(Check::skip(
                "command-alignment",
                target.clone(),
                format!(
                    "Warning: the link ran {:?}, the layout expected {:?} (a warning, as in the reference implementation).",
                    reference.command, step.expected_command
                ),
            ));
        }
        chosen.insert(step.name.clone(), reference);
    }
    if v.failures().next().is_some() {
        return Ok(v);
    }
    // Artifact rules of every step.
    for step in &layout.steps {
        let Some(link) = chosen.get(&step.name) else {
            continue;
        };
        check_rules(
            &mut v,
            &format!("step {}", step.name),
            &step.expected_materials,
            &step.expected_products,
            link,
            &chosen,
        )?;
    }
    // Inspections.
    for inspection in &layout.inspect {
        let target = format!("inspection {}", inspection.name);
        match runner.run(inspection) {
            Err(reason) => v.push(Check::fail("inspection", Some(target), reason)),
            Ok(link) => {
                v.push(Check::pass(
                    "inspection",
                    Some(target.clone()),
                    format!("Inspection ran {:?}.", inspection.run),
                ));
                let mut all = chosen.clone();
                all.insert(inspection.name.clone(), link.clone());
                check_rules(
                    &mut v,
                    &target,
                    &inspection.expected_materials,
                    &inspection.expected_products,
                    &link,
                    &all,
                )?;
                chosen.insert(inspection.name.clone(), link);
            }
        }
    }
    Ok(v)
}

fn check_rules(
    v: &mut Verification,
    target: &str,
    material_rules: &[Vec<String>],
    product_rules: &[Vec<String>],
    link: &Link,
    links: &BTreeMap<String, Link>,
) -> Result<(), Error> {
    for (which, raw, artifacts) in [
        ("materials", material_rules, &link.materials),
        ("products", product_rules, &link.products),
    ] {
        let rules = match parse_rules(raw) {
            Ok(r) => r,
            Err(e) => {
                v.push(Check::fail(
                    &format!("expected-{which}"),
                    Some(target.to_string()),
                    format!("{e}."),
                ));
                continue;
            }
        };
        let failures = verify_rules(&rules, artifacts, &link.materials, &link.products, links);
        if failures.is_empty() {
            v.push(Check::pass(
                &format!("expected-{which}"),
                Some(target.to_string()),
                format!("All {} {which} rule(s) hold.", rules.len()),
            ));
        } else {
            v.push(Check::fail(
                &format!("expected-{which}"),
                Some(target.to_string()),
                failures.join(" "),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn fnmatch_follows_python() {
        assert!(fnmatch("*", "a/b/c"));
        assert!(fnmatch("*.py", "dir/foo.py"));
        assert!(!fnmatch("*.py", "foo.pyc"));
        assert!(fnmatch("foo.?y", "foo.py"));
        assert!(fnmatch("[a-c]x", "bx"));
        assert!(!fnmatch("[!a-c]x", "bx"));
        assert!(fnmatch("[", "["));
        assert!(fnmatch("a*b*c", "aXXbYYc"));
        assert!(!fnmatch("a*b*c", "aXXbYY"));
        // Pathological pattern stays fast.
        let name = "a".repeat(5000);
        assert!(!fnmatch(&format!("{}b", "*a".repeat(50)), &name));
    }

    #[test]
    fn rule_parsing() -> Result<(), Error> {
        assert_eq!(Rule::parse(&s(&["create", "x"]))?, Rule::Create("x".into()));
        let m = Rule::parse(&s(&[
            "MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "IN", "dst", "FROM", "build",
        ]))?;
        assert!(
            matches!(m, Rule::Match(MatchRule { ref step, with_materials: false, .. }) if step == "build")
        );
        assert!(Rule::parse(&s(&["MATCH", "*", "WITH", "PRODUCTS"])).is_err());
        assert!(Rule::parse(&s(&["CREATE"])).is_err());
        assert!(Rule::parse(&s(&["FROB", "x"])).is_err());
        Ok(())
    }

    fn arts(items: &[(&str, &str)]) -> Artifacts {
        items
            .iter()
            .map(|(k, h)| {
                (
                    k.to_string(),
                    BTreeMap::from([("sha256".to_string(), h.to_string())]),
                )
            })
            .collect()
    }

    #[test]
    fn queue_semantics() {
        let materials = arts(&[("a", "1"), ("b", "2")]);
        let products = arts(&[("a", "1"), ("b", "3"), ("c", "4")]);
        let links = BTreeMap::new();
        // CREATE consumes c; MODIFY consumes b; ALLOW a; DISALLOW * then finds nothing.
        let rules = vec![
            Rule::Create("c".into()),
            Rule::Modify("b".into()),
            Rule::Allow("a".into()),
            Rule::Disallow("*".into()),
        ];
        assert!(verify_rules(&rules, &products, &materials, &products, &links).is_empty());
        // Without MODIFY, b is left and DISALLOW fails.
        let rules = vec![
            Rule::Create("c".into()),
            Rule::Allow("a".into()),
            Rule::Disallow("*".into()),
        ];
        assert_eq!(
            verify_rules(&rules, &products, &materials, &products, &links).len(),
            1
        );
        // REQUIRE.
        let rules = vec![Rule::Require("zzz".into())];
        assert_eq!(
            verify_rules(&rules, &products, &materials, &products, &links).len(),
            1
        );
    }

    #[test]
    fn match_with_prefixes() {
        let link = Link {
            type_: "link".into(),
            name: "build".into(),
            command: vec![],
            materials: BTreeMap::new(),
            products: arts(&[("out/x", "1")]),
            byproducts: Default::default(),
            environment: Default::default(),
        };
        let links = BTreeMap::from([("build".to_string(), link)]);
        let here = arts(&[("src/x", "1"), ("src/y", "2")]);
        let rules = vec![
            Rule::Match(MatchRule {
                pattern: "*".into(),
                source_prefix: Some("src".into()),
                with_materials: false,
                destination_prefix: Some("out".into()),
                step: "build".into(),
            }),
            Rule::Disallow("*".into()),
        ];
        let f = verify_rules(&rules, &here, &here, &BTreeMap::new(), &links);
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("src/y"));
    }
}
