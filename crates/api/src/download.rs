//! Files served as downloads only (attachments of customers' emails), for
//! the API and the pages alike: never shown in Rapport's origin, where a
//! customer's HTML or SVG could run as Rapport.

use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};

/// The bytes as an `application/octet-stream` download named `filename`.
pub fn attachment(filename: &str, bytes: Vec<u8>) -> Response {
    let headers = [
        (CONTENT_TYPE, "application/octet-stream".to_owned()),
        (CONTENT_DISPOSITION, content_disposition(filename)),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (CACHE_CONTROL, "private, no-cache".to_owned()),
    ];
    (headers, bytes).into_response()
}

/// `attachment` with the file's name: a plain ASCII `filename` for old
/// clients (quotes, backslashes, slashes and anything else replaced by `_`)
/// and the exact name as UTF-8 in `filename*` (RFC 6266 and RFC 5987).
fn content_disposition(filename: &str) -> String {
    let name = if filename.trim().is_empty() { "attachment" } else { filename };
    let plain: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/')) || c == ' ' { c } else { '_' })
        .collect();
    let mut exact = String::new();
    for byte in name.bytes() {
        let c = byte as char;
        if c.is_ascii_alphanumeric() || "!#$&+-.^_`|~".contains(c) {
            exact.push(c);
        } else {
            exact.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn download_names_are_quoted_safely() {
        assert_eq!(
            content_disposition("naïve \"plan\"/v2.pdf"),
            "attachment; filename=\"na_ve _plan__v2.pdf\"; filename*=UTF-8''na%C3%AFve%20%22plan%22%2Fv2.pdf"
        );
        assert_eq!(
            content_disposition("a\r\nb.txt"),
            "attachment; filename=\"a__b.txt\"; filename*=UTF-8''a%0D%0Ab.txt"
        );
        assert_eq!(content_disposition(" "), "attachment; filename=\"attachment\"; filename*=UTF-8''attachment");
    }
}
