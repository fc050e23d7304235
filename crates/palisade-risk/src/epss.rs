//! EPSS scores from FIRST's published CSV.
//!
//! The daily file (`epss_scores-YYYY-MM-DD.csv`, usually served gzipped) is:
//!
//! ```text
//! #model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000
//! cve,epss,percentile
//! CVE-1999-0001,0.00383,0.73075
//! ```
//!
//! The design decision: the parser is strict about what carries meaning
//! and tolerant about what does not. The header row must name the columns
//! `cve`, `epss` and `percentile` (any order, extra columns ignored), every
//! row must have a CVE id and two probabilities in `[0, 1]`, and an error
//! names the line. The comment line is optional (files before 2022 had
//! none) and so is each of its fields. Gzip is detected by its magic bytes.
//! Sizes are bounded: the decompressed text (a full snapshot is about
//! 10 MB for 300,000 CVEs) and the row count.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

/// The most decompressed bytes read (a full snapshot is about 10 MB).
pub const MAX_CSV_BYTES: u64 = 256 * 1024 * 1024;
/// The most rows accepted (about 300,000 CVEs are scored today).
pub const MAX_ROWS: usize = 5_000_000;
/// The longest line accepted.
pub const MAX_LINE_LEN: usize = 4096;

/// The EPSS scores of one CVE.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    /// The probability of exploitation activity in the next 30 days, 0 to 1.
    pub epss: f64,
    /// The share of scored CVEs with a lower or equal score, 0 to 1.
    pub percentile: f64,
}

/// A parsed EPSS snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpssData {
    /// `model_version` from the comment line (`v2023.03.01`).
    pub model_version: Option<String>,
    /// `score_date` from the comment line, as written.
    pub score_date: Option<String>,
    /// Scores by CVE id, upper case.
    pub scores: BTreeMap<String, EpssScore>,
}

impl EpssData {
    /// The score of `cve` (case-insensitive).
    pub fn get(&self, cve: &str) -> Option<EpssScore> {
        let key = cve.trim().to_ascii_uppercase();
        self.scores.get(&key).copied()
    }

    /// The highest score among `ids` (a finding's id and aliases; only
    /// CVE ids are scored), with the CVE it belongs to.
    pub fn best<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Option<(String, EpssScore)> {
        let mut best: Option<(String, EpssScore)> = None;
        for id in ids {
            if let Some(s) = self.get(id) {
                let better = best.as_ref().is_none_or(|(bid, b)| {
                    s.epss > b.epss || (s.epss == b.epss && id.to_ascii_uppercase() < *bid)
                });
                if better {
                    best = Some((id.trim().to_ascii_uppercase(), s));
                }
            }
        }
        best
    }

    /// How many CVEs are scored.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether no CVE is scored.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

/// Why an EPSS file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EpssError {
    /// The gzip stream is corrupt.
    #[error("EPSS file: gzip stream: {0}")]
    Gzip(std::io::Error),
    /// Larger than [`MAX_CSV_BYTES`] (after decompression).
    #[error("EPSS file is larger than {MAX_CSV_BYTES} bytes (decompressed)")]
    TooLarge,
    /// More rows than [`MAX_ROWS`].
    #[error("EPSS file has more than {MAX_ROWS} rows")]
    TooManyRows,
    /// Not UTF-8.
    #[error("EPSS file line {line}: not UTF-8")]
    NotUtf8 {
        /// The 1-based line number.
        line: usize,
    },
    /// No header row.
    #[error("EPSS file has no header row (expected `cve,epss,percentile`)")]
    MissingHeader,
    /// The header row lacks a required column.
    #[error(
        "EPSS file line {line}: header {header:?} lacks column {column:?} (expected `cve,epss,percentile`)"
    )]
    BadHeader {
        /// The 1-based line number.
        line: usize,
        /// The header, cut to 200 characters.
        header: String,
        /// The missing column.
        column: &'static str,
    },
    /// A data row is malformed.
    #[error("EPSS file line {line}: {reason}")]
    BadRow {
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Parses an EPSS CSV, plain or gzipped.
pub fn parse_csv(bytes: &[u8]) -> Result<EpssData, EpssError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_CSV_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(EpssError::Gzip)?;
        if text.len() as u64 > MAX_CSV_BYTES {
            return Err(EpssError::TooLarge);
        }
        parse_text(&text)
    } else {
        if bytes.len() as u64 > MAX_CSV_BYTES {
            return Err(EpssError::TooLarge);
        }
        parse_text(bytes)
    }
}

struct Columns {
    cve: usize,
    epss: usize,
    percentile: usize,
    width: usize,
}

fn header(line_no: usize, line: &str) -> Result<Columns, EpssError> {
    let names: Vec<String> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let find = |column: &'static str| {
        names
            .iter()
            .position(|n| n == column)
            .ok_or_else(|| EpssError::BadHeader {
                line: line_no,
                header: line.chars().take(200).collect(),
                column,
            })
    };
    Ok(Columns {
        cve: find("cve")?,
        epss: find("epss")?,
        percentile: find("percentile")?,
        width: names.len(),
    })
}

fn probability(line: usize, name: &str, field: Option<&str>) -> Result<f64, EpssError> {
    let text = field.map(str::trim).unwrap_or("");
    let value: f64 = text.parse().map_err(|_| EpssError::BadRow {
        line,
        reason: format!("{name} {:?} is not a number", cut(text)),
    })?;
    if !(0.0..=1.0).contains(&value) {
        return Err(EpssError::BadRow {
            line,
            reason: format!("{name} {value} is outside [0, 1]"),
        });
    }
    Ok(value)
}

