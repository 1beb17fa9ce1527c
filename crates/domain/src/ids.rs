//! Typed record ids: a `PersonId` cannot be passed where a `DealId` is meant.
//! All ids are UUIDv7, so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    )*};
}

typed_id!(
    UserId,
    TeamId,
    PersonId,
    CompanyId,
    PipelineId,
    StageId,
    DealId,
    ActivityId,
    TaskId,
    PurchaseId,
    CustomFieldId,
    TokenId,
    ViewId,
    JobId,
    UploadId,
    TicketId,
    MessageId,
    SlaPolicyId,
    CalendarId,
    AttachmentId,
    OutboxId,
    SurveyId,
    SurveySendId,
    AnswerId,
    ThemeNoteId,
    SelfAssessmentId,
    FeedbackRoundId,
    FeedbackRequestId,
    GoalId,
);

/// The document's name for an optional id in a form-style query: an id, or
/// empty for "any" (as the web pages' "All …" choice sends it).
pub struct IdOrEmpty;

crate::schema::schema_from!(IdOrEmpty, {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
    Schema::from(
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            )
            .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
            .description(Some("An id, or empty for any."))
            .build(),
    )
});
