//! Bounded, trimmed text. Empty or whitespace-only input is refused, so an
//! optional field is either absent (`null`) or holds real text.

use serde::{Deserialize, Serialize};

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                bounded_text_schema($max).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                let trimmed = raw.trim();
                if trimmed.is_empty() {
                    return Err("must not be empty".into());
                }
                // Counted before trimming too, as the document's maxLength counts.
                if raw.chars().count() > $max {
                    return Err(format!("must be at most {} characters", $max));
                }
                if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                    return Err("must not contain control characters".into());
                }
                Ok(Self(trimmed.to_owned()))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = String;
            fn try_from(raw: &str) -> Result<Self, String> {
                Self::try_from(raw.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> String {
                text.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Not blank, and no control character but tab and line breaks: what
/// [`Name`] and [`LongText`] accept, as a JSON Schema pattern.
const BOUNDED_TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// What the OpenAPI document says of bounded text: the server's own checks.
fn bounded_text_schema(max: usize) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(BOUNDED_TEXT_PATTERN))
        .description(Some(format!(
            "Text of up to {max} characters (kept trimmed); not blank, and no control characters but tab and line breaks."
        )))
        .build()
}

bounded_text!(
    /// A name or short label: up to 200 characters.
    Name,
    200
);
bounded_text!(
    /// Free text such as a note body: up to 20,000 characters.
    LongText,
    20_000
);

/// A tag: lower-case, no spaces at either end, up to 50 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

crate::schema::schema_from!(
    Tag,
    crate::schema::text(
        1,
        50,
        "^[^,\\u0000-\\u001F\\u007F-\\u009F]*[^\\s,\\u0000-\\u001F\\u007F-\\u009F][^,\\u0000-\\u001F\\u007F-\\u009F]*$",
        "A tag: up to 50 characters (kept trimmed), not blank, no commas or control characters; kept in lower case."
    )
);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() {
            return Err("a tag must not be empty".into());
        }
        if raw.chars().count() > 50 || tag.chars().count() > 50 {
            return Err("a tag must be at most 50 characters".into());
        }
        if tag.chars().any(|c| c.is_control() || c == ',') {
            return Err("a tag must not contain commas or control characters".into());
        }
        Ok(Self(tag))
    }
}

impl From<Tag> for String {
    fn from(tag: Tag) -> String {
        tag.0
    }
}

/// Tags kept unique and sorted, whatever order the client sent.
pub fn normalize_tags(tags: Vec<Tag>) -> Vec<Tag> {
    let mut tags = tags;
    tags.sort();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_states_what_bounded_text_accepts() {
        let schema = serde_json::to_value(<Name as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!((schema["minLength"].as_u64(), schema["maxLength"].as_u64()), (Some(1), Some(200)));
        let pattern = regex::Regex::new(schema["pattern"].as_str().expect("a pattern")).expect("a valid pattern");
        // The pattern takes exactly what `Name::try_from` takes (within the length).
        for text in ["Ada", " Ada Lovelace ", "line\nbreak", "tab\there", "Zoë", "\u{2003}x"] {
            assert!(pattern.is_match(text), "{text:?} is refused by the pattern");
            assert!(Name::try_from(text).is_ok(), "{text:?} is refused by Name");
        }
        for text in ["", "   ", "\t\n", "a\u{1}b", "\u{1}", "x\u{85}y", "\u{7f}"] {
            assert!(!pattern.is_match(text), "{text:?} is taken by the pattern");
            assert!(Name::try_from(text).is_err(), "{text:?} is taken by Name");
        }
        assert_eq!(<LongText as utoipa::ToSchema>::name(), "LongText");
    }
}