fn cut(s: &str) -> String {
    s.chars().take(100).collect()
}

fn is_cve(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, seq)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=19).contains(&seq.len())
        && seq.bytes().all(|b| b.is_ascii_digit())
}

fn parse_text(text: &[u8]) -> Result<EpssData, EpssError> {
    let mut data = EpssData::default();
    let mut columns: Option<Columns> = None;
    let mut rows = 0usize;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        if raw.len() > MAX_LINE_LEN {
            return Err(EpssError::BadRow {
                line: line_no,
                reason: format!(
                    "line is {} bytes; at most {MAX_LINE_LEN} are accepted",
                    raw.len()
                ),
            });
        }
        let line = std::str::from_utf8(raw).map_err(|_| EpssError::NotUtf8 { line: line_no })?;
        let line = line.trim_end_matches('\r');
        let line = if line_no == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if columns.is_none() {
                for field in comment.split(',') {
                    if let Some((k, v)) = field.split_once(':') {
                        match k.trim() {
                            "model_version" => data.model_version = Some(v.trim().to_owned()),
                            "score_date" => data.score_date = Some(v.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
            }
            continue;
        }
        let Some(cols) = &columns else {
            columns = Some(header(line_no, line)?);
            continue;
        };
        rows += 1;
        if rows > MAX_ROWS {
            return Err(EpssError::TooManyRows);
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < cols.width {
            return Err(EpssError::BadRow {
                line: line_no,
                reason: format!("{} fields; the header has {}", fields.len(), cols.width),
            });
        }
        let cve = fields
            .get(cols.cve)
            .map(|c| c.trim().trim_matches('"').to_ascii_uppercase())
            .unwrap_or_default();
        if !is_cve(&cve) {
            return Err(EpssError::BadRow {
                line: line_no,
                reason: format!("{:?} is not a CVE id", cut(&cve)),
            });
        }
        let epss = probability(line_no, "epss", fields.get(cols.epss).copied())?;
        let percentile = probability(line_no, "percentile", fields.get(cols.percentile).copied())?;
        data.scores.insert(cve, EpssScore { epss, percentile });
    }
    if columns.is_none() {
        return Err(EpssError::MissingHeader);
    }
    Ok(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    const SAMPLE: &str = "#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000\n\
                          cve,epss,percentile\n\
                          CVE-1999-0001,0.00383,0.73075\n\
                          CVE-2021-44228,0.94358,0.99973\r\n";

    #[test]
    fn parses_plain_and_gzip() {
        let d = parse_csv(SAMPLE.as_bytes()).unwrap();
        assert_eq!(d.model_version.as_deref(), Some("v2023.03.01"));
        assert_eq!(d.score_date.as_deref(), Some("2025-02-20T00:00:00+0000"));
        assert_eq!(d.len(), 2);
        assert_eq!(d.get("cve-2021-44228").unwrap().epss, 0.94358);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(SAMPLE.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(parse_csv(&gz).unwrap(), d);
    }

    #[test]
    fn best_of_aliases() {
        let d = parse_csv(SAMPLE.as_bytes()).unwrap();
        let (id, s) = d
            .best(["GHSA-jfh8-c2jp-5v3q", "CVE-1999-0001", "CVE-2021-44228"])
            .unwrap();
        assert_eq!((id.as_str(), s.percentile), ("CVE-2021-44228", 0.99973));
        assert!(d.best(["GHSA-x"]).is_none());
    }

    #[test]
    fn comment_is_optional_header_is_not() {
        let d = parse_csv(b"cve,epss,percentile\nCVE-2020-0001,0.1,0.5\n").unwrap();
        assert_eq!((d.model_version.as_deref(), d.len()), (None, 1));
        let d =
            parse_csv(b"#model_version:v1\ncve,percentile,epss\nCVE-2020-0001,0.5,0.1\n").unwrap();
        assert_eq!(d.get("CVE-2020-0001").unwrap().epss, 0.1);
        let e =
            parse_csv(b"#x\ninvalid,header,format\nCVE-2024-6775,0.00043,0.09291\n").unwrap_err();
        assert!(
            matches!(
                e,
                EpssError::BadHeader {
                    line: 2,
                    column: "cve",
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            parse_csv(b"#only a comment\n"),
            Err(EpssError::MissingHeader)
        ));
    }

    #[test]
    fn bad_rows_name_their_line() {
        for (text, needle) in [
            ("cve,epss,percentile\nCVE-1,0.1,0.2\n", "not a CVE id"),
            (
                "cve,epss,percentile\nCVE-2020-0001,x,0.2\n",
                "epss \"x\" is not a number",
            ),
            (
                "cve,epss,percentile\nCVE-2020-0001,1.5,0.2\n",
                "outside [0, 1]",
            ),
            ("cve,epss,percentile\nCVE-2020-0001,0.1\n", "2 fields"),
            (
                "cve,epss,percentile\nCVE-2020-0001,NaN,0.2\n",
                "outside [0, 1]",
            ),
        ] {
            let e = parse_csv(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("line 2") && e.contains(needle), "{e}");
        }
        assert!(matches!(
            parse_csv(&[0x1f, 0x8b, 0, 1, 2]),
            Err(EpssError::Gzip(_))
        ));
        assert!(matches!(
            parse_csv(b"cve,epss,percentile\n\xff\n"),
            Err(EpssError::NotUtf8 { line: 2 })
        ));
    }
}
