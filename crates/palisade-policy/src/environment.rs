//! Environments: which policy is `off`, `audit`, `warn` or `enforce` where.
//!
//! Design: the same policy code runs everywhere; an environment only decides
//! what a violation does. Environments form single-inheritance chains
//! (`prod` inherits `staging` inherits `base`). A policy's mode in an
//! environment is the first of:
//!
//! 1. the mode the environment itself sets for that policy,
//! 2. the mode the nearest ancestor sets for it,
//! 3. the `default` of the environment or of its nearest ancestor that has one,
//! 4. `enforce`: a policy nobody configured is enforced (fail closed).
//!
//! Parameters (`params`, read by policies as `input.environment.params`) are
//! merged key by key along the chain, the child's value replacing the
//! parent's whole value for that key.
//!
//! The configuration is part of the policy bundle (`environments.yaml` or
//! `environments.json` at its root), so it is covered by the bundle digest
//! and signature. It is checked when the engine is built: unknown parents,
//! cycles, chains deeper than [`MAX_INHERITANCE_DEPTH`] and modes for policies
//! that the bundle does not contain are errors, so that a typo cannot leave a
//! policy silently at a default.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{PolicyError, Result};

/// The longest inheritance chain allowed.
pub const MAX_INHERITANCE_DEPTH: usize = 16;

/// What a policy's violations do in an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Not evaluated.
    Off,
    /// Evaluated and recorded; never changes the outcome.
    Audit,
    /// Violations make the outcome at least `warn`.
    Warn,
    /// Violations deny (a policy's `warn` rule still only warns).
    Enforce,
}

impl Mode {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Audit => "audit",
            Self::Warn => "warn",
            Self::Enforce => "enforce",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "off" => Ok(Self::Off),
            "audit" => Ok(Self::Audit),
            "warn" => Ok(Self::Warn),
            "enforce" => Ok(Self::Enforce),
            other => Err(PolicyError::Environment(format!(
                "mode {other:?} is not one of off, audit, warn, enforce"
            ))),
        }
    }
}

/// One environment as written in the configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    /// The parent environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherits: Option<String>,
    /// The mode of policies not listed here or in an ancestor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Mode>,
    /// Modes by policy id.
    #[serde(default)]
    pub policies: BTreeMap<String, Mode>,
    /// Parameters given to the policies.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// A description for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentsConfig {
    /// Environments by name.
    pub environments: BTreeMap<String, EnvironmentSpec>,
}

/// A policy's mode in an environment and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyMode {
    /// The policy id.
    pub policy: String,
    /// The mode.
    pub mode: Mode,
    /// Why: `prod`, `default of base`, or `fail-closed default`.
    pub source: String,
}

/// An environment with its chain resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedEnvironment {
    /// The name.
    pub name: String,
    /// The chain, from the environment itself to its root.
    pub chain: Vec<String>,
    /// Every policy's mode, sorted by policy id.
    pub modes: Vec<PolicyMode>,
    /// The merged parameters.
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl ResolvedEnvironment {
    /// The mode of one policy (`enforce` for one not in the bundle).
    pub fn mode_of(&self, policy: &str) -> Mode {
        self.modes
            .iter()
            .find(|m| m.policy == policy)
            .map(|m| m.mode)
            .unwrap_or(Mode::Enforce)
    }
}

impl EnvironmentsConfig {
    /// The configuration used when a bundle has none: `dev` and `staging`
    /// warn, `prod` enforces.
    pub fn builtin_default() -> Self {
        let env = |default: Mode, description: &str| EnvironmentSpec {
            default: Some(default),
            description: Some(description.into()),
            ..Default::default()
        };
        Self {
            environments: BTreeMap::from([
                ("dev".to_string(), env(Mode::Warn, "every policy warns")),
                ("staging".to_string(), env(Mode::Warn, "every policy warns")),
                (
                    "prod".to_string(),
                    env(Mode::Enforce, "every policy enforces"),
                ),
            ]),
        }
    }

