//! The priority model: CVSS, EPSS, CISA KEV and runtime context combined
//! into P1..P4, with the reasons and an SLA due date.
//!
//! `docs/prioritisation.md` is the specification; this module implements it
//! and its tests hold it to it. In short, a finding scores 0 to 100 points:
//!
//! | part | points |
//! |---|---|
//! | severity | CVSS base score × 4 (0–40); without a score, the rating's typical score × 4; unknown severity counts as medium (22) |
//! | exploitation | the larger of: KEV-listed 40; EPSS ≥ 0.5: 30, ≥ 0.1: 24, ≥ 0.01: 14, ≥ 0.001: 6, else 0 |
//! | production | yes 8, unknown 4, no 0 |
//! | internet-facing | yes 8, unknown 4, no 0 |
//! | loaded at runtime | yes 4, unknown 2, no 0 |
//!
//! P1 from 70 points, P2 from 50, P3 from 30, P4 below (configurable), and a
//! KEV-listed finding is never below P2. Every part is non-decreasing in its
//! input, so the priority is monotone: adding KEV, raising EPSS or CVSS, or
//! learning that the workload is in production, internet-facing or loads
//! the package never lowers it (property-tested below).
//!
//! The design decision: points are kept in integer tenths, so that the
//! arithmetic is exact and the explanation adds up to the score shown.

use std::fmt;
use std::str::FromStr;

use palisade_advisory::{Finding, Rating};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::cvss::{self, CvssScore};
use crate::epss::EpssData;
use crate::kev::{KevCatalog, RansomwareUse};

/// A priority, ordered by urgency: `P1` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    /// Low: fix in the normal course of maintenance.
    P4,
    /// Medium.
    P3,
    /// High.
    P2,
    /// Critical: fix now.
    P1,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    /// `P1`..`P4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    /// `critical`, `high`, `medium` or `low`.
    pub fn label(self) -> &'static str {
        match self {
            Priority::P1 => "critical",
            Priority::P2 => "high",
            Priority::P3 => "medium",
            Priority::P4 => "low",
        }
    }

    /// Assesses one finding's signals under `policy` (the same as
    /// [`assess`]).
    pub fn assess(signals: &Signals, policy: &Policy) -> Assessment {
        assess(signals, policy)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;

    /// `P1`..`P4` (any case) or `critical`, `high`, `medium`, `low`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "p1" | "critical" => Ok(Priority::P1),
            "p2" | "high" => Ok(Priority::P2),
            "p3" | "medium" => Ok(Priority::P3),
            "p4" | "low" => Ok(Priority::P4),
            _ => Err(format!(
                "unknown priority {s:?} (expected P1, P2, P3, P4 or critical, high, medium, low)"
            )),
        }
    }
}

/// Where the finding runs, as far as Palisade knows. `None` is "unknown",
/// which scores between "no" and "yes".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeContext {
    /// Deployed in a production environment.
    pub production: Option<bool>,
    /// Reachable from the internet.
    pub internet_facing: Option<bool>,
    /// The vulnerable package was seen loaded by runtime events.
    pub loaded_at_runtime: Option<bool>,
}

/// A CISA KEV listing, as far as prioritisation needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevSignal {
    /// The listed CVE.
    pub cve: String,
    /// When CISA added it.
    pub date_added: Date,
    /// CISA's remediation deadline for US federal agencies.
    pub due_date: Option<Date>,
    /// Known to be used in ransomware campaigns.
    pub ransomware: bool,
}

/// An EPSS score, with the CVE it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpssSignal {
    /// The scored CVE.
    pub cve: String,
    /// The probability of exploitation activity in the next 30 days.
    pub epss: f64,
    /// Its percentile among all scored CVEs.
    pub percentile: f64,
}

/// Everything the priority of one finding depends on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// The CVSS base score, when a vector is known.
    pub cvss: Option<CvssScore>,
    /// The database's rating, used when there is no CVSS score.
    pub rating: Option<Rating>,
    /// The EPSS score of the finding's CVE (the highest among its aliases).
    pub epss: Option<EpssSignal>,
    /// The KEV listing of the finding's CVE.
    pub kev: Option<KevSignal>,
    /// Runtime context.
    pub runtime: RuntimeContext,
    /// When the finding was first seen: the start of its SLA.
    pub first_seen: Option<Date>,
}

