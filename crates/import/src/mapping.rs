//! Which field each column fills: the header row read through each kind's
//! field names and their synonyms, overridden by a mapping.

use std::collections::BTreeMap;

use rapport_domain::custom_fields::CustomFieldInput;
use rapport_domain::surveys::QuestionKey;
use serde::{Deserialize, Serialize};

use crate::{Column, ImportError, Kind};

/// Header → field name: the saved mapping file's format, `{"Vorname": "first_name", "Stufe": "cf.tier"}`.
/// An empty field name (`{"Notes": ""}`) leaves the column out, even one its header names a field by.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping(pub BTreeMap<String, String>);

impl Mapping {
    /// The field name that leaves a column out.
    pub const LEAVE_OUT: &'static str = "";
}

/// A field a column may fill, with the other names a header may give it (compared normalized).
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub synonyms: &'static [&'static str],
}

const fn field(name: &'static str, synonyms: &'static [&'static str]) -> FieldSpec {
    FieldSpec { name, synonyms }
}

const PEOPLE: &[FieldSpec] = &[
    field("external_id", &["extid"]),
    field("first_name", &["first", "givenname", "forename"]),
    field("last_name", &["last", "surname", "familyname"]),
    field("emails", &["email", "emailaddress", "emailaddresses", "mail"]),
    field("phones", &["phone", "phonenumber", "phonenumbers", "telephone", "tel", "mobile"]),
    field("job_title", &["title", "position"]),
    field("lifecycle_stage", &["lifecycle", "stage"]),
    field("source", &["leadsource"]),
    field("tags", &["tag", "labels"]),
    field("keep_in_touch_days", &["keepintouch"]),
    field("language", &["lang", "preferredlanguage"]),
    field("time_zone", &["tz", "timezone"]),
    field("note", &["notes"]),
    field("company_name", &["company", "companyname", "organization", "organisation", "employer"]),
    field("birthday", &["birthdate", "dateofbirth", "dob", "bday"]),
    // One address: the columns Google Contacts writes for its first one too.
    field("street", &["streetaddress", "address", "addressline1", "address1street"]),
    field("city", &["locality", "town", "address1city"]),
    field("region", &["state", "province", "county", "address1region"]),
    field("postal_code", &["zip", "zipcode", "postcode", "address1postalcode"]),
    field("country", &["address1country"]),
];

const COMPANIES: &[FieldSpec] = &[
    field("external_id", &["extid"]),
    field("name", &["company", "companyname", "organization", "organisation"]),
    field("domain", &["website", "web", "url"]),
    field("industry", &["sector"]),
    field("size", &["employees", "companysize"]),
    field("tags", &["tag", "labels"]),
];

const PURCHASES: &[FieldSpec] = &[
    field("customer_email", &["email", "customer", "emailaddress"]),
    field("customer_external_id", &["customerid"]),
    field("customer_first_name", &["firstname"]),
    field("customer_last_name", &["lastname"]),
    field("occurred_at", &["date", "orderdate", "purchasedat", "time"]),
    field("amount", &["total", "price", "value"]),
    field("currency", &[]),
    field("reference", &["ordernumber", "orderid", "order", "ref", "invoice"]),
    field("description", &["item", "product", "details"]),
];

const DEALS: &[FieldSpec] = &[
    field("external_id", &["extid", "dealid"]),
    field("name", &["deal", "dealname", "title"]),
    field("amount", &["value"]),
    field("currency", &[]),
    field("pipeline", &[]),
    field("stage", &["dealstage"]),
    field("customer_email", &["email", "personemail", "contactemail"]),
    field("customer_external_id", &["customerid", "personid", "contactid"]),
    field("customer_first_name", &["firstname"]),
    field("customer_last_name", &["lastname"]),
    field("company_external_id", &["companyid"]),
    field("company_name", &["company"]),
    field("expected_close", &["closedate", "expectedclosedate"]),
    field("status", &[]),
    field("lost_reason", &[]),
    field("tags", &["tag", "labels"]),
];

const ACTIVITIES: &[FieldSpec] = &[
    field("external_id", &["extid", "activityid"]),
    field("kind", &["type", "activitytype"]),
    field("direction", &[]),
    field("occurred_at", &["date", "time", "when"]),
    field("subject", &["title"]),
    field("body", &["notes", "text", "description", "content"]),
    field("customer_email", &["email", "personemail", "contactemail"]),
    field("customer_external_id", &["customerid", "personid", "contactid"]),
    field("customer_first_name", &["firstname"]),
    field("customer_last_name", &["lastname"]),
    field("company_external_id", &["companyid"]),
    field("company_name", &["company"]),
    field("deal_external_id", &["dealid"]),
];

const TICKETS: &[FieldSpec] = &[
    field("external_id", &["extid", "ticketid", "ticketnumber", "number"]),
    field("subject", &["title", "summary"]),
    field("status", &["state", "ticketstatus"]),
    field("priority", &["urgency"]),
    field("channel", &["via", "source"]),
    field("customer_email", &["email", "requester", "requesteremail", "contactemail"]),
    field("customer_external_id", &["customerid", "requesterid", "contactid"]),
    field("customer_first_name", &["firstname"]),
    field("customer_last_name", &["lastname"]),
    field("assignee_email", &["assignee", "agent", "agentemail"]),
    field("team", &["group", "teamname"]),
    field("tags", &["tag", "labels"]),
    field("created_at", &["created", "createdat", "opened", "openedat"]),
];

const ANSWERS: &[FieldSpec] = &[
    field("external_id", &["extid", "answerid", "responseid", "submissionid", "surveyresponseid"]),
    field("survey", &["surveyname", "surveyid", "form", "formname"]),
    field("customer_email", &["email", "customer", "emailaddress", "respondent", "respondentemail"]),
    field("customer_first_name", &["firstname"]),
    field("customer_last_name", &["lastname"]),
    field("answered_at", &["date", "time", "answered", "answereddate", "submittedat", "submitted", "respondedat"]),
    field("score", &["nps", "npsscore", "csat", "ces", "rating"]),
    field("comment", &["comments", "feedback", "reason", "why"]),
    field("staff_email", &["staff", "staffmember", "agent", "agentemail", "assignee", "employee"]),
];

/// Columns `rapport export --type people` writes that are Rapport's own
/// (ids, links, times): known, and left out.
const PEOPLE_EXPORT_ONLY: &[&str] = &[
    "id",
    "companyid",
    "ownerid",
    "referredbyid",
    "donotcontact",
    "lastcontactedat",
    "createdat",
    "updatedat",
    "version",
];

const COMPANIES_EXPORT_ONLY: &[&str] = &["id", "ownerid", "createdat", "updatedat", "version"];

pub(crate) fn specs(kind: Kind) -> &'static [FieldSpec] {
    match kind {
        Kind::People => PEOPLE,
        Kind::Companies => COMPANIES,
        Kind::Purchases => PURCHASES,
        Kind::Deals => DEALS,
        Kind::Activities => ACTIVITIES,
        Kind::Tickets => TICKETS,
        Kind::Answers => ANSWERS,
        Kind::Vcard => &[],
    }
}

