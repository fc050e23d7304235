//! OWASP ZAP's traditional JSON report (`-J report.json`, the "Traditional
//! JSON Report" template): `site[].alerts[].instances[]`.
//!
//! Each alert instance (a URL, method and parameter) is one finding; an
//! alert without instances (older ZAP versions) is one finding on the site.
//! The rule is the alert's `alertRef` (the plugin id and variant), else its
//! `pluginid`; `riskcode` 0–3 is informational, low, medium, high.

use serde_json::Value;

use super::{add_tool, dedup_keep_order, located_fingerprint, new_import, strip_html, tool};
use crate::error::ImportError;
use crate::fingerprint::{self, normalize_url};
use crate::json::{MAX_TEXT_LEN, Node, cap};
use crate::model::{FindingKind, Format, Import, Location, Rating, RawFinding, UrlLocation};
use crate::severity::build;

/// Reads a ZAP JSON report.
pub(crate) fn import(value: &Value, document: &str) -> Result<Import, ImportError> {
    let root = Node::root(value);
    root.expect_object(document)?;
    let Some(site) = root.get("site") else {
        return Err(ImportError::invalid(
            document,
            "$.site",
            "missing: a ZAP JSON report has a site array",
        ));
    };
    let sites = if site.value.is_object() {
        vec![site]
    } else {
        root.objects("site", document)?
    };
    let mut import = new_import(document, Format::Zap);
    let name = root.str("@programName").unwrap_or_else(|| "ZAP".into());
    let tool = tool(&name, root.str("@version"));
    add_tool(&mut import, &tool);
    import.created_at = root.str("@generated");
    for site in sites {
        let site_url = site.str("@name").unwrap_or_default();
        if import.target.is_none() && !site_url.is_empty() {
            import.target = Some(site_url.clone());
        }
        for alert in site.objects("alerts", document)? {
            let rule_id = alert
                .str("alertRef")
                .or_else(|| alert.str("pluginid"))
                .unwrap_or_else(|| "(no plugin id)".into());
            let title = alert.str("alert").or_else(|| alert.str("name"));
            let description = alert
                .text("desc")
                .map(|d| strip_html(&d))
                .map(|d| cap(d, MAX_TEXT_LEN));
            let risk = alert.u64("riskcode");
            let rating = match risk {
                Some(0) => Some(Rating::None),
                Some(1) => Some(Rating::Low),
                Some(2) => Some(Rating::Medium),
                Some(3) => Some(Rating::High),
                _ => None,
            };
            let label = alert.str("riskdesc").or_else(|| {
                rating.map(|r| match r {
                    Rating::None => "Informational".to_owned(),
                    other => other.as_str().to_owned(),
                })
            });
            let severity = build(label, rating, None, None);
            let cwes: Vec<String> = alert
                .u64("cweid")
                .filter(|c| *c > 0)
                .map(|c| format!("CWE-{c}"))
                .into_iter()
                .collect();
            let mut tags: Vec<String> = Vec::new();
            if let Some(w) = alert.u64("wascid").filter(|w| *w > 0) {
                tags.push(format!("WASC-{w}"));
            }
            if let Some(c) = alert.str("confidence") {
                tags.push(format!("confidence:{c}"));
            }
            let references: Vec<String> = alert
                .text("reference")
                .map(|r| strip_html(&r))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            let mut instances = alert.objects("instances", document)?;
            let site_only = instances.is_empty();
            if site_only {
                instances.push(alert.clone());
            }
            for inst in instances {
                import.stats.results += 1;
                import.stats.imported += 1;
                let url = if site_only {
                    alert.str("uri").unwrap_or_else(|| site_url.clone())
                } else {
                    inst.str("uri").unwrap_or_else(|| site_url.clone())
                };
                let method = inst.str("method").map(|m| m.to_ascii_uppercase());
                let param = inst.str("param");
                let location = UrlLocation {
                    url: url.clone(),
                    method: method.clone(),
                    param: param.clone(),
                    attack: inst.str("attack"),
                    evidence: inst.str("evidence"),
                };
                let fp = located_fingerprint(
                    FindingKind::Dast,
                    &tool,
                    &[
                        &rule_id,
                        method.as_deref().unwrap_or_default(),
                        &normalize_url(&url),
                        param.as_deref().unwrap_or_default(),
                    ],
                );
                import.findings.push(RawFinding {
                    tool: tool.clone(),
                    kind: FindingKind::Dast,
                    rule_id: rule_id.clone(),
                    aliases: Vec::new(),
                    related: Vec::new(),
                    title: fingerprint::clean(title.clone()),
                    description: fingerprint::clean(description.clone()),
                    severity: severity.clone(),
                    location: Location::Url(location),
                    cwes: cwes.clone(),
                    references: dedup_keep_order(references.clone()),
                    tags: tags.clone(),
                    fingerprint: fp,
                    fingerprint_basis: "rule+method+url+param".into(),
                    document: document.to_owned(),
                    json_path: inst.path.clone(),
                    observed_at: None,
                    suppressed: false,
                });
            }
        }
    }
    Ok(import)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_findings() {
        let doc = serde_json::json!({
            "@programName": "ZAP", "@version": "2.15.0",
            "site": [{"@name": "https://shop.example", "alerts": [{
                "pluginid": "40012", "alertRef": "40012", "alert": "Cross Site Scripting (Reflected)",
                "riskcode": "3", "confidence": "2", "riskdesc": "High (Medium)", "desc": "<p>XSS</p>",
                "cweid": "79", "wascid": "8", "reference": "<p>https://owasp.org/xss</p>",
                "instances": [
                    {"uri": "https://shop.example/search?q=a", "method": "GET", "param": "q", "attack": "<script>"},
                    {"uri": "https://shop.example/search?q=b", "method": "GET", "param": "q"}
                ], "count": "2"}]}]
        });
        let i = import(&doc, "z.json").unwrap();
        assert_eq!(i.stats.results, 2);
        let (a, b) = (&i.findings[0], &i.findings[1]);
        // Same URL up to query values, same parameter: the same finding.
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.cwes, vec!["CWE-79"]);
        assert_eq!(a.severity.as_ref().unwrap().rating, Some(Rating::High));
        assert_eq!(a.description.as_deref(), Some("XSS"));
        assert_eq!(a.references, vec!["https://owasp.org/xss"]);
    }

    #[test]
    fn single_site_object_and_missing_site() {
        let doc = serde_json::json!({"@version": "2.9.0", "site": {"@name": "http://x", "alerts": [
            {"pluginid": "10020", "riskcode": "1"}]}});
        let i = import(&doc, "z").unwrap();
        assert_eq!(i.findings.len(), 1);
        assert_eq!(i.findings[0].location.summary(), "http://x");
        let e = import(&serde_json::json!({"@version": "2"}), "z").unwrap_err();
        assert_eq!(e.path(), Some("$.site"));
    }
}
