//! Falco JSON events (`json_output: true`): one JSON object per line, with
//! `rule`, `priority`, `output`, `time`, `hostname`, `source`, `tags` and
//! `output_fields`. A JSON array of events, or a single event, is read too.
//!
//! Each event is one finding on a runtime location (host, container, image,
//! Kubernetes namespace and pod, process). Its fingerprint leaves out the
//! time, the process id and the command line, so repeated events of one
//! rule by one program in one container merge into one finding. A line
//! that is not a JSON object (log text between events, a line cut short)
//! is a warning; a document with no event at all is an error.

use serde_json::Value;

use super::{add_tool, located_fingerprint, new_import, tool};
use crate::error::ImportError;
use crate::fingerprint;
use crate::json::{self, ImportOptions, Node, scalar_string};
use crate::model::{
    FindingKind, Format, Import, ImportWarning, Location, Rating, RawFinding, RuntimeLocation, Tool,
};
use crate::severity::build;

/// Reads newline-delimited events.
pub(crate) fn import_lines(
    bytes: &[u8],
    document: &str,
    options: &ImportOptions,
) -> Result<Import, ImportError> {
    let mut import = new_import(document, Format::Falco);
    let tool = tool("Falco", None);
    add_tool(&mut import, &tool);
    let mut first_error: Option<ImportError> = None;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        import.stats.results += 1;
        let prefix = format!("line {line_no}");
        let value = match json::parse(line, document, options) {
            Ok(v) => v,
            Err(e) => {
                let reason = match &e {
                    ImportError::Syntax {
                        path,
                        column,
                        reason,
                        ..
                    } => format!("{path}: {reason} (column {column})"),
                    other => other.to_string(),
                };
                import.warnings.push(ImportWarning {
                    path: prefix.clone(),
                    reason: format!("not a JSON event, skipped: {reason}"),
                });
                import.stats.skip("falco line not a JSON event");
                if first_error.is_none() {
                    first_error = Some(relabel(e, &prefix));
                }
                continue;
            }
        };
        let node = Node::at(&value, format!("{prefix} $"));
        read_event(&node, &tool, document, &mut import);
    }
    if import.findings.is_empty() {
        if let Some(e) = first_error {
            return Err(e);
        }
        if import.stats.results > 0 {
            return Err(ImportError::invalid(
                document,
                "line 1",
                "no Falco event (an object with rule and priority) found",
            ));
        }
    }
    Ok(import)
}

/// Reads an already parsed document: one event or an array of events.
pub(crate) fn import_value(value: &Value, document: &str) -> Result<Import, ImportError> {
    let mut import = new_import(document, Format::Falco);
    let tool = tool("Falco", None);
    add_tool(&mut import, &tool);
    let root = Node::root(value);
    let events = if value.is_array() {
        root.elements()
    } else {
        vec![root]
    };
    for e in events {
        e.expect_object(document)?;
        import.stats.results += 1;
        read_event(&e, &tool, document, &mut import);
    }
    Ok(import)
}

fn relabel(e: ImportError, prefix: &str) -> ImportError {
    match e {
        ImportError::Syntax {
            document,
            path,
            column,
            reason,
            ..
        } => ImportError::Invalid {
            document,
            path: format!("{prefix} {path}"),
            reason: format!("invalid JSON: {reason} (column {column})"),
        },
        ImportError::TooDeep {
            document,
            path,
            max,
            ..
        } => ImportError::TooDeep {
            document,
            path: format!("{prefix} {path}"),
            max,
        },
        other => other,
    }
}

fn field(fields: Option<&Node<'_>>, key: &str) -> Option<String> {
    fields
        .and_then(|f| f.value.get(key))
        .and_then(scalar_string)
        .map(|s| json::cap(s, json::MAX_SHORT_LEN))
        .filter(|s| s != "<NA>")
}

