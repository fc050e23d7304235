//! The engine: compile a bundle once, decide many times.
//!
//! Design: [`Engine::new`] parses every policy module of a bundle with
//! regorus, loads its data, discovers the policies (every package that
//! declares at least one of `deny`, `violation`, `warn` or `allow`), checks
//! and resolves the environments, and warms the regorus engine up so that
//! its compiled state is shared by every clone. [`Engine::decide`] takes
//! `&self`, clones that prepared regorus engine (its modules and schedule are
//! reference counted, so the clone copies pointers, not policies), sets the
//! input and evaluates the rules of every policy that is not `off`. The
//! engine is `Send + Sync + Clone`: a server keeps one per bundle and calls
//! `decide` from any thread.
//!
//! Protocol of a policy package, the same as conftest's and Gatekeeper's so
//! that existing policies carry over:
//!
//! * `deny`, `violation`, `warn`: sets (or arrays) of violations. A violation
//!   is a string (the message) or an object with `msg` (or `message`) and
//!   optionally `severity` (`critical`, `high`, `medium`, `low`, `none`,
//!   `unknown`), `vulnerability` (an id, which exception scopes match) and any
//!   other fields, which are kept as `details`. A declared set rule that
//!   evaluates to undefined (a complete rule whose body failed) is a protocol
//!   error, not "no violations".
//! * `allow`: must evaluate to `true`. `false` or undefined is a violation:
//!   an undefined result never means allow.
//!
//! Failing closed: an unknown environment, an invalid input, a runtime error
//! of any policy (regorus runs with strict builtin errors, so a builtin that
//! fails does not silently make a `deny` body undefined), a protocol error, a
//! panic inside regorus, or the evaluation limit make the decision `deny`,
//! whatever the failing policy's mode (`off` policies are not evaluated), and
//! errors cannot be waived by exceptions.
//!
//! The evaluation limit is a wall-clock budget for the whole decision
//! ([`EngineOptions::time_budget`]). regorus 0.14 checks an execution timer
//! cooperatively inside its interpreter loops; before each rule the engine
//! hands it what is left of the budget, and refuses to start a rule once the
//! budget is spent. What the timer cannot stop is one builtin call that runs
//! long by itself (a `numbers.range` over billions of numbers, a `regex`
//! over a huge string): regorus offers memory limits only with its own global
//! allocator, which a library cannot impose on its host. Such a call is
//! bounded by the input limits ([`crate::input::limits`]) for input-derived
//! data, and by review for literal constants in policies.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::bundle::{Bundle, BundleSignature, BundleVerifier};
use crate::decision::{
    AppliedException, ArtifactRef, Decision, DecisionError, Effect, ErrorKind, IgnoredException,
    Outcome, PolicyResult, PolicyStatus, RuleKind, Violation,
};
use crate::environment::{EnvironmentsConfig, Mode, ResolvedEnvironment};
use crate::error::{PolicyError, Result};
use crate::exception::{Exception, ExceptionStatus, MatchTarget};
use crate::input::{EnvironmentInfo, PolicyInput, Severity, Workload, format_time};
use crate::prepared::PreparedArtifact;

/// How the engine evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineOptions {
    /// The wall-clock budget of one decision (all policies together).
    pub time_budget: Duration,
    /// Whether builtin errors are errors (true, the default) or make the
    /// expression undefined as in OPA's default mode.
    pub strict_builtin_errors: bool,
    /// Parse modules as Rego v0 (OPA's `--v0-compatible`).
    pub rego_v0: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            time_budget: Duration::from_secs(1),
            strict_builtin_errors: true,
            rego_v0: false,
        }
    }
}

/// What the engine knows about one policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyInfo {
    /// The policy id: the package path without `data.`.
    pub id: String,
    /// The rules it declares.
    pub rules: Vec<RuleKind>,
    /// The modules that make it up.
    pub modules: Vec<String>,
    /// Its `metadata` object, if it declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    #[serde(skip)]
    package_path: String,
}

impl PolicyInfo {
    /// The `title` of its metadata, if any.
    pub fn title(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .and_then(|m| m.get("title"))
            .and_then(|t| t.as_str())
    }
}

