//! SARIF 2.1.0 logs (and the 2.0.0 drafts some converters still write).
//!
//! One finding per `runs[].results[]` entry, except results whose `kind` is
//! `pass` or `notApplicable` and results whose `baselineState` is `absent`
//! (they say there is *no* problem), which are counted as skipped.
//!
//! The rule is found by `ruleId`, `rule.id`, or `ruleIndex` / `rule.index`
//! into the driver's (or an extension's) rules; the 2.0 layout
//! (`tool.name`, `resources.rules` as a map, `fileLocation`,
//! `fullyQualifiedLogicalName`, `messageId`) is read too. The message is
//! `message.text`, else the rule's message string with its arguments. The
//! severity is `level` (result, then the rule's default, else `warning`),
//! with GitHub's `security-severity` property as a score when present.
//!
//! Fingerprints: `fingerprints` when present; else `partialFingerprints`
//! with the rule and path; else the rule, path, logical location and
//! message (see [`crate::fingerprint`]).

use std::collections::HashMap;

use serde_json::Value;

use super::{add_tool, dedup_keep_order, located_fingerprint, new_import, tool};
use crate::error::ImportError;
use crate::fingerprint::{self, cwes_in, normalize_message, normalize_path, sorted};
use crate::json::{Node, scalar_string};
use crate::model::{FileLocation, FindingKind, Format, Import, Location, Rating, RawFinding, Tool};
use crate::severity::{build, rating_of_score};

struct Rules<'a> {
    list: Vec<Node<'a>>,
    by_id: HashMap<String, usize>,
}

impl<'a> Rules<'a> {
    fn new(list: Vec<Node<'a>>) -> Rules<'a> {
        let mut by_id = HashMap::new();
        for (i, r) in list.iter().enumerate() {
            if let Some(id) = r.str("id") {
                by_id.entry(id).or_insert(i);
            }
        }
        Rules { list, by_id }
    }

    fn by_id(&self, id: &str) -> Option<&Node<'a>> {
        self.by_id
            .get(id)
            .or_else(|| {
                id.split_once('/')
                    .and_then(|(base, _)| self.by_id.get(base))
            })
            .and_then(|&i| self.list.get(i))
    }
}

/// Reads a SARIF log.
pub(crate) fn import(value: &Value, document: &str) -> Result<Import, ImportError> {
    let root = Node::root(value);
    root.expect_object(document)?;
    if let Some(v) = root.str("version")
        && !v.starts_with('2')
    {
        return Err(ImportError::invalid(
            document,
            "$.version",
            format!("SARIF version {v:?} is not supported (2.1.0 and the 2.0.0 drafts are)"),
        ));
    }
    if root.get("runs").is_none() {
        return Err(ImportError::invalid(
            document,
            "$.runs",
            "missing: a SARIF log has a runs array",
        ));
    }
    let mut import = new_import(document, Format::Sarif);
    for run in root.objects("runs", document)? {
        read_run(&run, document, &mut import)?;
    }
    fingerprint::disambiguate(&mut import.findings);
    Ok(import)
}