fn export_only(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::People => PEOPLE_EXPORT_ONLY,
        Kind::Companies => COMPANIES_EXPORT_ONLY,
        _ => &[],
    }
}

/// The fields a file of `kind` cannot do without; each inner list is
/// satisfied by any one of its fields.
pub(crate) fn required(kind: Kind) -> &'static [&'static [&'static str]] {
    match kind {
        Kind::Purchases => {
            &[&["customer_email", "customer_external_id"], &["occurred_at"], &["amount"], &["currency"], &["reference"]]
        }
        Kind::Companies => &[&["name", "domain", "external_id"]],
        Kind::Deals | Kind::Activities | Kind::Tickets => &[&["external_id"]],
        Kind::Answers => &[&["external_id"], &["survey"], &["customer_email"]],
        _ => &[],
    }
}

/// The field names a column of `kind` may map to, for a mapping `<select>`.
/// Custom fields are named `cf.<key>` besides these.
pub fn fields(kind: Kind) -> &'static [&'static str] {
    const COMPANY_NAMES: &[&str] = &["external_id", "name", "domain", "industry", "size", "tags"];
    const PURCHASE_NAMES: &[&str] = &[
        "customer_email",
        "customer_external_id",
        "customer_first_name",
        "customer_last_name",
        "occurred_at",
        "amount",
        "currency",
        "reference",
        "description",
    ];
    const DEAL_NAMES: &[&str] = &[
        "external_id",
        "name",
        "amount",
        "currency",
        "pipeline",
        "stage",
        "customer_email",
        "customer_external_id",
        "customer_first_name",
        "customer_last_name",
        "company_external_id",
        "company_name",
        "expected_close",
        "status",
        "lost_reason",
        "tags",
    ];
    const ACTIVITY_NAMES: &[&str] = &[
        "external_id",
        "kind",
        "direction",
        "occurred_at",
        "subject",
        "body",
        "customer_email",
        "customer_external_id",
        "customer_first_name",
        "customer_last_name",
        "company_external_id",
        "company_name",
        "deal_external_id",
    ];
    const TICKET_NAMES: &[&str] = &[
        "external_id",
        "subject",
        "status",
        "priority",
        "channel",
        "customer_email",
        "customer_external_id",
        "customer_first_name",
        "customer_last_name",
        "assignee_email",
        "team",
        "tags",
        "created_at",
    ];
    const ANSWER_NAMES: &[&str] = &[
        "external_id",
        "survey",
        "customer_email",
        "customer_first_name",
        "customer_last_name",
        "answered_at",
        "score",
        "comment",
        "staff_email",
    ];
    const PEOPLE_NAMES: &[&str] = &[
        "external_id",
        "first_name",
        "last_name",
        "emails",
        "phones",
        "job_title",
        "lifecycle_stage",
        "source",
        "tags",
        "keep_in_touch_days",
        "language",
        "time_zone",
        "note",
        "company_name",
        "birthday",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
    ];
    match kind {
        Kind::People => PEOPLE_NAMES,
        Kind::Companies => COMPANY_NAMES,
        Kind::Purchases => PURCHASE_NAMES,
        Kind::Deals => DEAL_NAMES,
        Kind::Activities => ACTIVITY_NAMES,
        Kind::Tickets => TICKET_NAMES,
        Kind::Answers => ANSWER_NAMES,
        Kind::Vcard => &[],
    }
}