/// A compiled bundle, ready to decide.
#[derive(Clone, Debug)]
pub struct Engine {
    rego: regorus::Engine,
    policies: Vec<PolicyInfo>,
    environments: EnvironmentsConfig,
    resolved: BTreeMap<String, ResolvedEnvironment>,
    bundle_digest: String,
    signature: Option<BundleSignature>,
    options: EngineOptions,
    /// Per environment, the generated rule that evaluates every rule of its
    /// policies that are not `off` in one pass, and the (policy index, rule)
    /// pairs it lists, in order. Empty when the bundle already uses the
    /// internal package name (every decision then evaluates rule by rule).
    single_pass: SinglePassRules,
}

/// The package of the generated single-pass rules.
const INTERNAL_PACKAGE: &str = "palisade_engine_internal";

/// Per environment: the single-pass rule's path and, in its order, each
/// element's (policy index, rule kind).
type SinglePassRules = BTreeMap<String, (String, Vec<(usize, RuleKind)>)>;

/// What the single pass of a decision yields: the policy results and the raw
/// violations with the mode of their policy.
type SinglePassResult = (Vec<PolicyResult>, Vec<(Violation, Mode)>);

/// The module of single-pass rules: for each environment, an array with, for
/// each rule of each policy not `off` there, `[value]` or `[]` when the rule
/// is undefined (an array comprehension keeps "undefined" apart from any
/// value).
fn single_pass_module(
    policies: &[PolicyInfo],
    resolved: &BTreeMap<String, ResolvedEnvironment>,
) -> (String, SinglePassRules) {
    let mut text = format!("package {INTERNAL_PACKAGE}\n");
    let mut rules = BTreeMap::new();
    for (n, (name, env)) in resolved.iter().enumerate() {
        let mut pairs = Vec::new();
        let mut items = Vec::new();
        for (i, policy) in policies.iter().enumerate() {
            if env.mode_of(&policy.id) == Mode::Off {
                continue;
            }
            for kind in &policy.rules {
                pairs.push((i, *kind));
                items.push(format!(
                    "[x | x := {}.{}]",
                    policy.package_path,
                    kind.name()
                ));
            }
        }
        let rule = format!("env_{n}");
        text.push_str(&format!("{rule} := [{}]\n", items.join(", ")));
        rules.insert(
            name.clone(),
            (format!("data.{INTERNAL_PACKAGE}.{rule}"), pairs),
        );
    }
    (text, rules)
}

/// Whether `s` can be written after a dot in a Rego reference.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `data.a.b["c-d"]` for the components `a`, `b`, `c-d`.
pub(crate) fn rule_path(components: &[String]) -> String {
    let mut out = String::from("data");
    for c in components {
        if is_identifier(c) {
            out.push('.');
            out.push_str(c);
        } else {
            out.push('[');
            out.push_str(&serde_json::Value::String(c.clone()).to_string());
            out.push(']');
        }
    }
    out
}

/// The message of an `anyhow` error with its causes.
pub(crate) fn error_text(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

/// Whether regorus stopped on its execution limit.
pub(crate) fn is_limit_error(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<regorus::LimitError>().is_some())
}

/// The timer configuration for a budget.
pub(crate) fn timer(limit: Duration) -> regorus::utils::limits::ExecutionTimerConfig {
    regorus::utils::limits::ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(32).unwrap_or(NonZeroU32::MIN),
    }
}

/// The text of a caught panic.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without message".into())
}

/// `sha256:` of the canonical JSON (RFC 8785) of a value.
pub fn canonical_digest(value: &serde_json::Value) -> Result<String> {
    let bytes = serde_json_canonicalizer::to_vec(value)
        .map_err(|e| PolicyError::Input(format!("cannot canonicalise: {e}")))?;
    Ok(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))))
}

/// Builtins a policy may not call: the execution timer cannot interrupt
/// them. Rego cannot call a builtin by a computed name, so a plain text
/// search finds every use (and rejects a mention in a comment too, which is
/// the safe side).
pub const FORBIDDEN_BUILTINS: [&str; 1] = ["test.sleep"];