impl Signals {
    /// The signals of a matcher finding: its severity (re-scored from the
    /// vector), the best EPSS score and the KEV listing among its id and
    /// aliases, and the given context.
    pub fn from_finding(
        finding: &Finding,
        epss: Option<&EpssData>,
        kev: Option<&KevCatalog>,
        runtime: RuntimeContext,
        first_seen: Option<Date>,
    ) -> Signals {
        let ids = || {
            std::iter::once(finding.id.as_str())
                .chain(finding.ids.iter().map(String::as_str))
                .chain(finding.aliases.iter().map(String::as_str))
        };
        let cvss = finding
            .severity
            .as_ref()
            .filter(|s| s.score.is_some())
            .and_then(|s| cvss::score(&s.vector).ok());
        Signals {
            rating: finding.severity.as_ref().map(|s| s.rating),
            cvss,
            epss: epss.and_then(|d| d.best(ids())).map(|(cve, s)| EpssSignal {
                cve,
                epss: s.epss,
                percentile: s.percentile,
            }),
            kev: kev.and_then(|c| c.find(ids())).map(|e| KevSignal {
                cve: e.cve_id.clone(),
                date_added: e.date_added,
                due_date: e.due_date,
                ransomware: e.known_ransomware_campaign_use == RansomwareUse::Known,
            }),
            runtime,
            first_seen,
        }
    }
}

/// SLA: days from first seen to due, per priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaDays {
    /// P1 (default 7).
    pub p1: u32,
    /// P2 (default 30).
    pub p2: u32,
    /// P3 (default 90).
    pub p3: u32,
    /// P4 (default 180).
    pub p4: u32,
}

impl Default for SlaDays {
    fn default() -> Self {
        SlaDays {
            p1: 7,
            p2: 30,
            p3: 90,
            p4: 180,
        }
    }
}

impl SlaDays {
    /// The days allowed for `priority`.
    pub fn days(&self, priority: Priority) -> u32 {
        match priority {
            Priority::P1 => self.p1,
            Priority::P2 => self.p2,
            Priority::P3 => self.p3,
            Priority::P4 => self.p4,
        }
    }
}

/// The lowest score (0–100 points) of each priority.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// P1 from (default 70).
    pub p1: f64,
    /// P2 from (default 50).
    pub p2: f64,
    /// P3 from (default 30); below is P4.
    pub p3: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            p1: 70.0,
            p2: 50.0,
            p3: 30.0,
        }
    }
}

/// The user's prioritisation settings (a `[prioritisation]` table or JSON
/// object; every field optional).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Days to remediate, per priority.
    pub sla_days: SlaDays,
    /// Score thresholds.
    pub thresholds: Thresholds,
    /// The lowest priority a KEV-listed finding may have (default P2).
    pub kev_floor: Priority,
    /// Also honour CISA's KEV `dueDate`: the due date is the earlier of the
    /// SLA's and CISA's (default off: CISA's dates bind US federal agencies
    /// and are often already past when an old CVE is first found).
    pub kev_due_dates: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            sla_days: SlaDays::default(),
            thresholds: Thresholds::default(),
            kev_floor: Priority::P2,
            kev_due_dates: false,
        }
    }
}

/// Why a policy was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("prioritisation policy: {0}")]
pub struct PolicyError(String);

/// The longest SLA accepted, in days (ten years).
pub const MAX_SLA_DAYS: u32 = 3650;

impl Policy {
    /// Checks the settings make sense: thresholds within 0–100 and strictly
    /// decreasing from P1 to P3; SLA days at most [`MAX_SLA_DAYS`] and not
    /// shorter for a lower priority.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let t = &self.thresholds;
        for (name, v) in [("p1", t.p1), ("p2", t.p2), ("p3", t.p3)] {
            if !(0.0..=100.0).contains(&v) {
                return Err(PolicyError(format!(
                    "thresholds.{name} is {v}; it must be within 0 and 100"
                )));
            }
        }
        if !(t.p1 > t.p2 && t.p2 > t.p3) {
            return Err(PolicyError(format!(
                "thresholds must decrease from p1 to p3 (p1 {} > p2 {} > p3 {})",
                t.p1, t.p2, t.p3
            )));
        }
        let s = &self.sla_days;
        for p in Priority::ALL {
            if s.days(p) > MAX_SLA_DAYS {
                return Err(PolicyError(format!(
                    "sla_days.{} is {}; at most {MAX_SLA_DAYS} are accepted",
                    p.as_str().to_ascii_lowercase(),
                    s.days(p)
                )));
            }
        }
        if !(s.p1 <= s.p2 && s.p2 <= s.p3 && s.p3 <= s.p4) {
            return Err(PolicyError(format!(
                "sla_days must not shrink as priority falls (p1 {} <= p2 {} <= p3 {} <= p4 {})",
                s.p1, s.p2, s.p3, s.p4
            )));
        }
        Ok(())
    }

    /// Reads a policy from JSON and validates it.
    pub fn from_json(bytes: &[u8]) -> Result<Policy, PolicyError> {
        let policy: Policy = crate::json::from_slice(bytes, 1024 * 1024, crate::json::MAX_DEPTH)
            .map_err(|e| PolicyError(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }
}

/// What contributed to a priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    /// CVSS base score or rating.
    Severity,
    /// KEV listing or EPSS score.
    Exploitation,
    /// Deployed in production.
    Production,
    /// Internet-facing.
    InternetFacing,
    /// Package seen loaded at runtime.
    LoadedAtRuntime,
    /// A rule that raised the priority above what the score gives.
    Floor,
    /// What set the due date.
    DueDate,
}

