//! How values read on a page: dates, times, amounts and names.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// "2026-11-25 14:03 UTC" (app.js rewrites `<time>` elements into the reader's zone).
pub fn datetime(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).unwrap_or_default()
}

/// The machine-readable form for a `<time datetime="...">` attribute.
pub fn iso(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

pub fn date(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

/// "3 days ago", "in 2 hours": how far `at` is from now.
pub fn relative(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (now - at).whole_seconds();
    let (amount, future) = (seconds.unsigned_abs(), seconds < 0);
    let (count, unit) = match amount {
        0..60 => return "just now".into(),
        60..3600 => (amount / 60, "minute"),
        3600..86_400 => (amount / 3600, "hour"),
        86_400..2_592_000 => (amount / 86_400, "day"),
        2_592_000..31_536_000 => (amount / 2_592_000, "month"),
        _ => (amount / 31_536_000, "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    if future { format!("in {count} {unit}{plural}") } else { format!("{count} {unit}{plural} ago") }
}

/// Up to two initials for an avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).take(2).flat_map(char::to_uppercase).collect()
}

/// A stored word for people: `in_person` → "In person".
pub fn capitalize(text: &str) -> String {
    let text = text.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(relative(datetime!(2026-11-25 11:59:30 UTC), now), "just now");
        assert_eq!(relative(datetime!(2026-11-22 12:00 UTC), now), "3 days ago");
        assert_eq!(relative(datetime!(2026-11-25 14:00 UTC), now), "in 2 hours");
        assert_eq!(relative(datetime!(2026-10-25 12:00 UTC), now), "1 month ago");
        assert_eq!(initials("ana maría lópez"), "AM");
        assert_eq!(datetime(now), "2026-11-25 12:00 UTC");
    }
}
