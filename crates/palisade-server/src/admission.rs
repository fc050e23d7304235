//! The Kubernetes validating admission webhook (`admission.k8s.io/v1`
//! AdmissionReview).
//!
//! For a Pod, or the pod template of a Deployment, StatefulSet, DaemonSet,
//! ReplicaSet, Job or CronJob, every container image (init and ephemeral
//! containers too) is resolved to a digest from the reference or the store,
//! the namespace's environment is found, and the stored evidence is decided
//! on by the compiled policy bundle ([`crate::decide`]). The response allows,
//! allows with warnings, or denies with the reasons; each decision is
//! recorded and, when the namespace belongs to an application, the
//! deployment is registered.
//!
//! Our own serde types rather than `k8s-openapi`: the webhook reads a
//! handful of fields of many kinds, and the full generated types would cost
//! more to build than everything else in this crate.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The review as received.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    /// `admission.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `AdmissionReview`.
    #[serde(default)]
    pub kind: String,
    /// The request.
    pub request: Option<AdmissionRequest>,
}

/// The request part of a review.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// Echoed in the response.
    pub uid: String,
    /// The object's kind.
    pub kind: GroupVersionKind,
    /// The namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`.
    #[serde(default)]
    pub operation: String,
    /// The object.
    #[serde(default)]
    pub object: Option<Value>,
    /// Whether the request is a dry run (nothing is registered then).
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// The object's name (absent for generated names on CREATE).
    #[serde(default)]
    pub name: Option<String>,
}

/// A group, version and kind.
#[derive(Debug, Deserialize)]
pub struct GroupVersionKind {
    /// The group (`""` for core, `apps`, `batch`).
    #[serde(default)]
    pub group: String,
    /// The version.
    #[serde(default)]
    pub version: String,
    /// The kind.
    pub kind: String,
}

/// The response review.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewResponse {
    /// `admission.k8s.io/v1`.
    pub api_version: &'static str,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The response.
    pub response: AdmissionResponse,
}

/// The verdict.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// The request's uid.
    pub uid: String,
    /// Whether it is admitted.
    pub allowed: bool,
    /// Shown to the client (kubectl prints them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A denial's status.
#[derive(Debug, Serialize)]
pub struct Status {
    /// HTTP-like code (403).
    pub code: u16,
    /// The reasons.
    pub message: String,
    /// `Forbidden`.
    pub reason: &'static str,
}

/// A container found in a pod spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// The container's name.
    pub name: String,
    /// The image reference.
    pub image: String,
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: &'static str,
}

/// Why a review cannot be handled.
#[derive(Debug, PartialEq, Eq)]
pub enum ReviewError {
    /// Not an AdmissionReview v1 with a request.
    Malformed(String),
}

impl std::fmt::Display for ReviewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReviewError::Malformed(m) => f.write_str(m),
        }
    }
}

/// Parses a review, naming the JSON path of what is wrong.
pub fn parse_review(bytes: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let review: AdmissionReview = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ReviewError::Malformed(format!("{}: {}", e.path(), e.inner())))?;
    if !review.api_version.is_empty() && review.api_version != "admission.k8s.io/v1" {
        return Err(ReviewError::Malformed(format!(
            "apiVersion: expected admission.k8s.io/v1, got {:?}",
            review.api_version
        )));
    }
    if !review.kind.is_empty() && review.kind != "AdmissionReview" {
        return Err(ReviewError::Malformed(format!(
            "kind: expected AdmissionReview, got {:?}",
            review.kind
        )));
    }
    review
        .request
        .ok_or_else(|| ReviewError::Malformed("request: missing".to_owned()))
}

/// The pod spec inside an object of `kind`, or `None` for kinds that run no
/// pods.
pub fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    let spec = object.get("spec")?;
    match kind {
        "Pod" => Some(spec),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => spec.get("template")?.get("spec"),
        "CronJob" => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

/// Every container of a pod spec, init and ephemeral ones included.
pub fn containers(spec: &Value) -> Vec<Container> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(items) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for c in items {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let image = c
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            out.push(Container { name, image, list });
        }
    }
    out
}

/// The workload's name: the object's name, the request's, or its
/// `generateName` without the trailing dash; for a Pod owned by a
/// controller, the owner's name.
pub fn workload_name(req: &AdmissionRequest, object: &Value) -> String {
    let meta = object.get("metadata");
    if req.kind.kind == "Pod"
        && let Some(owner) = meta
            .and_then(|m| m.get("ownerReferences"))
            .and_then(Value::as_array)
            .and_then(|o| {
                o.iter()
                    .find(|r| r.get("controller") == Some(&Value::Bool(true)))
            })
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
    {
        return owner.to_owned();
    }
    meta.and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| req.name.clone().filter(|n| !n.is_empty()))
        .or_else(|| {
            meta.and_then(|m| m.get("generateName"))
                .and_then(Value::as_str)
                .map(|g| g.trim_end_matches('-').to_owned())
        })
        .unwrap_or_default()
}

/// The labels of the object.
pub fn labels(object: &Value) -> std::collections::BTreeMap<String, String> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the response.
pub fn respond(
    uid: String,
    allowed: bool,
    warnings: Vec<String>,
    message: Option<String>,
) -> AdmissionReviewResponse {
    AdmissionReviewResponse {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: AdmissionResponse {
            uid,
            allowed,
            warnings,
            status: if allowed {
                None
            } else {
                Some(Status {
                    code: 403,
                    message: message.unwrap_or_else(|| "denied by policy".to_owned()),
                    reason: "Forbidden",
                })
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_containers_of_every_kind() {
        let pod = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}],
            "initContainers": [{"name": "i", "image": "y@sha256:00"}],
            "ephemeralContainers": [{"name": "e", "image": "z"}]}});
        let spec = pod_spec("Pod", &pod).unwrap();
        let c = containers(spec);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].list, "initContainers");
        let tpl = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}});
        for k in [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "Job",
        ] {
            assert_eq!(containers(pod_spec(k, &tpl).unwrap()).len(), 1, "{k}");
        }
        let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "q"}]}}}}}});
        assert_eq!(
            containers(pod_spec("CronJob", &cron).unwrap())[0].image,
            "q"
        );
        assert!(pod_spec("ConfigMap", &tpl).is_none());
    }

    #[test]
    fn malformed_reviews_name_the_path() {
        let err = parse_review(br#"{"request": {"uid": 3}}"#).unwrap_err();
        assert!(err.to_string().contains("request.uid"), "{err}");
        let err = parse_review(br#"{"apiVersion": "admission.k8s.io/v1beta1", "request": {"uid": "u", "kind": {"kind": "Pod"}}}"#).unwrap_err();
        assert!(err.to_string().contains("apiVersion"), "{err}");
        assert!(parse_review(b"{}").is_err());
    }

    #[test]
    fn workload_names() {
        let req = parse_review(br#"{"request": {"uid": "u", "kind": {"kind": "Pod"}}}"#).unwrap();
        let owned = json!({"metadata": {"generateName": "web-7d9-", "ownerReferences": [{"controller": true, "name": "web-7d9"}]}});
        assert_eq!(workload_name(&req, &owned), "web-7d9");
        let gen_name = json!({"metadata": {"generateName": "job-"}});
        assert_eq!(workload_name(&req, &gen_name), "job");
    }
}