/// One contributing factor, with its value and the points it added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Which factor.
    pub kind: FactorKind,
    /// Its value, for people (`CVSS 3.1 base 9.8`, `EPSS 0.42 (percentile 0.97)`).
    pub value: String,
    /// The points it added (0 for floors and dates).
    pub points: f64,
    /// The rule applied (`EPSS >= 0.1: 24 points`).
    pub rule: String,
}

/// The priority of one finding, with its reasons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The priority.
    pub priority: Priority,
    /// The score, 0 to 100 points with one decimal.
    pub score: f64,
    /// Every factor, in the order of the model.
    pub factors: Vec<Factor>,
    /// The SLA in days for this priority.
    pub sla_days: u32,
    /// The due date, when the first-seen date is known.
    pub due: Option<Date>,
}

impl Assessment {
    /// One line for people: the priority, the score and every factor.
    pub fn explain(&self) -> String {
        let mut parts = vec![format!(
            "{} ({}): score {:.1} of 100",
            self.priority,
            self.priority.label(),
            self.score
        )];
        for f in &self.factors {
            if f.points > 0.0 {
                parts.push(format!("{} (+{:.1}: {})", f.value, f.points, f.rule));
            } else {
                parts.push(format!("{} ({})", f.value, f.rule));
            }
        }
        parts.join("; ")
    }
}

// Points, in tenths.
const KEV_POINTS: u32 = 400;
const EPSS_BANDS: [(f64, u32); 4] = [(0.5, 300), (0.1, 240), (0.01, 140), (0.001, 60)];
const PRODUCTION: [u32; 3] = [0, 40, 80];
const INTERNET_FACING: [u32; 3] = [0, 40, 80];
const LOADED: [u32; 3] = [0, 20, 40];

/// The typical score of a rating, used when no CVSS score is known.
fn rating_score_tenths(rating: Rating) -> u32 {
    match rating {
        Rating::None => 0,
        Rating::Low => 20,
        Rating::Medium => 55,
        Rating::High => 80,
        Rating::Critical => 95,
    }
}

fn tenths(points: u32) -> f64 {
    f64::from(points) / 10.0
}

fn tri(value: Option<bool>, table: [u32; 3]) -> (u32, &'static str) {
    match value {
        Some(false) => (table[0], "no"),
        None => (table[1], "unknown"),
        Some(true) => (table[2], "yes"),
    }
}

fn severity(signals: &Signals) -> Factor {
    let (cvss_tenths, value, rule) = if let Some(c) = &signals.cvss {
        let t = (c.base_score.clamp(0.0, 10.0) * 10.0).round() as u32;
        (
            t,
            format!("CVSS {} base {:.1} ({})", c.version, c.base_score, c.vector),
            "base score x 4".to_owned(),
        )
    } else if let Some(r) = signals.rating {
        let t = rating_score_tenths(r);
        (
            t,
            format!("severity {r} (no CVSS vector)"),
            format!("{r} counts as CVSS {:.1}, x 4", tenths(t)),
        )
    } else {
        let t = rating_score_tenths(Rating::Medium);
        (
            t,
            "severity unknown".to_owned(),
            format!("unknown counts as medium, CVSS {:.1}, x 4", tenths(t)),
        )
    };
    Factor {
        kind: FactorKind::Severity,
        value,
        points: tenths(cvss_tenths * 4),
        rule,
    }
}

fn epss_points(epss: f64) -> (u32, String) {
    for (floor, points) in EPSS_BANDS {
        if epss >= floor {
            return (points, format!("EPSS >= {floor}"));
        }
    }
    (0, "EPSS < 0.001".to_owned())
}

