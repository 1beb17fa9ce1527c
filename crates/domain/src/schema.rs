//! OpenAPI schemas written by hand for the types that parse text themselves,
//! so that the document says what their `TryFrom` accepts (utoipa's derive
//! cannot put a pattern or bounds on a newtype).

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A string of `min..=max` characters matching `pattern`.
pub(crate) fn text(min: usize, max: usize, pattern: &str, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .description(Some(description))
        .build()
}

/// A string that is one of `values`.
pub(crate) fn one_of<S: Into<String>>(values: impl IntoIterator<Item = S>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(Into::into)))
        .description(Some(description))
        .build()
}

/// Implements `ToSchema` for `$name` with the schema `$schema` builds.
macro_rules! schema_from {
    ($name:ident, $schema:expr) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema.into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}
pub(crate) use schema_from;
