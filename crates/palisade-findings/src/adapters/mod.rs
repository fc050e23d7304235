//! One module per scanner format. Each reads a parsed document into an
//! [`Import`]: structural problems (a list that is not a list, an element
//! that is not an object) are errors naming the JSON path; a field of the
//! wrong type is read as absent, and whatever cannot be used is a warning.

pub(crate) mod falco;
pub(crate) mod grype;
pub(crate) mod osv_scanner;
pub(crate) mod sarif;
pub(crate) mod trivy;
pub(crate) mod zap;

use crate::fingerprint::{self, component_key, hash, sorted, tool_key};
use crate::model::{
    ComponentLocation, FindingKind, Format, Import, ImportStats, Location, RawFinding, Severity,
    Tool,
};

/// A fresh import.
pub(crate) fn new_import(document: &str, format: Format) -> Import {
    Import {
        document: document.to_owned(),
        format,
        tools: Vec::new(),
        target: None,
        created_at: None,
        stats: ImportStats::default(),
        findings: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Adds `tool` to the import's tools once.
pub(crate) fn add_tool(import: &mut Import, tool: &Tool) {
    if !import.tools.contains(tool) {
        import.tools.push(tool.clone());
    }
}

pub(crate) fn tool(name: &str, version: Option<String>) -> Tool {
    Tool {
        vendor: None,
        name: name.to_owned(),
        version: version.filter(|v| !v.trim().is_empty()),
    }
}

/// The common parts of a component vulnerability.
pub(crate) struct VulnParts {
    pub tool: Tool,
    pub id: String,
    pub aliases: Vec<String>,
    pub related: Vec<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<Severity>,
    pub component: ComponentLocation,
    pub cwes: Vec<String>,
    pub references: Vec<String>,
    pub document: String,
    pub json_path: String,
}

/// A vulnerability finding with its fingerprint (component key and id).
pub(crate) fn vulnerability(p: VulnParts) -> RawFinding {
    let id = p.id.trim().to_owned();
    let aliases: Vec<String> = sorted(
        p.aliases
            .into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty() && *a != id)
            .collect(),
    );
    let related = sorted(
        p.related
            .into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty() && *a != id && !aliases.contains(a))
            .collect(),
    );
    let key = component_key(&p.component);
    let mut component = p.component;
    component.fixed_versions = sorted(
        component
            .fixed_versions
            .into_iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect(),
    );
    component.paths = sorted(component.paths);
    RawFinding {
        fingerprint: hash("vulnerability", &[&key, &id]),
        fingerprint_basis: "component+id".to_owned(),
        tool: p.tool,
        kind: FindingKind::Vulnerability,
        rule_id: id,
        aliases,
        related,
        title: fingerprint::clean(p.title),
        description: fingerprint::clean(p.description),
        severity: p.severity,
        location: Location::Component(component),
        cwes: sorted(p.cwes),
        references: dedup_keep_order(p.references),
        tags: Vec::new(),
        document: p.document,
        json_path: p.json_path,
        observed_at: None,
        suppressed: false,
    }
}

/// The fingerprint of a finding identified by rule and location parts.
pub(crate) fn located_fingerprint(kind: FindingKind, tool: &Tool, parts: &[&str]) -> String {
    let t = tool_key(&tool.name);
    let mut all: Vec<&str> = vec![&t];
    all.extend_from_slice(parts);
    hash(kind.as_str(), &all)
}

pub(crate) fn dedup_keep_order(v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    v.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && seen.insert(s.clone()))
        .collect()
}

/// Strips HTML tags and decodes the common entities (ZAP writes HTML).
pub(crate) fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in s.chars() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                let t = tag.trim_start_matches('/').to_ascii_lowercase();
                if (t.starts_with('p') && t.len() == 1)
                    || t.starts_with("br")
                    || t.starts_with("li")
                {
                    out.push('\n');
                }
                tag.clear();
            } else if tag.len() < 16 {
                tag.push(c);
            }
        } else if c == '<' {
            in_tag = true;
        } else {
            out.push(c);
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_stripped() {
        assert_eq!(
            strip_html("<p>One &amp; two</p><p>three<br/>four</p>"),
            "One & two\nthree\nfour"
        );
        assert_eq!(strip_html("a < b"), "a");
    }
}