fn exploitation(signals: &Signals) -> Factor {
    let epss = signals.epss.as_ref().map(|e| {
        let (p, rule) = epss_points(e.epss);
        (
            p,
            format!(
                "EPSS {:.5} (percentile {:.5}, {})",
                e.epss, e.percentile, e.cve
            ),
            rule,
        )
    });
    let kev = signals.kev.as_ref().map(|k| {
        let ransomware = if k.ransomware {
            ", known ransomware use"
        } else {
            ""
        };
        (
            KEV_POINTS,
            format!(
                "listed in CISA KEV ({}, added {}{ransomware})",
                k.cve, k.date_added
            ),
            "known exploited".to_owned(),
        )
    });
    let (points, value, rule) = match (kev, epss) {
        (Some(k), Some(e)) => (k.0, format!("{}; {}", k.1, e.1), k.2),
        (Some(k), None) => k,
        (None, Some(e)) => e,
        (None, None) => (
            0,
            "not in KEV, no EPSS score".to_owned(),
            "no exploitation evidence".to_owned(),
        ),
    };
    Factor {
        kind: FactorKind::Exploitation,
        value,
        points: tenths(points),
        rule,
    }
}

fn context(kind: FactorKind, name: &str, value: Option<bool>, table: [u32; 3]) -> Factor {
    let (points, word) = tri(value, table);
    Factor {
        kind,
        value: format!("{name}: {word}"),
        points: tenths(points),
        rule: format!(
            "yes {}, unknown {}, no {}",
            tenths(table[2]),
            tenths(table[1]),
            tenths(table[0])
        ),
    }
}

fn from_score(score: f64, t: &Thresholds) -> Priority {
    if score >= t.p1 {
        Priority::P1
    } else if score >= t.p2 {
        Priority::P2
    } else if score >= t.p3 {
        Priority::P3
    } else {
        Priority::P4
    }
}