/// Builds the regorus engine of a bundle's modules and data.
pub(crate) fn load_rego<'a>(
    modules: impl Iterator<Item = (&'a str, &'a [u8])>,
    data: serde_json::Value,
    options: &EngineOptions,
) -> Result<regorus::Engine> {
    let mut rego = regorus::Engine::new();
    rego.set_rego_v0(options.rego_v0);
    rego.set_strict_builtin_errors(options.strict_builtin_errors);
    rego.set_gather_prints(true);
    for (path, bytes) in modules {
        let text = std::str::from_utf8(bytes).map_err(|e| PolicyError::Rego {
            path: path.into(),
            message: format!("not UTF-8: {e}"),
        })?;
        if let Some(name) = FORBIDDEN_BUILTINS.iter().find(|b| text.contains(*b)) {
            return Err(PolicyError::Rego {
                path: path.into(),
                message: format!(
                    "uses {name}, which the evaluation limit cannot interrupt; it is not allowed in Palisade policies"
                ),
            });
        }
        rego.add_policy(path.to_string(), text.to_string())
            .map_err(|e| PolicyError::Rego {
                path: path.into(),
                message: error_text(&e),
            })?;
    }
    crate::recursion::check(&mut rego)?;
    rego.add_data(regorus::Value::from(data))
        .map_err(|e| PolicyError::Data {
            path: "data".into(),
            message: error_text(&e),
        })?;
    Ok(rego)
}

