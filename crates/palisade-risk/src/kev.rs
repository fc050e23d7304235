//! The CISA Known Exploited Vulnerabilities catalogue.
//!
//! `known_exploited_vulnerabilities.json`: `title`, `catalogVersion`,
//! `dateReleased`, `count` and `vulnerabilities[]`, each with `cveID`,
//! `vendorProject`, `product`, `vulnerabilityName`, `dateAdded`,
//! `shortDescription`, `requiredAction`, `dueDate`,
//! `knownRansomwareCampaignUse` (`Known` or `Unknown`), `notes` and `cwes`.
//!
//! The design decision: the fields prioritisation uses (`cveID`,
//! `dateAdded`, `dueDate`, `knownRansomwareCampaignUse`) are checked, and an
//! entry without a valid CVE id or date is an error naming its JSON path; the
//! descriptive fields are kept as written and may be absent. A `count` that
//! disagrees with the number of entries is reported as a warning, not an
//! error: the entries are what matters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::json::{self, JsonError};

/// The largest catalogue accepted (the real one is about 1.5 MB).
pub const MAX_CATALOG_BYTES: usize = 64 * 1024 * 1024;
/// The most entries accepted (about 1,400 today).
pub const MAX_ENTRIES: usize = 1_000_000;

/// Whether an entry is known to be used in ransomware campaigns.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RansomwareUse {
    /// `Known`.
    Known,
    /// `Unknown` (or absent).
    Unknown,
}

/// One catalogue entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    /// `cveID`, upper case.
    pub cve_id: String,
    /// `vendorProject`.
    pub vendor_project: String,
    /// `product`.
    pub product: String,
    /// `vulnerabilityName`.
    pub vulnerability_name: String,
    /// `dateAdded`.
    pub date_added: Date,
    /// `shortDescription`.
    pub short_description: String,
    /// `requiredAction`.
    pub required_action: String,
    /// `dueDate` (the remediation deadline for US federal agencies).
    pub due_date: Option<Date>,
    /// `knownRansomwareCampaignUse`.
    pub known_ransomware_campaign_use: RansomwareUse,
    /// `notes`.
    pub notes: String,
    /// `cwes`.
    pub cwes: Vec<String>,
}

/// The parsed catalogue (serialisable for reports; read it back with
/// [`parse_catalog`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KevCatalog {
    /// `title`.
    pub title: String,
    /// `catalogVersion` (`2025.08.25`).
    pub catalog_version: String,
    /// `dateReleased`, as written.
    pub date_released: String,
    /// `count`, as declared.
    pub count: usize,
    /// The entries, in file order.
    pub vulnerabilities: Vec<KevEntry>,
    /// Index into `vulnerabilities` by CVE id.
    #[serde(skip)]
    index: BTreeMap<String, usize>,
    /// Anything odd that did not stop the import (a `count` mismatch,
    /// duplicate CVE ids).
    pub warnings: Vec<String>,
}

impl KevCatalog {
    /// The entry for `cve` (case-insensitive).
    pub fn get(&self, cve: &str) -> Option<&KevEntry> {
        let key = cve.trim().to_ascii_uppercase();
        self.index
            .get(&key)
            .and_then(|&i| self.vulnerabilities.get(i))
    }

    /// The first of `ids` (a finding's id and aliases) that is listed.
    pub fn find<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Option<&KevEntry> {
        let mut hits: Vec<&KevEntry> = ids.into_iter().filter_map(|id| self.get(id)).collect();
        hits.sort_by(|a, b| a.cve_id.cmp(&b.cve_id));
        hits.into_iter().next()
    }

    /// How many entries the catalogue has.
    pub fn len(&self) -> usize {
        self.vulnerabilities.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.vulnerabilities.is_empty()
    }
}

/// Why a catalogue was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KevError {
    /// Not JSON, too large or too deep, or a value of the wrong type.
    #[error("KEV catalogue: {0}")]
    Json(#[from] JsonError),
    /// A field is invalid.
    #[error("KEV catalogue: {path}: {reason}")]
    Invalid {
        /// The JSON path (`$.vulnerabilities[3].dateAdded`).
        path: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    catalog_version: Option<String>,
    #[serde(default)]
    date_released: Option<String>,
    #[serde(default)]
    count: Option<usize>,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: Option<String>,
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    vulnerability_name: Option<String>,
    date_added: String,
    #[serde(default)]
    short_description: Option<String>,
    #[serde(default)]
    required_action: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    cwes: Option<Vec<String>>,
}

fn date(path: String, text: &str) -> Result<Date, KevError> {
    let fmt = format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), fmt).map_err(|e| KevError::Invalid {
        path,
        reason: format!("{:?} is not a YYYY-MM-DD date: {e}", cut(text)),
    })
}

