//! Likely duplicates among people and among companies. Comparing every pair
//! would grow with the square of the records, so SQL first groups records
//! into blocks that share a key (an email address, a phone number's last
//! digits, a company and the first letters of a name, a domain's first
//! label, a company name's first letters); only records within one block are
//! compared, by the rules in `rapport_domain::duplicates`.

use crate::common::ByKey;
use std::collections::{BTreeMap, HashMap, HashSet};

use rapport_domain::duplicates::{
    DuplicateKind, DuplicatePair, DuplicateRecord, Reason, SIMILAR_NAME, combined_score, company_name_key, domain_name,
    name_similarity, normalize_name, phone_key,
};
use rapport_domain::records::{Company, Person, now};
use rapport_domain::{Actor, FieldErrors};
use sea_orm::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, Set, Statement};

use super::companies::company_from;
use super::people::person_from;
use crate::entities::{companies, duplicate_dismissals, people};
use crate::listing::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::{Page, Result, StorageError, Store};

/// A key shared by more records than this is a shared address (`info@`, a
/// switchboard number), not one record entered twice: it is skipped.
const MAX_CONTACT_BLOCK: i64 = 50;
/// Names are cheap to compare; a block of similar names may be larger.
const MAX_NAME_BLOCK: i64 = 200;
/// Ids per `IN (...)` when loading the candidates.
const LOAD_CHUNK: usize = 500;

/// Which pairs to list.
#[derive(Clone, Debug, Default)]
pub struct DuplicateQuery {
    pub min_score: u8,
    /// At most `MAX_LIMIT`; the default when absent.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// A pair's place in the listing: strongest first, then by ids.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    weakness: u8,
    a: Uuid,
    b: Uuid,
}

impl Position {
    fn of(pair: &DuplicatePair) -> Self {
        Position { weakness: 100 - pair.score.min(100), a: pair.a.id, b: pair.b.id }
    }

    fn encode(self) -> String {
        format!("{}.{}.{}", 100 - self.weakness, self.a.simple(), self.b.simple())
    }

    fn decode(raw: &str) -> Result<Self> {
        let bad = || StorageError::Invalid(FieldErrors::single("cursor", "is not a cursor from this list"));
        let mut parts = raw.split('.');
        let (Some(score), Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let score: u8 = score.parse().map_err(|_| bad())?;
        Ok(Position {
            weakness: 100u8.checked_sub(score).ok_or_else(bad)?,
            a: Uuid::parse_str(a).map_err(|_| bad())?,
            b: Uuid::parse_str(b).map_err(|_| bad())?,
        })
    }
}

/// Why SQL put two records in one block.
enum Evidence {
    Email(String),
    Phone(String),
    Name,
    Domain,
}

/// Candidate pairs, the smaller id first, with what brought them together.
#[derive(Default)]
struct Candidates(BTreeMap<(Uuid, Uuid), Vec<Evidence>>);

impl Candidates {
    /// Runs a block query (`k`, `id` ordered by `k`) and pairs the records of each block.
    async fn add_blocks<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        sql: String,
        evidence: impl Fn(&str) -> Evidence,
    ) -> Result<()> {
        let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await?;
        let mut block: Vec<Uuid> = Vec::new();
        let mut key: Option<String> = None;
        for row in rows {
            let k: String = row.try_get("", "k")?;
            let id: Uuid = row.try_get("", "id")?;
            if key.as_deref() != Some(k.as_str()) {
                self.pair_up(&block, key.as_deref(), &evidence);
                block.clear();
                key = Some(k);
            }
            block.push(id);
        }
        self.pair_up(&block, key.as_deref(), &evidence);
        Ok(())
    }

    fn pair_up(&mut self, block: &[Uuid], key: Option<&str>, evidence: &impl Fn(&str) -> Evidence) {
        let Some(key) = key else { return };
        for (i, &a) in block.iter().enumerate() {
            for &b in &block[i + 1..] {
                if a != b {
                    self.0.entry((a.min(b), a.max(b))).or_default().push(evidence(key));
                }
            }
        }
    }

    fn ids(&self) -> Vec<Uuid> {
        let ids: HashSet<Uuid> = self.0.keys().flat_map(|&(a, b)| [a, b]).collect();
        ids.into_iter().collect()
    }
}

/// Records whose key is shared by 2 to `max` records: (`k`, `id`), by key.
fn block_sql(keyed: &str, max: i64) -> String {
    format!(
        "WITH keyed AS ({keyed}), \
         shared AS (SELECT k FROM keyed GROUP BY k HAVING COUNT(DISTINCT id) BETWEEN 2 AND {max}) \
         SELECT DISTINCT keyed.k AS k, keyed.id AS id FROM keyed JOIN shared ON keyed.k = shared.k ORDER BY k, id"
    )
}

/// The trailing digits phones are matched on, as SQL (see `phone_key`).
fn phone_key_sql() -> String {
    let n = rapport_domain::duplicates::PHONE_MATCH_DIGITS;
    format!("CASE WHEN LENGTH(value) > {n} THEN SUBSTR(value, LENGTH(value) - {}) ELSE value END", n - 1)
}