/// Lower-case, without spaces, `_`, `-` and `.`: `First Name`, `first_name` and `FIRST-NAME` are one column.
pub(crate) fn normalize(header: &str) -> String {
    header.chars().filter(|c| !matches!(c, ' ' | '_' | '-' | '.')).flat_map(char::to_lowercase).collect()
}

/// What a column fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Field(&'static str),
    Custom(String),
    /// A survey question by its key (`q_<key>`), in an import of answers.
    Question(String),
}

impl Target {
    /// The field a header (or a mapping's target) names, synonyms included.
    pub fn recognize(kind: Kind, header: &str) -> Option<Target> {
        let header = header.trim();
        if let Some(prefix) = header.get(..3)
            && prefix.eq_ignore_ascii_case("cf.")
            && header.len() > 3
        {
            return Some(Target::Custom(header[3..].trim().to_lowercase()));
        }
        if kind == Kind::Answers
            && let Some(prefix) = header.get(..2)
            && (prefix.eq_ignore_ascii_case("q_") || prefix.eq_ignore_ascii_case("q."))
            && let Ok(key) = QuestionKey::parse(&header[2..].trim().to_lowercase())
        {
            return Some(Target::Question(key.as_str().to_owned()));
        }
        let wanted = normalize(header);
        specs(kind)
            .iter()
            .find(|spec| normalize(spec.name) == wanted || spec.synonyms.contains(&wanted.as_str()))
            .map(|spec| Target::Field(spec.name))
    }

    /// The name a mapping file uses.
    pub fn name(&self) -> String {
        match self {
            Target::Field(name) => (*name).to_owned(),
            Target::Custom(key) => format!("cf.{key}"),
            Target::Question(key) => format!("q_{key}"),
        }
    }

    /// The name the domain's validation messages use.
    pub fn error_key(&self) -> String {
        match self {
            Target::Field(name) => (*name).to_owned(),
            Target::Custom(key) => format!("custom_fields.{key}"),
            Target::Question(key) => format!("q_{key}"),
        }
    }
}

/// Which field each column fills, from the header row and the mapping.
pub(crate) struct Plan {
    pub kind: Kind,
    pub headers: Vec<String>,
    pub columns: Vec<Option<Target>>,
    /// Columns that fill nothing and are not Rapport's own, with why.
    pub unmapped: Vec<String>,
}

