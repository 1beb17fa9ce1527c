//! Text search, made the same on every database: documents and queries are
//! cut into the same lower-case alphanumeric words before either full-text
//! engine sees them, and every query word matches as a prefix.

/// The words of a text, lower-cased, split at anything not a letter or digit.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        // Lowercasing may add marks ("İ" becomes "i" and a combining dot),
        // which neither engine indexes as part of a word: keep letters and digits.
        .map(|w| w.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|w| !w.is_empty())
}

/// The searchable document of a record, from its parts.
pub fn document<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut doc: Vec<String> = Vec::new();
    for part in parts {
        doc.extend(words(part));
        // A phone number is found by its digits however it was typed.
        let digits: String = part.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 5 && digits.len() < part.len() {
            doc.push(digits);
        }
    }
    doc.join(" ")
}

/// The words of a search query, at most 8 of them.
pub fn query_terms(q: &str) -> Vec<String> {
    words(q).take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_queries_share_words() {
        let doc = document(["Ana Lima", "ana.lima@example.com", "+1 (555) 010-2030"]);
        assert_eq!(doc, "ana lima ana lima example com 1 555 010 2030 15550102030");
        assert_eq!(query_terms("Lima, ANA!"), vec!["lima", "ana"]);
        assert!(query_terms(" -- ").is_empty());
    }
}