    /// Parses YAML (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<Self> {
        let config: Self =
            serde_yaml_ng::from_str(text).map_err(|e| PolicyError::Environment(e.to_string()))?;
        Ok(config)
    }

    /// The names of the environments, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.environments.keys().map(String::as_str).collect()
    }

    /// Checks names, parents, cycles, depth, and that every policy named
    /// exists in `policies`.
    pub fn validate(&self, policies: &BTreeSet<String>) -> Result<()> {
        if self.environments.is_empty() {
            return Err(PolicyError::Environment("no environment is defined".into()));
        }
        for (name, spec) in &self.environments {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(PolicyError::Environment(format!(
                    "environment name {name:?} must be letters, digits, '-', '_' or '.'"
                )));
            }
            self.chain(name)?;
            for policy in spec.policies.keys() {
                if !policies.contains(policy) {
                    let known: Vec<&str> = policies.iter().map(String::as_str).collect();
                    return Err(PolicyError::Environment(format!(
                        "environment {name} sets a mode for policy {policy:?}, which the bundle does not contain (policies: {})",
                        known.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// The chain of names from `name` to its root.
    fn chain(&self, name: &str) -> Result<Vec<&str>> {
        let mut chain: Vec<&str> = Vec::new();
        let mut current = Some(name);
        while let Some(n) = current {
            if chain.contains(&n) {
                return Err(PolicyError::Environment(format!(
                    "environment {name} inherits in a cycle: {} -> {n}",
                    chain.join(" -> ")
                )));
            }
            if chain.len() >= MAX_INHERITANCE_DEPTH {
                return Err(PolicyError::Environment(format!(
                    "environment {name} inherits more than {MAX_INHERITANCE_DEPTH} levels deep"
                )));
            }
            let Some((key, spec)) = self.environments.get_key_value(n) else {
                return Err(match chain.last() {
                    Some(child) => PolicyError::Environment(format!(
                        "environment {child} inherits {n:?}, which is not defined"
                    )),
                    None => PolicyError::Environment(format!(
                        "environment {n:?} is not defined (defined: {})",
                        self.names().join(", ")
                    )),
                });
            };
            chain.push(key.as_str());
            current = spec.inherits.as_deref();
        }
        Ok(chain)
    }

    /// Resolves one environment for the given policy ids.
    pub fn resolve<'a>(
        &self,
        name: &str,
        policies: impl IntoIterator<Item = &'a String>,
    ) -> Result<ResolvedEnvironment> {
        let chain = self.chain(name)?;
        let specs: Vec<(&str, &EnvironmentSpec)> = chain
            .iter()
            .filter_map(|n| self.environments.get(*n).map(|s| (*n, s)))
            .collect();
        let default = specs
            .iter()
            .find_map(|(n, s)| s.default.map(|d| (d, format!("default of {n}"))));
        let mut modes: Vec<PolicyMode> = policies
            .into_iter()
            .map(|policy| {
                let explicit = specs
                    .iter()
                    .find_map(|(n, s)| s.policies.get(policy).map(|m| (*m, n.to_string())));
                let (mode, source) = explicit
                    .or_else(|| default.clone())
                    .unwrap_or((Mode::Enforce, "fail-closed default".to_string()));
                PolicyMode {
                    policy: policy.clone(),
                    mode,
                    source,
                }
            })
            .collect();
        modes.sort_by(|a, b| a.policy.cmp(&b.policy));
        let mut params = serde_json::Map::new();
        for (_, spec) in specs.iter().rev() {
            for (k, v) in &spec.params {
                params.insert(k.clone(), v.clone());
            }
        }
        // Sorted keys, so that the input digest does not depend on file order.
        let mut sorted: Vec<(String, serde_json::Value)> = params.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(ResolvedEnvironment {
            name: name.to_string(),
            chain: chain.iter().map(|s| s.to_string()).collect(),
            modes,
            params: sorted.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
environments:
  base:
    default: audit
    policies:
      p.sbom: warn
    params:
      max_severity: critical
      allowed_builders: ["b1"]
  staging:
    inherits: base
    default: warn
    params:
      max_severity: high
  prod:
    inherits: staging
    policies:
      p.vulns: enforce
      p.sbom: enforce
    params:
      allowed_builders: ["b2"]
"#;

    fn policies() -> BTreeSet<String> {
        ["p.sbom", "p.vulns", "p.digest"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn modes_follow_the_chain() -> Result<()> {
        let c = EnvironmentsConfig::from_yaml(CONFIG)?;
        c.validate(&policies())?;
        let pols = policies();
        let prod = c.resolve("prod", &pols)?;
        assert_eq!(prod.chain, vec!["prod", "staging", "base"]);
        assert_eq!(prod.mode_of("p.vulns"), Mode::Enforce);
        assert_eq!(prod.mode_of("p.sbom"), Mode::Enforce);
        assert_eq!(prod.mode_of("p.digest"), Mode::Warn, "default of staging");
        let base = c.resolve("base", &pols)?;
        assert_eq!(base.mode_of("p.sbom"), Mode::Warn);
        assert_eq!(base.mode_of("p.digest"), Mode::Audit);
        assert_eq!(prod.params["max_severity"], "high");
        assert_eq!(prod.params["allowed_builders"], serde_json::json!(["b2"]));
        assert_eq!(base.params["max_severity"], "critical");
        Ok(())
    }

    #[test]
    fn no_default_anywhere_means_enforce() -> Result<()> {
        let c = EnvironmentsConfig::from_yaml("environments:\n  x: {}\n")?;
        let pols = policies();
        let x = c.resolve("x", &pols)?;
        assert_eq!(x.mode_of("p.digest"), Mode::Enforce);
        assert_eq!(x.modes[0].source, "fail-closed default");
        Ok(())
    }

    #[test]
    fn broken_configurations_are_rejected() {
        let cycle = EnvironmentsConfig::from_yaml(
            "environments:\n  a: {inherits: b}\n  b: {inherits: a}\n",
        )
        .unwrap();
        assert!(
            cycle
                .validate(&policies())
                .unwrap_err()
                .to_string()
                .contains("cycle")
        );
        let orphan =
            EnvironmentsConfig::from_yaml("environments:\n  a: {inherits: nope}\n").unwrap();
        assert!(
            orphan
                .validate(&policies())
                .unwrap_err()
                .to_string()
                .contains("not defined")
        );
        let typo =
            EnvironmentsConfig::from_yaml("environments:\n  a: {policies: {p.sbmo: warn}}\n")
                .unwrap();
        assert!(
            typo.validate(&policies())
                .unwrap_err()
                .to_string()
                .contains("p.sbmo")
        );
        assert!(EnvironmentsConfig::from_yaml("environments:\n  a: {default: block}\n").is_err());
        assert!(EnvironmentsConfig::from_yaml("environments:\n  a: {colour: red}\n").is_err());
        let c = EnvironmentsConfig::from_yaml(CONFIG).unwrap();
        assert!(
            c.resolve("qa", &policies())
                .unwrap_err()
                .to_string()
                .contains("not defined")
        );
        let mut deep = String::from("environments:\n  e0: {}\n");
        for i in 1..=20 {
            deep.push_str(&format!("  e{i}: {{inherits: e{}}}\n", i - 1));
        }
        let deep = EnvironmentsConfig::from_yaml(&deep).unwrap();
        assert!(
            deep.validate(&policies())
                .unwrap_err()
                .to_string()
                .contains("levels deep")
        );
    }

    #[test]
    fn builtin_default_is_valid() {
        let c = EnvironmentsConfig::builtin_default();
        c.validate(&policies()).unwrap();
        assert_eq!(
            c.resolve("prod", &policies()).unwrap().mode_of("p.sbom"),
            Mode::Enforce
        );
        assert_eq!(
            c.resolve("dev", &policies()).unwrap().mode_of("p.sbom"),
            Mode::Warn
        );
    }
}
