//! Charts drawn by the server as SVG: no script, nothing fetched. Each has a
//! `<title>` and a `<desc>` that say what it shows in words, is labelled for
//! assistive technology, and comes with its numbers as a table.

use maud::{Markup, html};

use crate::data::TrendPoint;

/// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
pub fn nice_max(max: usize) -> usize {
    let max = max.max(1);
    let mut step = 1usize;
    loop {
        for m in [1usize, 2, 5] {
            let v = step.saturating_mul(m);
            if v >= max {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// One sentence describing a trend.
pub fn describe_trend(points: &[TrendPoint]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return "No data.".to_owned();
    };
    let peak = points.iter().max_by_key(|p| p.open).unwrap_or(last);
    let change = last.open as i64 - first.open as i64;
    let direction = match change {
        c if c > 0 => format!("up by {c}"),
        c if c < 0 => format!("down by {}", -c),
        _ => "unchanged".to_owned(),
    };
    format!(
        "Open findings: {} on {}, {} on {} ({direction}); the highest was {} on {}.",
        first.open, first.day, last.open, last.day, peak.open, peak.day
    )
}

/// The trend of open findings: an area under a line, with a y axis of
/// round numbers, dates along the bottom, and today's value marked.
pub fn trend(id: &str, title: &str, points: &[TrendPoint]) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 34.0;
    let max = nice_max(points.iter().map(|p| p.open).max().unwrap_or(0));
    let n = points.len().max(2);
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64;
    let y = |v: usize| TOP + (H - TOP - BOTTOM) * (1.0 - v as f64 / max as f64);
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.open)))
        .collect();
    let area = if points.is_empty() {
        String::new()
    } else {
        format!(
            "M{:.1},{:.1} L{} L{:.1},{:.1} Z",
            x(0),
            y(0),
            line.join(" L"),
            x(points.len() - 1),
            y(0)
        )
    };
    let ticks: Vec<usize> = (0..=4).map(|k| max * k / 4).collect();
    let desc = describe_trend(points);
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let label_every = (points.len() / 6).max(1);
    html! {
        figure.chart {
            svg id=(id) class="trend" viewBox=(format!("0 0 {W} {H}")) role="img"
                aria-labelledby=(format!("{title_id} {desc_id}")) preserveAspectRatio="xMidYMid meet" {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (desc) }
                @for t in &ticks {
                    line.grid x1=(LEFT) x2=(W - RIGHT) y1=(format!("{:.1}", y(*t))) y2=(format!("{:.1}", y(*t))) {}
                    text.tick x=(LEFT - 6.0) y=(format!("{:.1}", y(*t) + 4.0)) text-anchor="end" { (t) }
                }
                path.area d=(area) {}
                polyline.line points=(line.join(" ")) {}
                @for (i, p) in points.iter().enumerate() {
                    @if i % label_every == 0 || i + 1 == points.len() {
                        text.tick x=(format!("{:.1}", x(i))) y=(H - 12.0) text-anchor="middle" {
                            (format!("{:02}-{:02}", u8::from(p.day.month()), p.day.day()))
                        }
                    }
                }
                @if let Some(last) = points.last() {
                    circle.dot cx=(format!("{:.1}", x(points.len() - 1))) cy=(format!("{:.1}", y(last.open))) r="4" {}
                    text.value x=(format!("{:.1}", x(points.len() - 1) - 8.0)) y=(format!("{:.1}", y(last.open) - 8.0)) text-anchor="end" {
                        (last.open) " now"
                    }
                }
            }
            figcaption { (desc) }
            details {
                summary { "Data table: " (title) }
                table.data {
                    caption.visually-hidden { (title) }
                    thead { tr { th scope="col" { "Day" } th scope="col" class="num" { "Open findings" } } }
                    tbody {
                        @for p in points {
                            tr { td { (p.day) } td.num { (p.open) } }
                        }
                    }
                }
            }
        }
    }
}

/// One bar of a bar chart.
#[derive(Clone, Debug)]
pub struct Bar {
    /// The label.
    pub label: String,
    /// The value.
    pub value: f64,
    /// The value as written.
    pub text: String,
    /// Where the bar leads.
    pub href: String,
}

/// Horizontal bars with their values written beside them.
pub fn bars(id: &str, title: &str, unit: &str, bars: &[Bar]) -> Markup {
    const W: f64 = 720.0;
    const ROW: f64 = 28.0;
    const LABEL: f64 = 150.0;
    let h = ROW * bars.len().max(1) as f64 + 8.0;
    let max = bars.iter().map(|b| b.value).fold(0.0f64, f64::max).max(1.0);
    let scale = (W - LABEL - 120.0) / max;
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let desc = if bars.is_empty() {
        "No data.".to_owned()
    } else {
        bars.iter()
            .map(|b| format!("{}: {}", b.label, b.text))
            .collect::<Vec<_>>()
            .join("; ")
    };
    html! {
        figure.chart {
            svg id=(id) class="bars" viewBox=(format!("0 0 {W} {h}")) role="img"
                aria-labelledby=(format!("{title_id} {desc_id}")) {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (desc) }
                @for (i, b) in bars.iter().enumerate() {
                    @let top = 4.0 + ROW * i as f64;
                    a href=(b.href) {
                        text.label x=(LABEL - 8.0) y=(format!("{:.1}", top + 18.0)) text-anchor="end" { (b.label) }
                        rect.bar x=(LABEL) y=(format!("{:.1}", top + 4.0)) height="18"
                            width=(format!("{:.1}", (b.value * scale).max(2.0))) {}
                        text.value x=(format!("{:.1}", LABEL + (b.value * scale).max(2.0) + 6.0)) y=(format!("{:.1}", top + 18.0)) { (b.text) }
                    }
                }
            }
            details {
                summary { "Data table: " (title) }
                table.data {
                    caption.visually-hidden { (title) }
                    thead { tr { th scope="col" { "" } th scope="col" class="num" { (unit) } } }
                    tbody {
                        @for b in bars {
                            tr { td { a href=(b.href) { (b.label) } } td.num { (b.text) } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(230), 500);
    }

    #[test]
    fn trends_are_described_in_words() {
        let d = |day| time::Date::from_calendar_date(2026, time::Month::November, day).unwrap();
        let p = vec![
            TrendPoint { day: d(1), open: 4 },
            TrendPoint { day: d(2), open: 9 },
            TrendPoint { day: d(3), open: 6 },
        ];
        assert_eq!(
            describe_trend(&p),
            "Open findings: 4 on 2026-11-01, 6 on 2026-11-03 (up by 2); the highest was 9 on 2026-11-02."
        );
        let svg = trend("t", "Open findings", &p).into_string();
        assert!(svg.contains("<title id=\"t-title\">Open findings</title>"));
        assert!(svg.contains("role=\"img\""));
    }
}