/// A domain's first label: `acme` of `acme.com` (confirmed by `domain_name`).
fn domain_label_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "SPLIT_PART(domain, '.', 1)",
        _ => "SUBSTR(domain, 1, INSTR(domain, '.') - 1)",
    }
}

/// A uuid column as text, to build a key from (SQLite keeps uuids as bytes).
fn uuid_text_sql(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
        _ => format!("HEX({column})"),
    }
}

async fn dismissed<C: ConnectionTrait>(conn: &C, kind: DuplicateKind) -> Result<HashSet<(Uuid, Uuid)>> {
    Ok(duplicate_dismissals::Entity::find()
        .filter(duplicate_dismissals::Column::Kind.eq(kind.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.first_id, row.second_id))
        .collect())
}

async fn load_people<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<HashMap<Uuid, Person>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(LOAD_CHUNK) {
        for row in people::Entity::find().filter(people::Column::Id.is_in(chunk.iter().copied())).all(conn).await? {
            found.insert(row.id, person_from(row)?);
        }
    }
    Ok(found)
}

async fn load_companies<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<HashMap<Uuid, Company>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(LOAD_CHUNK) {
        for row in
            companies::Entity::find().filter(companies::Column::Id.is_in(chunk.iter().copied())).all(conn).await?
        {
            found.insert(row.id, company_from(row)?);
        }
    }
    Ok(found)
}

fn person_record(person: &Person, company_names: &HashMap<Uuid, Company>) -> DuplicateRecord {
    DuplicateRecord {
        id: person.id.0,
        name: person.fields.full_name(),
        emails: person.fields.emails.iter().map(|e| e.address.to_string()).collect(),
        phones: person.fields.phones.iter().map(|p| p.number.as_str().to_owned()).collect(),
        company: person.fields.company_id.and_then(|c| company_names.get(&c.0)).map(|c| c.fields.name.to_string()),
        domain: None,
    }
}

fn company_record(company: &Company) -> DuplicateRecord {
    DuplicateRecord {
        id: company.id.0,
        name: company.fields.name.to_string(),
        emails: Vec::new(),
        phones: Vec::new(),
        company: None,
        domain: company.fields.domain.as_ref().map(|d| d.as_str().to_owned()),
    }
}

/// The phone of `person` whose trailing digits are `key`, as typed.
fn phone_as_typed<'a>(person: &'a Person, key: &'a str) -> &'a str {
    person.fields.phones.iter().find(|p| phone_key(&p.number.digits()) == key).map_or(key, |p| p.number.as_str())
}

fn similarity(a: &str, b: &str) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    Some(name_similarity(a, b)).filter(|s| *s >= SIMILAR_NAME)
}

impl Store {
    /// Likely duplicate pairs, strongest first, without the dismissed ones.
    pub async fn find_duplicates(&self, kind: DuplicateKind, query: &DuplicateQuery) -> Result<Page<DuplicatePair>> {
        let after = query.cursor.as_deref().map(Position::decode).transpose()?;
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
        let mut pairs = match kind {
            DuplicateKind::People => self.people_pairs().await?,
            DuplicateKind::Companies => self.company_pairs().await?,
        };
        let dismissed = dismissed(self.conn(), kind).await?;
        pairs.retain(|p| p.score >= query.min_score && !dismissed.contains(&(p.a.id, p.b.id)));
        pairs.sort_by_key(Position::of);
        let mut rest: Vec<DuplicatePair> =
            pairs.into_iter().filter(|p| after.is_none_or(|after| Position::of(p) > after)).collect();
        let next_cursor = (rest.len() > limit).then(|| Position::of(&rest[limit - 1]).encode());
        rest.truncate(limit);
        Ok(Page { items: rest, next_cursor })
    }

