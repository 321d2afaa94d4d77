//! Durations as people write them on the command line and read them in reports:
//! `500ms`, `2s`, `1.5s`, `1m`, and the longer windows of `--since` (`6h`, `2d`).

use std::time::Duration;

/// Parses `500ms`, `2s`, `1m`, `1.5s` or a bare number of seconds; at most a day.
pub fn parse(text: &str) -> Option<Duration> {
    parse_up_to(text, 86_400.0)
}

/// The longest window `--since` accepts: 90 days.
pub const MAX_WINDOW: Duration = Duration::from_secs(90 * 86_400);

/// Parses a window such as `30m`, `6h`, `2d` (days allowed), at most [`MAX_WINDOW`].
pub fn parse_window(text: &str) -> Option<Duration> {
    parse_up_to(text, MAX_WINDOW.as_secs_f64())
}

fn parse_up_to(text: &str, max_secs: f64) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let value: f64 = num.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => return None,
    };
    (secs <= max_secs).then(|| Duration::from_secs_f64(secs))
}

/// `1.5s`, `500ms`, `2m`: a duration as people write it.
pub fn humanize(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(86_400_000) {
        format!("{}d", ms / 86_400_000)
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("-1s"), None);
        assert_eq!(parse("5 parsecs"), None);
        assert_eq!(parse("2d"), None, "a step lasts at most a day");
        assert_eq!(parse_window("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_window("6h"), Some(Duration::from_secs(21_600)));
        assert_eq!(parse_window("91d"), None);
    }

    #[test]
    fn durations_read_like_flags() {
        assert_eq!(humanize(Duration::from_millis(500)), "500ms");
        assert_eq!(humanize(Duration::from_secs(5)), "5s");
        assert_eq!(humanize(Duration::from_secs(120)), "2m");
        assert_eq!(humanize(Duration::from_millis(1500)), "1.5s");
        assert_eq!(humanize(Duration::from_secs(86_400)), "1d");
        assert_eq!(humanize(Duration::from_secs(7_200)), "2h");
    }
}