fn read_run(run: &Node<'_>, document: &str, import: &mut Import) -> Result<(), ImportError> {
    let tool_node = run.obj("tool");
    // 2.1: tool.driver; 2.0: the tool object itself.
    let driver = tool_node
        .as_ref()
        .and_then(|t| t.obj("driver"))
        .or_else(|| tool_node.clone());
    let name = driver
        .as_ref()
        .and_then(|d| d.str("name").or_else(|| d.str("fullName")))
        .unwrap_or_else(|| "unknown SARIF tool".to_owned());
    let version = driver
        .as_ref()
        .and_then(|d| d.str("semanticVersion").or_else(|| d.str("version")));
    let tool = tool(name.trim(), version);
    add_tool(import, &tool);
    if import.created_at.is_none() {
        import.created_at = run
            .get("invocations")
            .and_then(|i| i.elements().into_iter().next())
            .and_then(|i| i.str("endTimeUtc").or_else(|| i.str("startTimeUtc")));
    }

    let mut rule_nodes: Vec<Node<'_>> = driver
        .as_ref()
        .map(|d| d.get("rules").map(|r| r.elements()).unwrap_or_default())
        .unwrap_or_default();
    // 2.0: resources.rules is a map from id to rule.
    if let Some(map) = run.at_path(&["resources", "rules"])
        && let Some(obj) = map.object()
    {
        for (k, v) in obj {
            if v.is_object() {
                rule_nodes.push(Node::at(v, map.child_path(k)));
            }
        }
    }
    let rules = Rules::new(rule_nodes);
    let extensions: Vec<Rules<'_>> = tool_node
        .as_ref()
        .and_then(|t| t.get("extensions"))
        .map(|e| e.elements())
        .unwrap_or_default()
        .iter()
        .map(|ext| Rules::new(ext.get("rules").map(|r| r.elements()).unwrap_or_default()))
        .collect();
    let bases: Vec<String> = run
        .obj("originalUriBaseIds")
        .and_then(|b| b.object().map(|o| o.values().cloned().collect::<Vec<_>>()))
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.get("uri").and_then(scalar_string))
        .filter(|u| u.contains("://"))
        .collect();
    let artifacts: Vec<Node<'_>> = run
        .get("artifacts")
        .map(|a| a.elements())
        .unwrap_or_default();

    for result in run.objects("results", document)? {
        import.stats.results += 1;
        if let Some(kind) = result.str("kind")
            && (kind == "pass" || kind == "notApplicable")
        {
            import.stats.skip(&format!("sarif result kind {kind}"));
            continue;
        }
        if result.str("baselineState").as_deref() == Some("absent") {
            import.stats.skip("sarif baselineState absent");
            continue;
        }
        let finding = read_result(
            &result,
            &tool,
            &rules,
            &extensions,
            &bases,
            &artifacts,
            document,
        );
        import.stats.imported += 1;
        import.findings.push(finding);
    }
    Ok(())
}