fn cut(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Parses `known_exploited_vulnerabilities.json`.
pub fn parse_catalog(bytes: &[u8]) -> Result<KevCatalog, KevError> {
    let raw: RawCatalog = json::from_slice(bytes, MAX_CATALOG_BYTES, json::MAX_DEPTH)?;
    if raw.vulnerabilities.len() > MAX_ENTRIES {
        return Err(KevError::Invalid {
            path: "$.vulnerabilities".into(),
            reason: format!(
                "{} entries; at most {MAX_ENTRIES} are accepted",
                raw.vulnerabilities.len()
            ),
        });
    }
    let mut warnings = Vec::new();
    let mut vulnerabilities = Vec::with_capacity(raw.vulnerabilities.len());
    let mut index = BTreeMap::new();
    for (i, e) in raw.vulnerabilities.into_iter().enumerate() {
        let at = |field: &str| format!("$.vulnerabilities[{i}].{field}");
        let cve_id = e.cve_id.trim().to_ascii_uppercase();
        if !cve_id.starts_with("CVE-") || cve_id.len() > 64 {
            return Err(KevError::Invalid {
                path: at("cveID"),
                reason: format!("{:?} is not a CVE id", cut(&e.cve_id)),
            });
        }
        let date_added = date(at("dateAdded"), &e.date_added)?;
        let due_date = match e.due_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(date(at("dueDate"), d)?),
        };
        let known_ransomware_campaign_use = match e.known_ransomware_campaign_use.as_deref() {
            Some(s) if s.trim().eq_ignore_ascii_case("known") => RansomwareUse::Known,
            _ => RansomwareUse::Unknown,
        };
        if index.insert(cve_id.clone(), i).is_some() {
            warnings.push(format!(
                "{}: {cve_id} is listed more than once; the last entry is used",
                at("cveID")
            ));
        }
        vulnerabilities.push(KevEntry {
            cve_id,
            vendor_project: e.vendor_project.unwrap_or_default(),
            product: e.product.unwrap_or_default(),
            vulnerability_name: e.vulnerability_name.unwrap_or_default(),
            date_added,
            short_description: e.short_description.unwrap_or_default(),
            required_action: e.required_action.unwrap_or_default(),
            due_date,
            known_ransomware_campaign_use,
            notes: e.notes.unwrap_or_default(),
            cwes: e.cwes.unwrap_or_default(),
        });
    }
    let count = raw.count.unwrap_or(vulnerabilities.len());
    if count != vulnerabilities.len() {
        warnings.push(format!(
            "$.count: declares {count} entries, the catalogue has {}",
            vulnerabilities.len()
        ));
    }
    Ok(KevCatalog {
        title: raw.title.unwrap_or_default(),
        catalog_version: raw.catalog_version.unwrap_or_default(),
        date_released: raw.date_released.unwrap_or_default(),
        count,
        vulnerabilities,
        index,
        warnings,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::date;

    const SAMPLE: &str = r#"{
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2025.08.25",
        "dateReleased": "2025-08-25T17:04:19.9796Z",
        "count": 2,
        "vulnerabilities": [
            {"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
             "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
             "dateAdded": "2021-12-10", "shortDescription": "JNDI features ...",
             "requiredAction": "Apply updates per vendor instructions.",
             "dueDate": "2021-12-24", "knownRansomwareCampaignUse": "Known",
             "notes": "", "cwes": ["CWE-20", "CWE-400", "CWE-502"]},
            {"cveID": "cve-2025-48384", "dateAdded": "2025-08-25", "dueDate": "2025-09-15",
             "knownRansomwareCampaignUse": "Unknown"}
        ]
    }"#;

    #[test]
    fn parses_and_indexes() {
        let c = parse_catalog(SAMPLE.as_bytes()).unwrap();
        assert_eq!(
            (c.count, c.len(), c.catalog_version.as_str()),
            (2, 2, "2025.08.25")
        );
        assert!(c.warnings.is_empty());
        let e = c.get("cve-2021-44228").unwrap();
        assert_eq!(e.date_added, date!(2021 - 12 - 10));
        assert_eq!(e.due_date, Some(date!(2021 - 12 - 24)));
        assert_eq!(e.known_ransomware_campaign_use, RansomwareUse::Known);
        assert_eq!(e.cwes.len(), 3);
        assert_eq!(c.get("CVE-2025-48384").unwrap().product, "");
        assert_eq!(
            c.find(["GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228"])
                .unwrap()
                .cve_id,
            "CVE-2021-44228"
        );
    }

    #[test]
    fn errors_name_the_path() {
        let bad = SAMPLE.replace("2021-12-10", "10/12/2021");
        let e = parse_catalog(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("$.vulnerabilities[0].dateAdded"), "{e}");
        let bad = SAMPLE.replace("\"count\": 2", "\"count\": \"two\"");
        let e = parse_catalog(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("count"), "{e}");
        let bad = SAMPLE.replace("CVE-2021-44228", "LOG4SHELL");
        let e = parse_catalog(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("$.vulnerabilities[0].cveID"), "{e}");
        let e = parse_catalog(b"{\"vulnerabilities\": [")
            .unwrap_err()
            .to_string();
        assert!(e.contains("KEV catalogue"), "{e}");
    }

    #[test]
    fn count_mismatch_is_a_warning() {
        let c = parse_catalog(SAMPLE.replace("\"count\": 2", "\"count\": 3").as_bytes()).unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("declares 3"));
    }
}