impl Engine {
    /// Compiles a bundle.
    pub fn new(bundle: &Bundle, options: EngineOptions) -> Result<Self> {
        let mut rego = load_rego(bundle.policy_modules(), bundle.data()?, &options)?;
        let packages = rego
            .get_policy_package_components()
            .map_err(|e| PolicyError::Bundle(error_text(&e)))?;
        let mut by_id: BTreeMap<String, PolicyInfo> = BTreeMap::new();
        for package in &packages {
            let id = package.components.join(".");
            let mut kinds = Vec::new();
            for kind in RuleKind::ALL {
                let declared = rego
                    .has_declared_rule_rooted_at(&package.source_file, kind.name())
                    .map_err(|e| PolicyError::Rego {
                        path: package.source_file.clone(),
                        message: error_text(&e),
                    })?;
                if declared {
                    kinds.push(kind);
                }
            }
            let has_metadata = rego
                .has_declared_rule_rooted_at(&package.source_file, "metadata")
                .map_err(|e| PolicyError::Rego {
                    path: package.source_file.clone(),
                    message: error_text(&e),
                })?;
            let entry = by_id.entry(id.clone()).or_insert_with(|| PolicyInfo {
                id,
                rules: Vec::new(),
                modules: Vec::new(),
                metadata: if has_metadata {
                    Some(serde_json::Value::Null)
                } else {
                    None
                },
                package_path: rule_path(&package.components),
            });
            entry.modules.push(package.source_file.clone());
            if has_metadata && entry.metadata.is_none() {
                entry.metadata = Some(serde_json::Value::Null);
            }
            for k in kinds {
                if !entry.rules.contains(&k) {
                    entry.rules.push(k);
                }
            }
        }
        let mut policies: Vec<PolicyInfo> = by_id
            .into_values()
            .filter(|p| !p.rules.is_empty())
            .collect();
        if policies.is_empty() {
            return Err(PolicyError::Bundle(
                "the bundle has no policy: a policy package declares at least one of deny, violation, warn or allow"
                    .into(),
            ));
        }
        rego.set_execution_timer_config(timer(options.time_budget));
        for p in &mut policies {
            p.rules.sort();
            p.modules.sort();
            if p.metadata.is_some() {
                let path = format!("{}.metadata", p.package_path);
                let value = rego.eval_rule(path).map_err(|e| PolicyError::Rego {
                    path: p.modules.join(", "),
                    message: format!("metadata of {}: {}", p.id, error_text(&e)),
                })?;
                let json = serde_json::to_value(&value).map_err(|e| PolicyError::Rego {
                    path: p.modules.join(", "),
                    message: format!("metadata of {}: {e}", p.id),
                })?;
                if !json.is_object() {
                    return Err(PolicyError::Rego {
                        path: p.modules.join(", "),
                        message: format!("metadata of {} must be an object", p.id),
                    });
                }
                p.metadata = Some(json);
            }
        }
        let ids: std::collections::BTreeSet<String> =
            policies.iter().map(|p| p.id.clone()).collect();
        let environments = match bundle.environments_file()? {
            Some((path, bytes)) => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|e| PolicyError::Environment(format!("{path} is not UTF-8: {e}")))?;
                EnvironmentsConfig::from_yaml(text)
                    .map_err(|e| PolicyError::Environment(format!("{path}: {e}")))?
            }
            None => EnvironmentsConfig::builtin_default(),
        };
        environments.validate(&ids)?;
        let mut resolved = BTreeMap::new();
        for name in environments.environments.keys() {
            resolved.insert(name.clone(), environments.resolve(name, &ids)?);
        }
        // The single-pass rules, unless the bundle has a package of that name.
        let mut single_pass = BTreeMap::new();
        if !packages
            .iter()
            .any(|p| p.components.first().is_some_and(|c| c == INTERNAL_PACKAGE))
        {
            let (text, rules) = single_pass_module(&policies, &resolved);
            if rego
                .add_policy(format!("{INTERNAL_PACKAGE}.rego"), text)
                .is_ok()
            {
                single_pass = rules;
            }
        }
        // Warm-up: the first evaluation prepares (schedules) the modules; the
        // prepared state is then shared by every clone made in `decide`.
        if let Some(first) = policies.first()
            && let Some(kind) = first.rules.first()
        {
            let path = format!("{}.{}", first.package_path, kind.name());
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| rego.eval_rule(path)));
        }
        let _ = rego.take_prints();
        Ok(Self {
            rego,
            policies,
            environments,
            resolved,
            bundle_digest: bundle.digest()?,
            signature: None,
            options,
            single_pass,
        })
    }

    /// Verifies a bundle's signature, then compiles it.
    pub fn new_verified(
        bundle: &Bundle,
        verifier: &dyn BundleVerifier,
        options: EngineOptions,
    ) -> Result<Self> {
        let signature = bundle.verify(verifier)?;
        let mut engine = Self::new(bundle, options)?;
        engine.signature = Some(signature);
        Ok(engine)
    }

    /// The built-in policy library.
    pub fn builtin(options: EngineOptions) -> Result<Self> {
        Self::new(&crate::library::builtin_bundle()?, options)
    }

    /// The policies, by id.
    pub fn policies(&self) -> &[PolicyInfo] {
        &self.policies
    }

    /// The environment names.
    pub fn environment_names(&self) -> Vec<&str> {
        self.resolved.keys().map(String::as_str).collect()
    }

    /// One resolved environment.
    pub fn environment(&self, name: &str) -> Option<&ResolvedEnvironment> {
        self.resolved.get(name)
    }

    /// The environments configuration in force.
    pub fn environments(&self) -> &EnvironmentsConfig {
        &self.environments
    }

    /// The bundle digest.
    pub fn bundle_digest(&self) -> &str {
        &self.bundle_digest
    }

    /// The verified signature, when built with [`Engine::new_verified`].
    pub fn signature(&self) -> Option<&BundleSignature> {
        self.signature.as_ref()
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// The input document exactly as the policies of a decision would see it
    /// (for debugging, `policy eval --show-input`, and replaying in another engine).
    pub fn prepared_input(
        &self,
        input: &PolicyInput,
        environment: &str,
        exceptions: &[Exception],
        now: OffsetDateTime,
    ) -> Result<serde_json::Value> {
        let env = self.resolved.get(environment).ok_or_else(|| {
            PolicyError::Environment(format!(
                "environment {environment:?} is not defined (defined: {})",
                self.environment_names().join(", ")
            ))
        })?;
        let (in_force, _) = split_exceptions(exceptions, now);
        Ok(prepare(input, env, &in_force, now)?.1)
    }

    /// Decides about `input` in `environment` at `now`, with the exceptions
    /// offered. Never fails: every failure is a `deny` with its reason.
    pub fn decide(
        &self,
        input: &PolicyInput,
        environment: &str,
        exceptions: &[Exception],
        now: OffsetDateTime,
    ) -> Decision {
        self.decide_prepared(
            &PreparedArtifact::new(input),
            input.workload.as_ref(),
            environment,
            exceptions,
            now,
        )
    }

    /// [`Self::decide`] about an artifact prepared beforehand, for
    /// `workload` (which replaces the prepared input's). The same decision,
    /// to the byte, as `decide` on the prepared input with that workload;
    /// what the preparation did once is not done again (see
    /// [`crate::prepared`]).
    pub fn decide_prepared(
        &self,
        prepared: &PreparedArtifact<'_>,
        workload: Option<&Workload>,
        environment: &str,
        exceptions: &[Exception],
        now: OffsetDateTime,
    ) -> Decision {
        let input = prepared.input();
        let mut decision = Decision {
            outcome: Outcome::Deny,
            environment: environment.to_string(),
            time: format_time(now),
            artifact: ArtifactRef {
                name: input.artifact.name.clone(),
                digest: input.artifact.digest.clone(),
            },
            workload: workload.map(|w| w.qualified_name()),
            input_digest: None,
            bundle_digest: self.bundle_digest.clone(),
            policies: Vec::new(),
            violations: Vec::new(),
            waived: Vec::new(),
            exceptions_applied: Vec::new(),
            exceptions_ignored: Vec::new(),
            errors: Vec::new(),
        };
        let fail = |mut d: Decision, kind: ErrorKind, message: String| {
            d.errors.push(DecisionError {
                policy: None,
                rule: None,
                kind,
                message,
            });
            d.outcome = Outcome::Deny;
            d
        };
        let Some(env) = self.resolved.get(environment) else {
            let msg = format!(
                "environment {environment:?} is not defined (defined: {})",
                self.environment_names().join(", ")
            );
            return fail(decision, ErrorKind::Environment, msg);
        };

        // Exceptions: only active ones apply; the others are reported.
        let (in_force, ignored) = split_exceptions(exceptions, now);
        decision.exceptions_ignored = ignored;

        // The input as the policies see it: the prepared evidence (checked
        // when it was prepared) with the engine-owned fields set.
        let info = EnvironmentInfo {
            name: env.name.clone(),
            params: env.params.clone(),
        };
        let value = match prepared.document(now, &info, workload, &in_force) {
            Ok((value, digest)) => {
                decision.input_digest = Some(digest);
                value
            }
            Err(message) => return fail(decision, ErrorKind::Input, message),
        };
        let mut rego = self.rego.clone();
        rego.set_input(value);

        // One pass over every rule of the environment's policies; when it
        // fails (an error, the limit, a panic, a protocol error), the rules
        // are evaluated again one by one, with a fresh budget, to say which
        // rule failed and how: the per-rule pass below is the reference, the
        // single pass only a faster way to the same result when nothing
        // fails.
        if let Some(fast) = self.single_pass_decide(&mut rego, environment, env) {
            let (results, raw) = fast;
            decision.policies = results;
            return self.finish(decision, raw, input, &in_force);
        }
        let started = Instant::now();
        let mut raw: Vec<(Violation, Mode)> = Vec::new();
        let mut stopped = false;
        for policy in &self.policies {
            let mode = env.mode_of(&policy.id);
            let mode_source = mode_source(env, &policy.id);
            let mut result = PolicyResult {
                policy: policy.id.clone(),
                mode,
                mode_source,
                status: PolicyStatus::Passed,
                violations: 0,
            };
            if mode == Mode::Off {
                result.status = PolicyStatus::Off;
                decision.policies.push(result);
                continue;
            }
            for kind in &policy.rules {
                if stopped {
                    result.status = PolicyStatus::Error;
                    break;
                }
                let remaining = self.options.time_budget.saturating_sub(started.elapsed());
                if remaining.is_zero() {
                    decision.errors.push(DecisionError {
                        policy: Some(policy.id.clone()),
                        rule: Some(*kind),
                        kind: ErrorKind::Limit,
                        message: format!(
                            "not evaluated: the decision's evaluation budget of {} ms is spent",
                            self.options.time_budget.as_millis()
                        ),
                    });
                    result.status = PolicyStatus::Error;
                    stopped = true;
                    break;
                }
                rego.set_execution_timer_config(timer(remaining));
                let path = format!("{}.{}", policy.package_path, kind.name());
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| rego.eval_rule(path)));
                let value = match outcome {
                    Ok(Ok(v)) => v,
                    Ok(Err(e)) => {
                        let limit = is_limit_error(&e);
                        let message = if limit {
                            format!(
                                "evaluation limit reached: stopped after {} ms (budget {} ms): {}",
                                started.elapsed().as_millis(),
                                self.options.time_budget.as_millis(),
                                error_text(&e)
                            )
                        } else {
                            error_text(&e)
                        };
                        decision.errors.push(DecisionError {
                            policy: Some(policy.id.clone()),
                            rule: Some(*kind),
                            kind: if limit {
                                ErrorKind::Limit
                            } else {
                                ErrorKind::Evaluation
                            },
                            message,
                        });
                        result.status = PolicyStatus::Error;
                        stopped |= limit;
                        continue;
                    }
                    Err(panic) => {
                        decision.errors.push(DecisionError {
                            policy: Some(policy.id.clone()),
                            rule: Some(*kind),
                            kind: ErrorKind::Evaluation,
                            message: format!(
                                "the Rego engine panicked: {}",
                                panic_text(panic.as_ref())
                            ),
                        });
                        result.status = PolicyStatus::Error;
                        stopped = true;
                        break;
                    }
                };
                match violations_of(&policy.id, *kind, &value) {
                    Ok(vs) => {
                        for v in vs {
                            raw.push((v, mode));
                        }
                    }
                    Err(message) => {
                        decision.errors.push(DecisionError {
                            policy: Some(policy.id.clone()),
                            rule: Some(*kind),
                            kind: ErrorKind::Protocol,
                            message,
                        });
                        result.status = PolicyStatus::Error;
                    }
                }
            }
            decision.policies.push(result);
        }

        self.finish(decision, raw, input, &in_force)
    }

    /// The single pass of a decision: the policy results and the raw
    /// violations, or `None` when anything failed.
    fn single_pass_decide(
        &self,
        rego: &mut regorus::Engine,
        environment: &str,
        env: &ResolvedEnvironment,
    ) -> Option<SinglePassResult> {
        let (rule, pairs) = self.single_pass.get(environment)?;
        rego.set_execution_timer_config(timer(self.options.time_budget));
        let value = std::panic::catch_unwind(AssertUnwindSafe(|| rego.eval_rule(rule.clone())))
            .ok()?
            .ok()?;
        let regorus::Value::Array(values) = value else {
            return None;
        };
        if values.len() != pairs.len() {
            return None;
        }
        let mut raw = Vec::new();
        for ((i, kind), v) in pairs.iter().zip(values.iter()) {
            let policy = self.policies.get(*i)?;
            let regorus::Value::Array(one) = v else {
                return None;
            };
            let value = match one.first() {
                Some(value) if one.len() == 1 => value.clone(),
                None => regorus::Value::Undefined,
                Some(_) => return None,
            };
            let mode = env.mode_of(&policy.id);
            for v in violations_of(&policy.id, *kind, &value).ok()? {
                raw.push((v, mode));
            }
        }
        let results = self
            .policies
            .iter()
            .map(|policy| {
                let mode = env.mode_of(&policy.id);
                PolicyResult {
                    policy: policy.id.clone(),
                    mode,
                    mode_source: mode_source(env, &policy.id),
                    status: if mode == Mode::Off {
                        PolicyStatus::Off
                    } else {
                        PolicyStatus::Passed
                    },
                    violations: 0,
                }
            })
            .collect();
        Some((results, raw))
    }

    /// Effects, then exceptions, then the outcome.
    fn finish(
        &self,
        mut decision: Decision,
        raw: Vec<(Violation, Mode)>,
        input: &PolicyInput,
        in_force: &[Exception],
    ) -> Decision {
        // Effects, then exceptions.
        let mut applied: BTreeMap<String, usize> = BTreeMap::new();
        let workload = decision.workload.clone();
        for (mut v, mode) in raw {
            let Some(effect) = Effect::of(mode, v.rule) else {
                continue;
            };
            v.effect = effect;
            let finding = v
                .vulnerability
                .as_deref()
                .and_then(|id| input.findings.iter().find(|f| f.is_named(id)));
            let vulnerability = match (&v.vulnerability, finding) {
                (_, Some(f)) => Some((f.id.as_str(), f.aliases.as_slice())),
                (Some(id), None) => Some((id.as_str(), &[][..])),
                (None, None) => None,
            };
            let target = MatchTarget {
                workload: workload.as_deref(),
                artifact_name: &input.artifact.name,
                artifact_digest: &input.artifact.digest,
                policy: &v.policy,
                vulnerability,
            };
            if let Some(p) = decision.policies.iter_mut().find(|p| p.policy == v.policy) {
                p.violations += 1;
                if p.status == PolicyStatus::Passed {
                    p.status = PolicyStatus::Violated;
                }
            }
            match in_force.iter().find(|e| e.matches(&target)) {
                Some(e) => {
                    *applied.entry(e.id.clone()).or_default() += 1;
                    v.waived_by = Some(e.id.clone());
                    decision.waived.push(v);
                }
                None => decision.violations.push(v),
            }
        }
        let key = |v: &Violation| {
            (
                v.policy.clone(),
                v.rule,
                v.vulnerability.clone(),
                v.message.clone(),
                v.details.as_ref().map(|d| d.to_string()),
            )
        };
        decision.violations.sort_by_key(key);
        decision.waived.sort_by_key(key);
        decision.exceptions_applied = in_force
            .iter()
            .filter_map(|e| {
                applied.get(&e.id).map(|n| AppliedException {
                    id: e.id.clone(),
                    reason: e.reason.clone(),
                    requested_by: e.requested_by.clone(),
                    approved_by: e.approved_by.clone().unwrap_or_default(),
                    expires_at: format_time(e.expires_at),
                    waived: *n,
                })
            })
            .collect();
        decision.outcome = Decision::compute_outcome(&decision.violations, &decision.errors);
        decision
    }
}