    async fn people_pairs(&self) -> Result<Vec<DuplicatePair>> {
        let conn = self.conn();
        let mut candidates = Candidates::default();
        // Addresses are stored lower-cased, so equality is case-insensitive.
        let emails = "SELECT value AS k, person_id AS id FROM contact_points WHERE kind = 'email'";
        candidates.add_blocks(conn, block_sql(emails, MAX_CONTACT_BLOCK), |k| Evidence::Email(k.to_owned())).await?;
        let phones =
            format!("SELECT {} AS k, person_id AS id FROM contact_points WHERE kind = 'phone'", phone_key_sql());
        candidates.add_blocks(conn, block_sql(&phones, MAX_CONTACT_BLOCK), |k| Evidence::Phone(k.to_owned())).await?;
        // `sort_name` is "last first", lower-cased: people at one company
        // whose names start alike.
        let names = format!(
            "SELECT {} || ':' || SUBSTR(sort_name, 1, 2) AS k, id FROM people WHERE company_id IS NOT NULL",
            uuid_text_sql(self.backend(), "company_id")
        );
        candidates.add_blocks(conn, block_sql(&names, MAX_NAME_BLOCK), |_| Evidence::Name).await?;

        let people = load_people(conn, &candidates.ids()).await?;
        let company_ids: Vec<Uuid> = people.values().filter_map(|p| p.fields.company_id.map(|c| c.0)).collect();
        let companies = load_companies(conn, &company_ids).await?;
        let mut pairs = Vec::new();
        for ((a, b), evidence) in candidates.0 {
            // A record deleted between the two reads is no longer a duplicate.
            let (Some(a), Some(b)) = (people.get(&a), people.get(&b)) else { continue };
            let mut reasons = Vec::new();
            for found in evidence {
                match found {
                    Evidence::Email(address) => reasons.push(Reason::same_email(&address)),
                    Evidence::Phone(key) => {
                        reasons.push(Reason::same_phone(phone_as_typed(a, &key), phone_as_typed(b, &key)))
                    }
                    Evidence::Name | Evidence::Domain => {}
                }
            }
            let (name_a, name_b) = (a.fields.full_name(), b.fields.full_name());
            if let Some(alike) = similarity(&normalize_name(&name_a), &normalize_name(&name_b)) {
                let same_company = a.fields.company_id.filter(|c| Some(*c) == b.fields.company_id);
                let company = same_company.and_then(|c| companies.get(&c.0)).map(|c| c.fields.name.as_str());
                reasons.push(Reason::similar_person_name(&name_a, &name_b, alike, company));
            }
            if reasons.is_empty() {
                continue;
            }
            reasons.sort_by_key(|r| std::cmp::Reverse(r.score));
            pairs.push(DuplicatePair {
                a: person_record(a, &companies),
                b: person_record(b, &companies),
                score: combined_score(&reasons),
                reasons,
            });
        }
        Ok(pairs)
    }

    async fn company_pairs(&self) -> Result<Vec<DuplicatePair>> {
        let conn = self.conn();
        let mut candidates = Candidates::default();
        let domains =
            format!("SELECT {} AS k, id FROM companies WHERE domain IS NOT NULL", domain_label_sql(self.backend()));
        candidates.add_blocks(conn, block_sql(&domains, MAX_CONTACT_BLOCK), |_| Evidence::Domain).await?;
        let names = "SELECT SUBSTR(sort_name, 1, 4) AS k, id FROM companies";
        candidates.add_blocks(conn, block_sql(names, MAX_NAME_BLOCK), |_| Evidence::Name).await?;

        let companies = load_companies(conn, &candidates.ids()).await?;
        let mut pairs = Vec::new();
        for ((a, b), evidence) in candidates.0 {
            let (Some(a), Some(b)) = (companies.get(&a), companies.get(&b)) else { continue };
            let mut reasons = Vec::new();
            if evidence.iter().any(|e| matches!(e, Evidence::Domain))
                && let (Some(da), Some(db)) = (&a.fields.domain, &b.fields.domain)
                && domain_name(da.as_str()) == domain_name(db.as_str())
            {
                reasons.push(Reason::same_domain(da.as_str(), db.as_str()));
            }
            let (name_a, name_b) = (a.fields.name.as_str(), b.fields.name.as_str());
            if let Some(alike) = similarity(&company_name_key(name_a), &company_name_key(name_b)) {
                reasons.push(Reason::similar_company_name(name_a, name_b, alike));
            }
            if reasons.is_empty() {
                continue;
            }
            reasons.sort_by_key(|r| std::cmp::Reverse(r.score));
            pairs.push(DuplicatePair {
                a: company_record(a),
                b: company_record(b),
                score: combined_score(&reasons),
                reasons,
            });
        }
        Ok(pairs)
    }

    /// Remembers that two records are not one, so the pair is listed no more.
    pub async fn dismiss_duplicate(&self, actor: &Actor, kind: DuplicateKind, a: Uuid, b: Uuid) -> Result<()> {
        actor.ensure_can_create()?;
        if a == b {
            return Err(FieldErrors::single("b", "is the same record as a").into());
        }
        let w = self.begin_write().await?;
        for (id, field) in [(a, "a"), (b, "b")] {
            let exists = match kind {
                DuplicateKind::People => people::Entity::find_by_id(id).by_key(&*w).await?.is_some(),
                DuplicateKind::Companies => companies::Entity::find_by_id(id).by_key(&*w).await?.is_some(),
            };
            if !exists {
                let what = if kind == DuplicateKind::People { "person" } else { "company" };
                return Err(FieldErrors::single(field, format!("no such {what}")).into());
            }
        }
        // Dismissing a pair twice is no error.
        duplicate_dismissals::Entity::insert(duplicate_dismissals::ActiveModel {
            kind: Set(kind.as_str().to_owned()),
            first_id: Set(a.min(b)),
            second_id: Set(a.max(b)),
            dismissed_by: Set(Some(actor.user_id.0)),
            dismissed_at: Set(now()),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&*w)
        .await?;
        w.commit().await
    }
}