/// Assesses one finding's signals under `policy` (see the module
/// documentation and `docs/prioritisation.md`).
pub fn assess(signals: &Signals, policy: &Policy) -> Assessment {
    let mut factors = vec![
        severity(signals),
        exploitation(signals),
        context(
            FactorKind::Production,
            "production",
            signals.runtime.production,
            PRODUCTION,
        ),
        context(
            FactorKind::InternetFacing,
            "internet-facing",
            signals.runtime.internet_facing,
            INTERNET_FACING,
        ),
        context(
            FactorKind::LoadedAtRuntime,
            "loaded at runtime",
            signals.runtime.loaded_at_runtime,
            LOADED,
        ),
    ];
    // Sum in tenths, exactly.
    let total: u32 = factors
        .iter()
        .map(|f| (f.points * 10.0).round() as u32)
        .sum();
    let score = tenths(total);
    let by_score = from_score(score, &policy.thresholds);
    let mut priority = by_score;
    if let Some(k) = &signals.kev
        && priority < policy.kev_floor
    {
        priority = policy.kev_floor;
        factors.push(Factor {
            kind: FactorKind::Floor,
            value: format!("{} is listed in CISA KEV", k.cve),
            points: 0.0,
            rule: format!(
                "a KEV-listed finding is at least {} (score alone gives {by_score})",
                policy.kev_floor
            ),
        });
    }
    let sla_days = policy.sla_days.days(priority);
    let mut due = signals
        .first_seen
        .map(|d| d.saturating_add(time::Duration::days(i64::from(sla_days))));
    if let Some(d) = due {
        let mut rule = format!(
            "{priority} SLA: {sla_days} days after first seen {}",
            signals
                .first_seen
                .map(|f| f.to_string())
                .unwrap_or_default()
        );
        if policy.kev_due_dates
            && let Some(kd) = signals.kev.as_ref().and_then(|k| k.due_date)
            && kd < d
        {
            due = Some(kd);
            rule = format!("CISA KEV due date, earlier than the {priority} SLA ({d})");
        }
        factors.push(Factor {
            kind: FactorKind::DueDate,
            value: format!("due {}", due.map(|d| d.to_string()).unwrap_or_default()),
            points: 0.0,
            rule,
        });
    }
    Assessment {
        priority,
        score,
        factors,
        sla_days,
        due,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn cvss(vector: &str) -> Option<CvssScore> {
        Some(cvss::score(vector).unwrap())
    }

    fn kev(due: Option<Date>) -> Option<KevSignal> {
        Some(KevSignal {
            cve: "CVE-2021-44228".into(),
            date_added: date!(2021 - 12 - 10),
            due_date: due,
            ransomware: true,
        })
    }

    #[test]
    fn log4shell_in_production_is_p1() {
        let s = Signals {
            cvss: cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            epss: Some(EpssSignal {
                cve: "CVE-2021-44228".into(),
                epss: 0.94358,
                percentile: 0.99973,
            }),
            kev: kev(Some(date!(2021 - 12 - 24))),
            runtime: RuntimeContext {
                production: Some(true),
                internet_facing: Some(true),
                loaded_at_runtime: Some(true),
            },
            first_seen: Some(date!(2025 - 01 - 01)),
            ..Default::default()
        };
        let a = assess(&s, &Policy::default());
        assert_eq!((a.priority, a.score, a.sla_days), (Priority::P1, 100.0, 7));
        assert_eq!(a.due, Some(date!(2025 - 01 - 08)));
        let text = a.explain();
        assert!(
            text.starts_with("P1 (critical): score 100.0 of 100"),
            "{text}"
        );
        assert!(
            text.contains(
                "listed in CISA KEV (CVE-2021-44228, added 2021-12-10, known ransomware use)"
            ),
            "{text}"
        );
        // The factors add up to the score.
        let sum: f64 = a.factors.iter().map(|f| f.points).sum();
        assert!((sum - a.score).abs() < 1e-9);
        // CISA's date, when asked for, wins when earlier.
        let p = Policy {
            kev_due_dates: true,
            ..Policy::default()
        };
        let a = assess(&s, &p);
        assert_eq!(a.due, Some(date!(2021 - 12 - 24)));
        assert!(a.explain().contains("CISA KEV due date"));
    }

    #[test]
    fn scores_follow_the_documented_table() {
        // High CVSS, unremarkable EPSS, unknown context: 30 + 6 + 4 + 4 + 2.
        let s = Signals {
            cvss: cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
            epss: Some(EpssSignal {
                cve: "CVE-2000-0001".into(),
                epss: 0.005,
                percentile: 0.7,
            }),
            ..Default::default()
        };
        let a = assess(&s, &Policy::default());
        assert_eq!((a.score, a.priority), (46.0, Priority::P3));
        // No signals at all: medium severity assumed, 22 + 10.
        let a = assess(&Signals::default(), &Policy::default());
        assert_eq!((a.score, a.priority), (32.0, Priority::P3));
        assert!(a.explain().contains("severity unknown"));
        // A rating without a vector.
        let s = Signals {
            rating: Some(Rating::Low),
            runtime: RuntimeContext {
                production: Some(false),
                internet_facing: Some(false),
                loaded_at_runtime: Some(false),
            },
            ..Default::default()
        };
        let a = assess(&s, &Policy::default());
        assert_eq!((a.score, a.priority, a.due), (8.0, Priority::P4, None));
    }

    /// The examples table of `docs/prioritisation.md`.
    #[test]
    fn documented_examples() {
        let unknown = (None, None, None);
        let epss = |e: f64| Some(e);
        let rows: [(Signals, f64, Priority); 6] = [
            (
                signals(Some(98), epss(0.2), false, unknown),
                73.2,
                Priority::P1,
            ),
            (
                signals(Some(98), epss(0.0004), false, unknown),
                49.2,
                Priority::P3,
            ),
            (
                signals(Some(75), epss(0.005), false, unknown),
                46.0,
                Priority::P3,
            ),
            (
                signals(Some(75), epss(0.005), false, (Some(true), Some(true), None)),
                54.0,
                Priority::P2,
            ),
            (signals(Some(53), None, true, unknown), 71.2, Priority::P1),
            (signals(None, None, false, unknown), 32.0, Priority::P3),
        ];
        for (s, score, priority) in rows {
            let a = assess(&s, &Policy::default());
            assert_eq!((a.score, a.priority), (score, priority), "{}", a.explain());
        }
    }

    #[test]
    fn kev_floor_lifts_a_low_score() {
        let s = Signals {
            rating: Some(Rating::Low),
            kev: kev(None),
            runtime: RuntimeContext {
                production: Some(false),
                internet_facing: Some(false),
                loaded_at_runtime: Some(false),
            },
            ..Default::default()
        };
        let a = assess(&s, &Policy::default());
        assert_eq!((a.score, a.priority), (48.0, Priority::P2));
        assert!(a.factors.iter().any(|f| f.kind == FactorKind::Floor));
        assert!(
            a.explain().contains("score alone gives P3"),
            "{}",
            a.explain()
        );
    }

    #[test]
    fn policy_validation_and_serde() {
        assert!(Policy::default().validate().is_ok());
        let p = Policy::from_json(br#"{"sla_days": {"p1": 3}, "kev_floor": "P1"}"#).unwrap();
        assert_eq!(
            (p.sla_days.p1, p.sla_days.p2, p.kev_floor),
            (3, 30, Priority::P1)
        );
        for bad in [
            r#"{"sla_days": {"p1": 40}}"#,
            r#"{"thresholds": {"p1": 40}}"#,
            r#"{"thresholds": {"p3": -1}}"#,
            r#"{"sla_days": {"p4": 99999}}"#,
            r#"{"sla": {}}"#,
        ] {
            assert!(Policy::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!("critical".parse::<Priority>().unwrap(), Priority::P1);
        assert_eq!("p3".parse::<Priority>().unwrap(), Priority::P3);
        assert!("urgent".parse::<Priority>().is_err());
        assert!(Priority::P1 > Priority::P2 && Priority::P3 > Priority::P4);
    }

    fn tri_strategy() -> impl Strategy<Value = Option<bool>> {
        prop_oneof![Just(None), Just(Some(false)), Just(Some(true))]
    }

    fn tri_rank(v: Option<bool>) -> u8 {
        match v {
            Some(false) => 0,
            None => 1,
            Some(true) => 2,
        }
    }

    fn cvss_for(tenths: u32) -> Option<CvssScore> {
        Some(CvssScore {
            version: cvss::CvssVersion::V3_1,
            base_score: f64::from(tenths) / 10.0,
            rating: Rating::Medium,
            vector: String::new(),
        })
    }

    fn signals(
        cvss_t: Option<u32>,
        epss: Option<f64>,
        in_kev: bool,
        rt: (Option<bool>, Option<bool>, Option<bool>),
    ) -> Signals {
        Signals {
            cvss: cvss_t.and_then(cvss_for),
            rating: None,
            epss: epss.map(|e| EpssSignal {
                cve: "CVE-2020-0001".into(),
                epss: e,
                percentile: e,
            }),
            kev: if in_kev { kev(None) } else { None },
            runtime: RuntimeContext {
                production: rt.0,
                internet_facing: rt.1,
                loaded_at_runtime: rt.2,
            },
            first_seen: None,
        }
    }

    proptest! {
        /// More evidence never lowers the priority (or the score).
        #[test]
        fn priority_is_monotone(
            c1 in 0u32..=100, dc in 0u32..=100,
            e1 in 0.0f64..=1.0, de in 0.0f64..=1.0,
            k1 in any::<bool>(), k2 in any::<bool>(),
            p1 in tri_strategy(), p2 in tri_strategy(),
            i1 in tri_strategy(), i2 in tri_strategy(),
            l1 in tri_strategy(), l2 in tri_strategy(),
            with_epss in any::<bool>(),
        ) {
            let c2 = (c1 + dc).min(100);
            let e2 = (e1 + de).min(1.0);
            let up = |a: Option<bool>, b: Option<bool>| if tri_rank(b) >= tri_rank(a) { b } else { a };
            let low = signals(Some(c1), with_epss.then_some(e1), k1, (p1, i1, l1));
            let high = signals(Some(c2), Some(e2), k1 || k2, (up(p1, p2), up(i1, i2), up(l1, l2)));
            for policy in [Policy::default(), Policy { kev_floor: Priority::P1, ..Policy::default() }] {
                let a = assess(&low, &policy);
                let b = assess(&high, &policy);
                prop_assert!(b.score >= a.score, "{} -> {}", a.explain(), b.explain());
                prop_assert!(b.priority >= a.priority, "{} -> {}", a.explain(), b.explain());
                prop_assert!(b.sla_days <= a.sla_days);
            }
        }

        /// The score is always within 0..=100 and equals its factors' sum.
        #[test]
        fn score_is_bounded_and_explained(
            c in proptest::option::of(0u32..=100), e in proptest::option::of(0.0f64..=1.0),
            k in any::<bool>(), p in tri_strategy(), i in tri_strategy(), l in tri_strategy(),
        ) {
            let s = signals(c, e, k, (p, i, l));
            let a = assess(&s, &Policy::default());
            prop_assert!((0.0..=100.0).contains(&a.score));
            let sum: f64 = a.factors.iter().map(|f| f.points).sum();
            prop_assert!((sum - a.score).abs() < 1e-9);
        }
    }
}