/// Where a policy's mode in an environment comes from.
fn mode_source(env: &ResolvedEnvironment, policy: &str) -> String {
    env.modes
        .iter()
        .find(|m| m.policy == policy)
        .map(|m| m.source.clone())
        .unwrap_or_else(|| "fail-closed default".into())
}

/// Splits the exceptions offered into those in force at `now` (sorted by id)
/// and the others with their status; a repeated id is invalid.
fn split_exceptions(
    exceptions: &[Exception],
    now: OffsetDateTime,
) -> (Vec<Exception>, Vec<IgnoredException>) {
    let mut in_force: Vec<Exception> = Vec::new();
    let mut ignored = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for e in exceptions {
        let status = if seen.insert(e.id.clone()) {
            e.status(now)
        } else {
            ExceptionStatus::Invalid("another exception offered has the same id".into())
        };
        match status {
            ExceptionStatus::Active => in_force.push(e.clone()),
            status => ignored.push(IgnoredException {
                id: e.id.clone(),
                status,
            }),
        }
    }
    in_force.sort_by(|a, b| a.id.cmp(&b.id));
    ignored.sort_by(|a: &IgnoredException, b: &IgnoredException| a.id.cmp(&b.id));
    (in_force, ignored)
}

/// The input with its engine-owned fields set, typed.
fn prepare_typed(
    input: &PolicyInput,
    env: &ResolvedEnvironment,
    in_force: &[Exception],
    now: OffsetDateTime,
) -> Result<PolicyInput> {
    let mut prepared = input.clone();
    prepared.validate()?;
    let info = EnvironmentInfo {
        name: env.name.clone(),
        params: env.params.clone(),
    };
    prepared.prepare(now, info, in_force.to_vec())?;
    Ok(prepared)
}