fn read_event(event: &Node<'_>, tool: &Tool, document: &str, import: &mut Import) {
    if !event.value.is_object() {
        import.warnings.push(ImportWarning {
            path: event.path.clone(),
            reason: format!(
                "expected a Falco event object, found {}; skipped",
                json::kind(event.value)
            ),
        });
        import.stats.skip("falco line not an event object");
        return;
    }
    let Some(rule) = event.str("rule") else {
        import.warnings.push(ImportWarning {
            path: event.child_path("rule"),
            reason: "missing: not a Falco event; skipped".into(),
        });
        import.stats.skip("falco event without rule");
        return;
    };
    let fields = event.obj("output_fields");
    let f = fields.as_ref();
    let container_id = field(f, "container.id").filter(|c| c != "host");
    let image = match (
        field(f, "container.image.repository"),
        field(f, "container.image.tag"),
    ) {
        (Some(r), Some(t)) => Some(format!("{r}:{t}")),
        (Some(r), None) => Some(r),
        (None, _) => field(f, "container.image"),
    };
    let location = RuntimeLocation {
        hostname: event.str("hostname"),
        container_id,
        container_name: field(f, "container.name").filter(|n| n != "host"),
        image,
        namespace: field(f, "k8s.ns.name"),
        pod: field(f, "k8s.pod.name"),
        process: field(f, "proc.name").or_else(|| field(f, "proc.exepath")),
        cmdline: field(f, "proc.cmdline"),
        pid: f
            .and_then(|f| f.value.get("proc.pid"))
            .and_then(json::value_u64),
        user: field(f, "user.name"),
    };
    let priority = event.str("priority");
    let rating = priority
        .as_deref()
        .map(|p| match p.to_ascii_lowercase().as_str() {
            "emergency" | "alert" | "critical" => Rating::Critical,
            "error" => Rating::High,
            "warning" => Rating::Medium,
            "notice" => Rating::Low,
            _ => Rating::None,
        });
    let fp = located_fingerprint(
        FindingKind::Runtime,
        tool,
        &[
            &rule,
            location.hostname.as_deref().unwrap_or_default(),
            location.container_id.as_deref().unwrap_or_default(),
            location.image.as_deref().unwrap_or_default(),
            location.namespace.as_deref().unwrap_or_default(),
            location.pod.as_deref().unwrap_or_default(),
            location.process.as_deref().unwrap_or_default(),
        ],
    );
    let mut tags = event.strings("tags");
    if let Some(s) = event.str("source") {
        tags.push(format!("source:{s}"));
    }
    import.stats.imported += 1;
    import.findings.push(RawFinding {
        tool: tool.clone(),
        kind: FindingKind::Runtime,
        title: Some(rule.clone()),
        rule_id: rule,
        aliases: Vec::new(),
        related: Vec::new(),
        description: fingerprint::clean(event.text("output")),
        severity: build(priority, rating, None, None),
        location: Location::Runtime(location),
        cwes: Vec::new(),
        references: Vec::new(),
        tags: fingerprint::sorted(tags),
        fingerprint: fp,
        fingerprint_basis: "rule+host+container+process".into(),
        document: document.to_owned(),
        json_path: event.path.clone(),
        observed_at: event.str("time"),
        suppressed: false,
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EVENTS: &str = r#"{"hostname":"node-1","output":"Shell spawned (user=root)","priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container","shell"],"time":"2024-05-01T10:00:00.000000000Z","output_fields":{"container.id":"4f2a9c1d0b7e","container.name":"web","container.image.repository":"nginx","container.image.tag":"1.25","k8s.ns.name":"shop","k8s.pod.name":"web-5d8","proc.name":"bash","proc.cmdline":"bash -i","proc.pid":4242,"user.name":"root"}}
Falco internal: syscall event drop
{"hostname":"node-1","output":"Shell spawned (user=root)","priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container","shell"],"time":"2024-05-01T10:05:00.000000000Z","output_fields":{"container.id":"4f2a9c1d0b7e","container.name":"web","container.image.repository":"nginx","container.image.tag":"1.25","k8s.ns.name":"shop","k8s.pod.name":"web-5d8","proc.name":"bash","proc.cmdline":"bash -c id","proc.pid":4300,"user.name":"root"}}
"#;

    #[test]
    fn events_and_noise() {
        let i = import_lines(EVENTS.as_bytes(), "f.jsonl", &ImportOptions::default()).unwrap();
        assert_eq!(i.stats.results, 3);
        assert_eq!(i.stats.imported, 2);
        assert_eq!(i.warnings.len(), 1);
        assert!(i.warnings[0].path == "line 2", "{:?}", i.warnings);
        let (a, b) = (&i.findings[0], &i.findings[1]);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.severity.as_ref().unwrap().rating, Some(Rating::Low));
        assert_eq!(a.json_path, "line 1 $");
        match &a.location {
            Location::Runtime(r) => {
                assert_eq!(r.image.as_deref(), Some("nginx:1.25"));
                assert_eq!(r.pid, Some(4242));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nothing_but_garbage_is_an_error() {
        let e = import_lines(b"{\"rule\": \n", "f", &ImportOptions::default()).unwrap_err();
        assert_eq!(e.path(), Some("line 1 $.rule"), "{e}");
        let e = import_lines(b"{\"a\":1}\n", "f", &ImportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no Falco event"), "{e}");
    }
}