impl Plan {
    /// `custom`: the kind's custom field definitions; `None` accepts any `cf.<key>` (a preview).
    pub fn new(
        kind: Kind,
        headers: Vec<String>,
        mapping: Option<&Mapping>,
        custom: Option<&[CustomFieldInput]>,
    ) -> Result<Plan, ImportError> {
        // A header the mapping leaves out maps to `None`.
        let mut mapped: BTreeMap<String, Option<Target>> = BTreeMap::new();
        for (header, target) in mapping.map(|m| &m.0).into_iter().flatten() {
            if target.trim() == Mapping::LEAVE_OUT {
                mapped.insert(normalize(header), None);
                continue;
            }
            let field = Target::recognize(kind, target).ok_or_else(|| ImportError::UnknownField {
                header: header.clone(),
                field: target.clone(),
                known: known_fields(kind),
            })?;
            mapped.insert(normalize(header), Some(field));
        }
        let mut columns: Vec<Option<Target>> = Vec::with_capacity(headers.len());
        let mut unmapped = Vec::new();
        for header in &headers {
            let chosen = mapped.get(&normalize(header));
            let left_out = matches!(chosen, Some(None));
            let target =
                chosen.cloned().flatten().or_else(|| if left_out { None } else { Target::recognize(kind, header) });
            let target = match target {
                // Left out on purpose: no warning.
                None if left_out => None,
                Some(Target::Custom(key))
                    if custom.is_some_and(|defined| !defined.iter().any(|d| d.key.as_str() == key)) =>
                {
                    unmapped.push(format!("{header} (no custom field {key:?} for {kind})"));
                    None
                }
                Some(target) => Some(target),
                None if export_only(kind).contains(&normalize(header).as_str()) => None,
                None => {
                    if !header.is_empty() {
                        unmapped.push(header.clone());
                    }
                    None
                }
            };
            if let Some(target) = &target
                && let Some(other) = columns.iter().position(|c| c.as_ref() == Some(target))
            {
                return Err(ImportError::SameField {
                    first: headers[other].clone(),
                    second: header.clone(),
                    field: target.name(),
                });
            }
            columns.push(target);
        }
        Ok(Plan { kind, headers, columns, unmapped })
    }

    /// Refuses a header row in which nothing is recognized: most likely the
    /// file has no header row at all.
    pub fn ensure_header(&self) -> Result<(), ImportError> {
        if self.columns.iter().all(Option::is_none) {
            return Err(ImportError::NoHeader { cells: self.headers.join(", "), known: known_fields(self.kind) });
        }
        Ok(())
    }

    /// Refuses a file without a column some field of its kind needs.
    pub fn ensure_required(&self) -> Result<(), ImportError> {
        for any_of in required(self.kind) {
            let present = any_of.iter().any(|field| self.columns.iter().flatten().any(|t| t == &Target::Field(field)));
            if !present {
                return Err(ImportError::MissingColumn { kind: self.kind, field: any_of.join(" or ") });
            }
        }
        Ok(())
    }

    pub fn described(&self) -> Vec<Column> {
        self.headers
            .iter()
            .zip(&self.columns)
            .map(|(header, target)| Column { header: header.clone(), field: target.as_ref().map(Target::name) })
            .collect()
    }
}