/// The input with its engine-owned fields set, typed and as JSON.
fn prepare(
    input: &PolicyInput,
    env: &ResolvedEnvironment,
    in_force: &[Exception],
    now: OffsetDateTime,
) -> Result<(PolicyInput, serde_json::Value)> {
    let prepared = prepare_typed(input, env, in_force, now)?;
    let json = serde_json::to_value(&prepared)
        .map_err(|e| PolicyError::Input(format!("cannot serialise the input: {e}")))?;
    Ok((prepared, json))
}

/// Reads the violations out of one rule's value.
fn violations_of(
    policy: &str,
    kind: RuleKind,
    value: &regorus::Value,
) -> std::result::Result<Vec<Violation>, String> {
    let base = |message: String| Violation {
        policy: policy.to_string(),
        rule: kind,
        message,
        severity: if kind == RuleKind::Warn {
            Severity::Medium
        } else {
            Severity::High
        },
        effect: Effect::Deny,
        vulnerability: None,
        details: None,
        waived_by: None,
    };
    if kind == RuleKind::Allow {
        return match value {
            regorus::Value::Bool(true) => Ok(Vec::new()),
            regorus::Value::Bool(false) => Ok(vec![base("allow is false".into())]),
            regorus::Value::Undefined => Ok(vec![base(
                "allow is undefined: no allow rule matched, and undefined never means allow".into(),
            )]),
            other => Err(format!("allow must be a boolean, not {}", type_name(other))),
        };
    }
    let items: Vec<&regorus::Value> = match value {
        regorus::Value::Set(s) => s.iter().collect(),
        regorus::Value::Array(a) => a.iter().collect(),
        regorus::Value::Undefined => {
            return Err(format!(
                "{} is declared but undefined; write it as a set (`{} contains msg if {{ ... }}`)",
                kind.name(),
                kind.name()
            ));
        }
        other => {
            return Err(format!(
                "{} must be a set of violations, not {}",
                kind.name(),
                type_name(other)
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            regorus::Value::String(s) => out.push(base(s.to_string())),
            regorus::Value::Object(_) => {
                let json = serde_json::to_value(item)
                    .map_err(|e| format!("a violation cannot be read: {e}"))?;
                let serde_json::Value::Object(mut obj) = json else {
                    return Err("a violation object did not convert to an object".into());
                };
                let message = match obj.remove("msg").or_else(|| obj.remove("message")) {
                    Some(serde_json::Value::String(m)) => m,
                    Some(_) => return Err("a violation's msg must be a string".into()),
                    None => {
                        return Err(format!(
                            "a violation has no msg: {}",
                            serde_json::Value::Object(obj)
                        ));
                    }
                };
                let mut v = base(message);
                match obj.remove("severity") {
                    None => {}
                    Some(serde_json::Value::String(s)) => {
                        v.severity = Severity::parse(&s)
                            .ok_or_else(|| format!("unknown severity {s:?} in a violation"))?;
                    }
                    Some(other) => {
                        return Err(format!(
                            "a violation's severity must be a string, not {other}"
                        ));
                    }
                }
                match obj.remove("vulnerability") {
                    None | Some(serde_json::Value::Null) => {}
                    Some(serde_json::Value::String(s)) => v.vulnerability = Some(s),
                    Some(other) => {
                        return Err(format!(
                            "a violation's vulnerability must be a string, not {other}"
                        ));
                    }
                }
                if !obj.is_empty() {
                    v.details = Some(serde_json::Value::Object(obj));
                }
                out.push(v);
            }
            other => {
                return Err(format!(
                    "a violation must be a string or an object, not {}",
                    type_name(other)
                ));
            }
        }
    }
    Ok(out)
}

fn type_name(v: &regorus::Value) -> &'static str {
    match v {
        regorus::Value::Null => "null",
        regorus::Value::Bool(_) => "a boolean",
        regorus::Value::Number(_) => "a number",
        regorus::Value::String(_) => "a string",
        regorus::Value::Array(_) => "an array",
        regorus::Value::Set(_) => "a set",
        regorus::Value::Object(_) => "an object",
        regorus::Value::Undefined => "undefined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Engine>();
    }

    #[test]
    fn rule_paths_quote_odd_components() {
        assert_eq!(rule_path(&["a".into(), "b_c".into()]), "data.a.b_c");
        assert_eq!(rule_path(&["a".into(), "c-d".into()]), r#"data.a["c-d"]"#);
        assert_eq!(rule_path(&["1x".into()]), r#"data["1x"]"#);
    }
}