fn read_result(
    result: &Node<'_>,
    tool: &Tool,
    rules: &Rules<'_>,
    extensions: &[Rules<'_>],
    bases: &[String],
    artifacts: &[Node<'_>],
    document: &str,
) -> RawFinding {
    let rule_ref = result.obj("rule");
    let mut rule_id = result
        .str("ruleId")
        .or_else(|| rule_ref.as_ref().and_then(|r| r.str("id")));
    let index = result
        .u64("ruleIndex")
        .or_else(|| rule_ref.as_ref().and_then(|r| r.u64("index")));
    let ext = rule_ref
        .as_ref()
        .and_then(|r| r.at_path(&["toolComponent"]))
        .and_then(|t| t.u64("index"));
    let table = match ext {
        Some(e) => usize::try_from(e).ok().and_then(|e| extensions.get(e)),
        None => Some(rules),
    };
    let rule = table.and_then(|t| {
        index
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| t.list.get(i))
            .or_else(|| rule_id.as_deref().and_then(|id| t.by_id(id)))
    });
    if rule_id.is_none() {
        rule_id = rule.and_then(|r| r.str("id"));
    }
    let rule_id = rule_id.unwrap_or_else(|| "(no rule id)".to_owned());

    let message = message_text(result, rule);
    let level = result
        .str("level")
        .or_else(|| rule.and_then(|r| r.at_path(&["defaultConfiguration", "level"])?.as_string()))
        .or_else(|| rule.and_then(|r| r.at_path(&["configuration", "defaultLevel"])?.as_string()))
        .unwrap_or_else(|| "warning".to_owned());
    let security_severity = result
        .at_path(&["properties", "security-severity"])
        .or_else(|| rule.and_then(|r| r.at_path(&["properties", "security-severity"])))
        .and_then(|n| crate::json::value_f64(n.value));
    let level_rating = match level.as_str() {
        "error" => Some(Rating::High),
        "warning" => Some(Rating::Medium),
        "note" => Some(Rating::Low),
        "none" => Some(Rating::None),
        _ => None,
    };
    let severity = build(
        Some(level),
        security_severity.map(rating_of_score).or(level_rating),
        None,
        security_severity,
    );

    let location = read_location(result, bases, artifacts);
    let (path, logical) = fingerprint::file_parts(&location);

    let fingerprints = pairs(result.obj("fingerprints"));
    let partial = pairs(result.obj("partialFingerprints"));
    let (fp, basis) = if !fingerprints.is_empty() {
        let mut parts: Vec<&str> = vec!["fingerprints"];
        parts.extend(fingerprints.iter().map(String::as_str));
        (
            located_fingerprint(FindingKind::Code, tool, &parts),
            "sarif-fingerprints",
        )
    } else if !partial.is_empty() {
        // Partial fingerprints are partial: converters write message ids
        // (`UniqueId: Default`) there. The logical location takes part,
        // and results still alike are told apart by their ordinal.
        let mut parts: Vec<&str> = vec!["partialFingerprints", &rule_id, &path, &logical];
        parts.extend(partial.iter().map(String::as_str));
        (
            located_fingerprint(FindingKind::Code, tool, &parts),
            "sarif-partial-fingerprints",
        )
    } else {
        let msg = normalize_message(message.as_deref().unwrap_or_default());
        (
            located_fingerprint(FindingKind::Code, tool, &[&rule_id, &path, &logical, &msg]),
            "computed:rule+location+message",
        )
    };

    let mut tags: Vec<String> = Vec::new();
    if let Some(r) = rule
        && let Some(p) = r.obj("properties")
    {
        tags.extend(p.strings("tags"));
    }
    if let Some(p) = result.obj("properties") {
        tags.extend(p.strings("tags"));
    }
    let mut cwes: Vec<String> = tags.iter().flat_map(|t| cwes_in(t)).collect();
    if let Some(r) = rule {
        for rel in r
            .get("relationships")
            .map(|x| x.elements())
            .unwrap_or_default()
        {
            let Some(target) = rel.obj("target") else {
                continue;
            };
            let is_cwe = target
                .at_path(&["toolComponent", "name"])
                .and_then(|n| n.as_string())
                .is_some_and(|n| n.eq_ignore_ascii_case("cwe"));
            if let (true, Some(id)) = (is_cwe, target.str("id")) {
                cwes.extend(cwes_in(&format!("CWE-{id}")));
            }
        }
    }
    let title = rule
        .and_then(|r| {
            r.at_path(&["shortDescription", "text"])
                .and_then(|n| n.as_string())
                .or_else(|| r.str("name"))
        })
        .or_else(|| {
            message
                .as_deref()
                .and_then(|m| m.lines().next())
                .map(|l| crate::json::cap(l.to_owned(), 200))
        });
    let references = rule.and_then(|r| r.str("helpUri")).into_iter().collect();

    RawFinding {
        tool: tool.clone(),
        kind: FindingKind::Code,
        rule_id,
        aliases: Vec::new(),
        related: Vec::new(),
        title: fingerprint::clean(title),
        description: fingerprint::clean(message),
        severity,
        location: Location::File(location),
        cwes: sorted(cwes),
        references: dedup_keep_order(references),
        tags: sorted(tags),
        fingerprint: fp,
        fingerprint_basis: basis.to_owned(),
        document: document.to_owned(),
        json_path: result.path.clone(),
        observed_at: None,
        suppressed: suppressed(result),
    }
}

/// `k=v` strings of a fingerprint map, sorted.
fn pairs(map: Option<Node<'_>>) -> Vec<String> {
    let Some(obj) = map.as_ref().and_then(|m| m.object()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = obj
        .iter()
        .filter_map(|(k, v)| scalar_string(v).map(|v| format!("{k}={v}")))
        .collect();
    out.sort();
    out
}

fn suppressed(result: &Node<'_>) -> bool {
    let by_suppressions = result
        .get("suppressions")
        .map(|s| s.elements())
        .unwrap_or_default()
        .iter()
        .any(|s| matches!(s.str("status").as_deref(), None | Some("accepted")));
    let by_states = !result.strings("suppressionStates").is_empty();
    by_suppressions || by_states
}

/// The message: `text` (or `markdown`), else the rule's message string for
/// `id` (2.0: `messageId`) with `{n}` replaced by the arguments.
fn message_text(result: &Node<'_>, rule: Option<&Node<'_>>) -> Option<String> {
    let msg = result.obj("message")?;
    if let Some(t) = msg.text("text").or_else(|| msg.text("markdown")) {
        return Some(t);
    }
    let id = msg.str("id").or_else(|| msg.str("messageId"))?;
    let template = rule.and_then(|r| {
        r.at_path(&["messageStrings", &id, "text"])
            .and_then(|n| n.as_string())
            .or_else(|| {
                r.at_path(&["messageStrings", &id])
                    .and_then(|n| n.as_string())
            })
    })?;
    let args = msg.strings("arguments");
    let mut out = template;
    for (i, a) in args.iter().enumerate().take(64) {
        out = out.replace(&format!("{{{i}}}"), a);
    }
    Some(crate::json::cap(out, crate::json::MAX_TEXT_LEN))
}

fn read_location(result: &Node<'_>, bases: &[String], artifacts: &[Node<'_>]) -> FileLocation {
    let mut loc = FileLocation::default();
    let first = result
        .get("locations")
        .and_then(|l| l.elements().into_iter().next());
    if let Some(first) = &first {
        let physical = first.obj("physicalLocation");
        if let Some(p) = &physical {
            let art = p.obj("artifactLocation").or_else(|| p.obj("fileLocation"));
            if let Some(a) = &art {
                let uri = a.str("uri").or_else(|| {
                    let i = usize::try_from(a.u64("index")?).ok()?;
                    artifacts.get(i)?.at_path(&["location", "uri"])?.as_string()
                });
                loc.path = uri
                    .map(|u| normalize_path(&u, bases))
                    .filter(|p| !p.is_empty());
            }
            if let Some(r) = p.obj("region") {
                loc.start_line = r.u64("startLine").filter(|l| *l > 0);
                loc.end_line = r.u64("endLine").filter(|l| *l > 0).or(loc.start_line);
                loc.start_column = r.u64("startColumn").filter(|c| *c > 0);
                loc.end_column = r.u64("endColumn").filter(|c| *c > 0);
            }
        }
        loc.logical = first
            .get("logicalLocations")
            .and_then(|l| l.elements().into_iter().next())
            .and_then(|l| {
                l.str("fullyQualifiedName")
                    .or_else(|| l.str("name"))
                    .or_else(|| l.str("decoratedName"))
            })
            .or_else(|| first.str("fullyQualifiedLogicalName"));
    }
    if loc.path.is_none() {
        loc.path = result
            .obj("analysisTarget")
            .and_then(|a| a.str("uri"))
            .map(|u| normalize_path(&u, bases))
            .filter(|p| !p.is_empty());
    }
    loc
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(doc: serde_json::Value) -> Import {
        import(&doc, "t.sarif").unwrap()
    }

    #[test]
    fn reads_rule_by_index_and_message_strings() {
        let i = run(serde_json::json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "Demo", "version": "1.2", "rules": [
                    {"id": "R1", "shortDescription": {"text": "Rule one"},
                     "messageStrings": {"m": {"text": "{0} is bad in {1}"}},
                     "defaultConfiguration": {"level": "error"},
                     "properties": {"tags": ["security", "external/cwe/cwe-079"], "security-severity": "9.1"}}
                ]}},
                "results": [
                    {"ruleIndex": 0, "message": {"id": "m", "arguments": ["x", "f()"]},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "./src\\a.py", "uriBaseId": "SRC"},
                        "region": {"startLine": 4}}}]},
                    {"ruleId": "R1", "kind": "pass", "message": {"text": "ok"}}
                ]
            }]
        }));
        assert_eq!(i.stats.results, 2);
        assert_eq!(i.stats.imported, 1);
        let f = &i.findings[0];
        assert_eq!(f.rule_id, "R1");
        assert_eq!(f.description.as_deref(), Some("x is bad in f()"));
        assert_eq!(f.title.as_deref(), Some("Rule one"));
        assert_eq!(f.cwes, vec!["CWE-79"]);
        let s = f.severity.as_ref().unwrap();
        assert_eq!((s.rating, s.score), (Some(Rating::Critical), Some(9.1)));
        match &f.location {
            Location::File(l) => {
                assert_eq!(l.path.as_deref(), Some("src/a.py"));
                assert_eq!((l.start_line, l.end_line), (Some(4), Some(4)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(i.tools[0].version.as_deref(), Some("1.2"));
    }

    #[test]
    fn fingerprints_ignore_lines_and_prefer_tool_fingerprints() {
        let mk = |line: u64, pfp: Option<&str>| {
            let mut r = serde_json::json!({"ruleId": "X", "message": {"text": "bad thing on line 3"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": line}}}]});
            if let Some(p) = pfp {
                r["partialFingerprints"] = serde_json::json!({"primaryLocationLineHash": p});
            }
            run(serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, "results": [r]}]}))
                .findings
                .remove(0)
        };
        assert_eq!(mk(3, None).fingerprint, mk(30, None).fingerprint);
        assert_eq!(
            mk(3, Some("abc")).fingerprint,
            mk(9, Some("abc")).fingerprint
        );
        assert_ne!(
            mk(3, Some("abc")).fingerprint,
            mk(3, Some("abd")).fingerprint
        );
        assert_eq!(
            mk(3, Some("abc")).fingerprint_basis,
            "sarif-partial-fingerprints"
        );
    }

    #[test]
    fn same_rule_twice_in_a_file_gets_two_fingerprints() {
        let r = serde_json::json!({"ruleId": "X", "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}}}]});
        let i = run(
            serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, "results": [r.clone(), r]}]}),
        );
        assert_ne!(i.findings[0].fingerprint, i.findings[1].fingerprint);
    }

    #[test]
    fn version_2_0_layout() {
        let i = run(serde_json::json!({
            "version": "2.0.0",
            "runs": [{
                "tool": {"name": "Old", "semanticVersion": "0.9"},
                "resources": {"rules": {"C1": {"id": "C1", "name": "Cee", "messageStrings": {"d": "{0}!"},
                   "configuration": {"defaultLevel": "note"}}}},
                "results": [{"ruleId": "C1", "message": {"messageId": "d", "arguments": ["hey"]},
                    "locations": [{"physicalLocation": {"fileLocation": {"uri": "file:///C:/x/y.cs"}},
                                   "fullyQualifiedLogicalName": "N.C.M"}],
                    "suppressionStates": ["suppressedInSource"]}]
            }]
        }));
        let f = &i.findings[0];
        assert_eq!(f.tool.name, "Old");
        assert_eq!(f.description.as_deref(), Some("hey!"));
        assert_eq!(f.severity.as_ref().unwrap().rating, Some(Rating::Low));
        assert!(f.suppressed);
        match &f.location {
            Location::File(l) => {
                assert_eq!(l.path.as_deref(), Some("C:/x/y.cs"));
                assert_eq!(l.logical.as_deref(), Some("N.C.M"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn structural_errors_name_the_path() {
        let v = serde_json::json!({"version": "2.1.0", "runs": [{"results": "nope"}]});
        let e = import(&v, "d").unwrap_err();
        assert_eq!(e.path(), Some("$.runs[0].results"));
        let v = serde_json::json!({"version": "2.1.0", "runs": [{"results": [1]}]});
        assert_eq!(
            import(&v, "d").unwrap_err().path(),
            Some("$.runs[0].results[0]")
        );
        let v = serde_json::json!({"version": "1.0.0", "runs": []});
        assert_eq!(import(&v, "d").unwrap_err().path(), Some("$.version"));
        let v = serde_json::json!({"version": "2.1.0"});
        assert_eq!(import(&v, "d").unwrap_err().path(), Some("$.runs"));
    }
}
