//! `text_enum!`: an enum stored and sent as fixed text (`"in_person"`),
//! with every value listed, parsing that names the choices, and an
//! optional label for people (`InPerson => "in_person" / "In person"`;
//! without one, the label is the text).

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vattr:meta])* $variant:ident => $text:tt $(/ $label:literal)?),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $($(#[$vattr])* #[serde(rename = $text)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The value's name for people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => text_enum!(@label $text $(, $label)?)),* }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("must be one of {}", names.join(", "))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (@label $text:tt) => { $text };
    (@label $text:tt, $label:literal) => { $label };
}

#[cfg(test)]
mod tests {
    use crate::records::{ActivityKind, LifecycleStage};
    use crate::surveys::SkipReason;

    /// The values the OpenAPI document lists for an enum.
    fn documented<T: utoipa::PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).expect("a schema serialises")["enum"].clone()
    }

    #[test]
    fn the_document_lists_the_values_clients_send() {
        assert_eq!(documented::<ActivityKind>(), serde_json::json!(["note", "call", "email", "meeting", "message"]));
        let stages: Vec<&str> = LifecycleStage::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(documented::<LifecycleStage>(), serde_json::json!(stages));
        assert_eq!(documented::<SkipReason>()[0], "do_not_contact");
    }
}