fn known_fields(kind: Kind) -> String {
    let mut names: Vec<&str> = fields(kind).to_vec();
    names.push(if kind == Kind::Answers { "q_<key>" } else { "cf.<key>" });
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognized_by_name_and_synonym() {
        let headers = ["First Name", "E-mail", "Colour", "cf.Tier", "id"].map(String::from).to_vec();
        let plan = Plan::new(Kind::People, headers, None, None).unwrap();
        let fields: Vec<Option<String>> = plan.described().into_iter().map(|c| c.field).collect();
        assert_eq!(fields, [Some("first_name".into()), Some("emails".into()), None, Some("cf.tier".into()), None]);
        assert_eq!(plan.unmapped, ["Colour"], "Rapport's own id column is known, and left out");
        let columns = plan.described();
        assert_eq!(crate::column_of(&columns, "emails").as_deref(), Some("E-mail"));
        assert_eq!(crate::column_of(&columns, "custom_fields.tier").as_deref(), Some("cf.Tier"));
        assert_eq!(crate::column_of(&columns, "last_name").as_deref(), Some("last_name"));
        assert_eq!(crate::column_of(&columns, "row"), None);
    }

    #[test]
    fn a_mapping_overrides_and_is_checked() {
        let headers = ["Vorname", "Mail"].map(String::from).to_vec();
        let mapping = Mapping([("vorname".to_string(), "First Name".to_string())].into());
        let plan = Plan::new(Kind::People, headers.clone(), Some(&mapping), None).unwrap();
        assert_eq!(plan.columns, [Some(Target::Field("first_name")), Some(Target::Field("emails"))]);

        let bad = Mapping([("Vorname".to_string(), "given".to_string())].into());
        let err = Plan::new(Kind::People, headers.clone(), Some(&bad), None).err().unwrap();
        assert!(err.to_string().contains("\"given\", which is not a field"), "{err}");

        let twice = Mapping([("Vorname".to_string(), "emails".to_string())].into());
        let err = Plan::new(Kind::People, headers, Some(&twice), None).err().unwrap();
        assert!(matches!(err, ImportError::SameField { .. }), "{err}");
    }

    #[test]
    fn a_mapping_leaves_out_any_column_even_a_recognized_one() {
        let headers = ["First Name", "E-mail", "Tags", "Notes"].map(String::from).to_vec();
        let leave_out = |header: &str| (header.to_string(), Mapping::LEAVE_OUT.to_string());
        let mapping = Mapping([leave_out("e-mail"), leave_out("Notes")].into());
        let plan = Plan::new(Kind::People, headers.clone(), Some(&mapping), None).unwrap();
        assert_eq!(plan.columns, [Some(Target::Field("first_name")), None, Some(Target::Field("tags")), None]);
        assert!(plan.unmapped.is_empty(), "a column left out on purpose is no warning: {:?}", plan.unmapped);
        // Another column may then fill the field the left-out one was recognized as.
        let moved = Mapping([leave_out("E-mail"), ("Notes".to_string(), "emails".to_string())].into());
        let plan = Plan::new(Kind::People, headers, Some(&moved), None).unwrap();
        assert_eq!(plan.columns[1], None);
        assert_eq!(plan.columns[3], Some(Target::Field("emails")));
        // A field a kind needs is still needed.
        let companies =
            Plan::new(Kind::Companies, vec!["Name".into()], Some(&Mapping([leave_out("name")].into())), None);
        assert!(matches!(companies.unwrap().ensure_required(), Err(ImportError::MissingColumn { .. })));
    }

    #[test]
    fn a_first_row_of_data_is_not_a_header() {
        let headers = ["Ada", "ada@example.com"].map(String::from).to_vec();
        let plan = Plan::new(Kind::People, headers, None, None).unwrap();
        assert!(matches!(plan.ensure_header(), Err(ImportError::NoHeader { .. })));
    }

    #[test]
    fn answers_take_a_column_per_question_key() {
        let headers = ["Response ID", "Survey", "E-mail", "NPS", "Why", "q_Channel", "Q.delivery", "q_", "Date"]
            .map(String::from)
            .to_vec();
        let plan = Plan::new(Kind::Answers, headers, None, Some(&[])).unwrap();
        let fields: Vec<Option<String>> = plan.described().into_iter().map(|c| c.field).collect();
        let expected = ["external_id", "survey", "customer_email", "score", "comment", "q_channel", "q_delivery"]
            .map(|f| Some(f.to_owned()));
        assert_eq!(fields[..7], expected);
        assert_eq!(fields[7], None, "q_ names no question");
        assert_eq!(fields[8].as_deref(), Some("answered_at"));
        assert_eq!(plan.unmapped, ["q_"]);
        plan.ensure_required().unwrap();
        assert_eq!(crate::column_of(&plan.described(), "q_channel").as_deref(), Some("q_Channel"));
        let people = Plan::new(Kind::People, vec!["q_channel".into()], None, None).unwrap();
        assert_eq!(people.columns, [None], "only answers have questions");
        let none = Plan::new(Kind::Answers, vec!["survey".into(), "email".into()], None, None).unwrap();
        assert!(matches!(none.ensure_required(), Err(ImportError::MissingColumn { .. })));
    }

    #[test]
    fn custom_fields_must_be_defined_when_definitions_are_known() {
        let headers = ["first name", "cf.tier"].map(String::from).to_vec();
        let plan = Plan::new(Kind::People, headers, None, Some(&[])).unwrap();
        assert_eq!(plan.columns[1], None);
        assert!(plan.unmapped[0].contains("no custom field \"tier\""), "{:?}", plan.unmapped);
    }
}
