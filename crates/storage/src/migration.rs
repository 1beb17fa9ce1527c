//! The one migration set, for SQLite and PostgreSQL alike. Shipped migrations
//! are never edited: add a new module and list it in `Migrator::migrations`.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_saved_views::Migration),
            Box::new(m0003_page_indexes::Migration),
            Box::new(m0004_purchase_feed::Migration),
            Box::new(m0005_customer_insights::Migration),
            Box::new(m0006_history_trash::Migration),
            Box::new(m0007_external_ids::Migration),
            Box::new(m0008_duplicates::Migration),
            Box::new(m0009_jobs::Migration),
            Box::new(m0010_tickets::Migration),
            Box::new(m0011_login_attempts::Migration),
            Box::new(m0012_mail::Migration),
            Box::new(m0013_sla_events::Migration),
            Box::new(m0014_ticket_custom_fields::Migration),
            Box::new(m0015_ticket_queue_indexes::Migration),
            Box::new(m0017_feedback::Migration),
            Box::new(m0018_style_feedback::Migration),
            Box::new(m0019_goals::Migration),
            Box::new(m0020_search_folding::Migration),
            Box::new(m0021_board_sums::Migration),
            Box::new(m0022_custom_value_text::Migration),
            Box::new(m0023_birthday_addresses::Migration),
            Box::new(m0024_insight_generations::Migration),
            Box::new(m0025_contact_due::Migration),
            Box::new(m0026_deal_totals::Migration),
            Box::new(m0027_email_lower_index::Migration),
            Box::new(m0028_search_keys::Migration),
        ]
    }
}

/// The newest migration's name: the schema an archive is written in.
pub(crate) fn latest() -> String {
    Migrator::migrations().last().map(|m| m.name().to_owned()).unwrap_or_default()
}

pub(crate) use m0025_contact_due::due_expression as contact_due_expression;

/// Whether `name` is one of this build's migrations.
pub(crate) fn known(name: &str) -> bool {
    Migrator::migrations().iter().any(|m| m.name() == name)
}

mod m0001_initial {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    #[derive(DeriveMigrationName)]
    pub struct Migration;

    /// id, created_at, updated_at, created_by and version: every record has them.
    fn record(name: &'static str) -> TableCreateStatement {
        Table::create()
            .table(name)
            .col(pk_uuid("id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(uuid_null("created_by"))
            .col(big_integer("version"))
            .to_owned()
    }

    fn fk(
        from: &'static str,
        column: &'static str,
        to: &'static str,
        on_delete: ForeignKeyAction,
    ) -> ForeignKeyCreateStatement {
        ForeignKey::create().from(from, column).to(to, "id").on_delete(on_delete).to_owned()
    }

    fn index(table: &'static str, name: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
        let mut index = Index::create();
        index.name(name).table(table);
        for column in columns {
            index.col(*column);
        }
        index.to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            use ForeignKeyAction::{Cascade, Restrict, SetNull};

            m.create_table(record("teams").col(string("name")).to_owned()).await?;
            m.create_table(
                record("users")
                    .col(string("name"))
                    .col(string_uniq("email"))
                    .col(string("role"))
                    .col(uuid_null("team_id"))
                    .col(boolean("active"))
                    .col(string_null("password_hash"))
                    .foreign_key(&mut fk("users", "team_id", "teams", SetNull))
                    .to_owned(),
            )
            .await?;
            m.create_table(
                Table::create()
                    .table("sessions")
                    .col(string("token_hash").primary_key())
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut fk("sessions", "user_id", "users", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_table(
                Table::create()
                    .table("api_tokens")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("name"))
                    .col(string_uniq("token_hash"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("api_tokens", "user_id", "users", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_table(
                record("custom_fields")
                    .col(string("entity_type"))
                    .col(string("key"))
                    .col(string("label"))
                    .col(string("kind"))
                    .col(json_binary("choices"))
                    .col(boolean("required"))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                index("custom_fields", "custom_fields_type_key", &["entity_type", "key"]).unique().to_owned(),
            )
            .await?;
            m.create_table(
                record("companies")
                    .col(string("name"))
                    .col(string_null("domain"))
                    .col(string_null("industry"))
                    .col(string_null("size"))
                    .col(uuid_null("owner_id"))
                    .col(json_binary("tags"))
                    .col(json_binary("custom_fields"))
                    .col(text("search_text"))
                    .col(string("sort_name"))
                    .foreign_key(&mut fk("companies", "owner_id", "users", SetNull))
                    .to_owned(),
            )
            .await?;
            // Domains are stored lower-cased, so a plain unique index is case-insensitive.
            m.create_index(index("companies", "companies_domain", &["domain"]).unique().to_owned()).await?;
            m.create_index(index("companies", "companies_sort_name", &["sort_name", "id"])).await?;
            m.create_table(
                record("people")
                    .col(string("first_name"))
                    .col(string_null("last_name"))
                    .col(json_binary("emails"))
                    .col(json_binary("phones"))
                    .col(string_null("job_title"))
                    .col(uuid_null("company_id"))
                    .col(uuid_null("owner_id"))
                    .col(string("lifecycle_stage"))
                    .col(string_null("source"))
                    .col(uuid_null("referred_by_id"))
                    .col(json_binary("tags"))
                    .col(json_binary("preferences"))
                    .col(integer_null("keep_in_touch_days"))
                    .col(timestamp_with_time_zone_null("last_contacted_at"))
                    .col(json_binary("custom_fields"))
                    .col(text("search_text"))
                    .col(string("sort_name"))
                    .foreign_key(&mut fk("people", "company_id", "companies", SetNull))
                    .foreign_key(&mut fk("people", "owner_id", "users", SetNull))
                    .foreign_key(&mut fk("people", "referred_by_id", "people", SetNull))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("people", "people_sort_name", &["sort_name", "id"])).await?;
            m.create_index(index("people", "people_updated_at", &["updated_at", "id"])).await?;
            m.create_index(index("people", "people_created_at", &["created_at", "id"])).await?;
            // The common filters, each with the default sort, so a filtered page
            // is read in order and stops after one page.
            m.create_index(index("people", "people_owner", &["owner_id", "sort_name", "id"])).await?;
            m.create_index(index("people", "people_company", &["company_id", "sort_name", "id"])).await?;
            m.create_index(index("people", "people_lifecycle", &["lifecycle_stage", "sort_name", "id"])).await?;
            m.create_index(index("people", "people_referred_by", &["referred_by_id"])).await?;

            // Index tables: the record row keeps the JSON a client sees; these rows
            // make filters and look-ups plain equality on any database.
            m.create_table(
                Table::create()
                    .table("contact_points")
                    .col(uuid("person_id"))
                    .col(string("kind"))
                    .col(string("value"))
                    .primary_key(Index::create().col("person_id").col("kind").col("value"))
                    .foreign_key(&mut fk("contact_points", "person_id", "people", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("contact_points", "contact_points_value", &["kind", "value"])).await?;
            m.create_table(
                Table::create()
                    .table("record_tags")
                    .col(string("entity_type"))
                    .col(uuid("entity_id"))
                    .col(string("tag"))
                    .primary_key(Index::create().col("entity_type").col("entity_id").col("tag"))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("record_tags", "record_tags_tag", &["entity_type", "tag"])).await?;
            m.create_table(
                Table::create()
                    .table("custom_field_values")
                    .col(string("entity_type"))
                    .col(uuid("entity_id"))
                    .col(string("field_key"))
                    .col(text("value_text"))
                    .primary_key(Index::create().col("entity_type").col("entity_id").col("field_key"))
                    .to_owned(),
            )
            .await?;
            m.create_index(index(
                "custom_field_values",
                "custom_field_values_value",
                &["entity_type", "field_key", "value_text"],
            ))
            .await?;

            m.create_table(record("pipelines").col(string("name")).to_owned()).await?;
            m.create_table(
                Table::create()
                    .table("stages")
                    .col(pk_uuid("id"))
                    .col(uuid("pipeline_id"))
                    .col(string("name"))
                    .col(integer("win_probability"))
                    .col(integer("position"))
                    .foreign_key(&mut fk("stages", "pipeline_id", "pipelines", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("stages", "stages_pipeline", &["pipeline_id", "position"])).await?;
            m.create_table(
                record("deals")
                    .col(string("name"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(uuid("pipeline_id"))
                    .col(uuid("stage_id"))
                    .col(uuid_null("person_id"))
                    .col(uuid_null("company_id"))
                    .col(uuid_null("owner_id"))
                    .col(date_null("expected_close"))
                    .col(string("status"))
                    .col(text_null("lost_reason"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(json_binary("tags"))
                    .col(json_binary("custom_fields"))
                    .col(text("search_text"))
                    .col(string("sort_name"))
                    .foreign_key(&mut fk("deals", "pipeline_id", "pipelines", Restrict))
                    .foreign_key(&mut fk("deals", "stage_id", "stages", Restrict))
                    .foreign_key(&mut fk("deals", "person_id", "people", SetNull))
                    .foreign_key(&mut fk("deals", "company_id", "companies", SetNull))
                    .foreign_key(&mut fk("deals", "owner_id", "users", SetNull))
                    .to_owned(),
            )
            .await?;
            for column in ["stage_id", "person_id", "company_id", "owner_id"] {
                let name: &'static str = match column {
                    "stage_id" => "deals_stage",
                    "person_id" => "deals_person",
                    "company_id" => "deals_company",
                    _ => "deals_owner",
                };
                m.create_index(index("deals", name, &[column])).await?;
            }
            m.create_table(
                record("activities")
                    .col(string("kind"))
                    .col(string("direction"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(string_null("subject"))
                    .col(text_null("body"))
                    .col(uuid_null("author_id"))
                    .col(uuid_null("person_id"))
                    .col(uuid_null("company_id"))
                    .col(uuid_null("deal_id"))
                    .foreign_key(&mut fk("activities", "author_id", "users", SetNull))
                    .foreign_key(&mut fk("activities", "person_id", "people", Cascade))
                    .foreign_key(&mut fk("activities", "company_id", "companies", Cascade))
                    .foreign_key(&mut fk("activities", "deal_id", "deals", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("activities", "activities_person", &["person_id", "occurred_at"])).await?;
            m.create_index(index("activities", "activities_company", &["company_id", "occurred_at"])).await?;
            m.create_index(index("activities", "activities_deal", &["deal_id", "occurred_at"])).await?;
            m.create_index(index("activities", "activities_occurred", &["occurred_at", "id"])).await?;
            m.create_table(
                record("tasks")
                    .col(string("title"))
                    .col(text_null("notes"))
                    .col(timestamp_with_time_zone_null("due_at"))
                    .col(uuid_null("assignee_id"))
                    .col(timestamp_with_time_zone_null("done_at"))
                    .col(uuid_null("person_id"))
                    .col(uuid_null("company_id"))
                    .col(uuid_null("deal_id"))
                    .foreign_key(&mut fk("tasks", "assignee_id", "users", SetNull))
                    .foreign_key(&mut fk("tasks", "person_id", "people", SetNull))
                    .foreign_key(&mut fk("tasks", "company_id", "companies", SetNull))
                    .foreign_key(&mut fk("tasks", "deal_id", "deals", SetNull))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("tasks", "tasks_assignee", &["assignee_id", "done_at", "due_at"])).await?;
            m.create_index(index("tasks", "tasks_person", &["person_id"])).await?;
            m.create_index(index("tasks", "tasks_company", &["company_id"])).await?;
            m.create_table(
                record("purchases")
                    .col(uuid("person_id"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(string_null("reference"))
                    .col(text_null("description"))
                    .foreign_key(&mut fk("purchases", "person_id", "people", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("purchases", "purchases_reference", &["person_id", "reference"]).unique().to_owned())
                .await?;
            m.create_index(index("purchases", "purchases_person_time", &["person_id", "occurred_at"])).await?;
            m.create_index(index("purchases", "purchases_occurred", &["occurred_at", "id"])).await?;

            // Full-text search: the same words (see rapport_domain::search) indexed by
            // each engine's own machinery.
            let db = m.get_connection();
            match m.get_database_backend() {
                DbBackend::Sqlite => {
                    for table in ["people", "companies", "deals"] {
                        for sql in [
                            format!(
                                "CREATE VIRTUAL TABLE {table}_fts USING fts5(search_text, content='{table}', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')"
                            ),
                            format!(
                                "CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN INSERT INTO {table}_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END"
                            ),
                            format!(
                                "CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN INSERT INTO {table}_fts({table}_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END"
                            ),
                            format!(
                                "CREATE TRIGGER {table}_fts_update AFTER UPDATE OF search_text ON {table} BEGIN INSERT INTO {table}_fts({table}_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); INSERT INTO {table}_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END"
                            ),
                        ] {
                            db.execute_unprepared(&sql).await?;
                        }
                    }
                }
                DbBackend::Postgres => {
                    // A stored vector: matching rows are rechecked without re-parsing their text.
                    for table in ["people", "companies", "deals"] {
                        db.execute_unprepared(&format!(
                            "ALTER TABLE {table} ADD COLUMN search_vector tsvector \
                             GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
                        ))
                        .await?;
                        db.execute_unprepared(&format!(
                            "CREATE INDEX {table}_search ON {table} USING GIN (search_vector)"
                        ))
                        .await?;
                    }
                }
                other => return Err(DbErr::Custom(format!("unsupported database backend {other:?}"))),
            }
            Ok(())
        }

        async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
            Err(DbErr::Migration("the initial schema cannot be rolled back".into()))
        }
    }
}

mod m0002_saved_views {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    // DeriveMigrationName names a migration after its file, and m0001 was
    // recorded as "migration": later ones name themselves.
    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0002_saved_views"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table("saved_views")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("list"))
                    .col(string("name"))
                    .col(string("query"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("saved_views", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("saved_views_per_user")
                    .table("saved_views")
                    .col("user_id")
                    .col("list")
                    .col("name")
                    .unique()
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("saved_views").to_owned()).await
        }
    }
}

/// Indexes the pages' common reads need: people by last contact (the
/// "customers to call" order), the team's recent activity, deals by date and
/// the board's columns.
mod m0003_page_indexes {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0003_page_indexes"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let db = m.get_connection();
            // The same expression as the people list's `last_contacted_at` sort key
            // (`storage::records::people::last_contact_key`), so the planner uses it.
            let last_contact = match m.get_database_backend() {
                DbBackend::Postgres => "(COALESCE(last_contacted_at, TIMESTAMPTZ '1970-01-01 00:00:00+00'))",
                _ => "COALESCE(last_contacted_at, '1970-01-01T00:00:00Z')",
            };
            for sql in [
                format!("CREATE INDEX people_last_contacted ON people ({last_contact}, id)"),
                "CREATE INDEX activities_author ON activities (author_id, occurred_at)".to_owned(),
                "CREATE INDEX deals_created_at ON deals (created_at, id)".to_owned(),
                "CREATE INDEX deals_updated_at ON deals (updated_at, id)".to_owned(),
                "CREATE INDEX deals_stage_status ON deals (stage_id, status, updated_at, id)".to_owned(),
                "CREATE INDEX deals_pipeline_status ON deals (pipeline_id, status, updated_at, id)".to_owned(),
            ] {
                db.execute_unprepared(&sql).await?;
            }
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let db = m.get_connection();
            for index in [
                "people_last_contacted",
                "activities_author",
                "deals_created_at",
                "deals_updated_at",
                "deals_stage_status",
                "deals_pipeline_status",
            ] {
                db.execute_unprepared(&format!("DROP INDEX {index}")).await?;
            }
            Ok(())
        }
    }
}

/// The insights read every purchase in (person, time, id) order, in batches:
/// this index serves that order and the seek to each next batch.
mod m0004_purchase_feed {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0004_purchase_feed"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_index(
                Index::create()
                    .name("purchases_feed")
                    .table("purchases")
                    .col("person_id")
                    .col("occurred_at")
                    .col("id")
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_index(Index::drop().name("purchases_feed").table("purchases").to_owned()).await
        }
    }
}

mod m0005_customer_insights {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0005_customer_insights"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // What the insights job last computed per customer: read by the
            // customer page and by the segment list filter.
            m.create_table(
                Table::create()
                    .table("customer_insights")
                    .col(pk_uuid("person_id"))
                    .col(string_len("currency", 3))
                    .col(string_len("segment", 32))
                    .col(small_integer("r_score"))
                    .col(small_integer("f_score"))
                    .col(small_integer("m_score"))
                    .col(date("last_purchase"))
                    .col(big_integer("recency_days"))
                    .col(big_integer("frequency"))
                    .col(big_integer("monetary_minor"))
                    .col(double_null("probability_alive"))
                    .col(double_null("expected_purchases"))
                    .col(big_integer_null("expected_value_minor"))
                    .col(timestamp_with_time_zone("computed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("customer_insights", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("customer_insights_segment")
                    .table("customer_insights")
                    .col("segment")
                    .col("person_id")
                    .to_owned(),
            )
            .await?;
            // One row: a counter every write to purchases (or to the people
            // fields insights read) moves on, so the job knows when to recompute.
            m.create_table(
                Table::create()
                    .table("insights_state")
                    .col(integer("id").primary_key())
                    .col(big_integer("data_version"))
                    .to_owned(),
            )
            .await?;
            m.exec_stmt(
                Query::insert()
                    .into_table("insights_state")
                    .columns(["id", "data_version"])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;
            // The feed reads purchases of one currency grouped by customer;
            // holding the amount too, the index answers it without the table.
            m.drop_index(Index::drop().name("purchases_feed").table("purchases").to_owned()).await?;
            m.create_index(
                Index::create()
                    .name("purchases_insights")
                    .table("purchases")
                    .col("currency")
                    .col("person_id")
                    .col("occurred_at")
                    .col("amount_minor")
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_index(Index::drop().name("purchases_insights").table("purchases").to_owned()).await?;
            m.create_index(
                Index::create()
                    .name("purchases_feed")
                    .table("purchases")
                    .col("person_id")
                    .col("occurred_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
            m.drop_table(Table::drop().table("insights_state").to_owned()).await?;
            m.drop_table(Table::drop().table("customer_insights").to_owned()).await
        }
    }
}

mod m0006_history_trash {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0006_history_trash"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Every create, update, delete, restore and merge, written in the
            // same transaction as the change. No foreign keys: history outlives
            // the record and the user who made the change.
            m.create_table(
                Table::create()
                    .table("record_history")
                    .col(pk_uuid("id"))
                    .col(string_len("record_type", 16))
                    .col(uuid("record_id"))
                    .col(string_len("action", 16))
                    .col(uuid_null("actor_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(json("changes"))
                    .col(uuid_null("related_id"))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("record_history_record")
                    .table("record_history")
                    .col("record_id")
                    .col("at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
            // A deleted record and every row deleted with it, as one JSON
            // snapshot: live tables hold live records only, so no query has to
            // remember to leave deleted ones out, and a restore puts the rows back.
            m.create_table(
                Table::create()
                    .table("trash")
                    .col(pk_uuid("id"))
                    .col(string_len("record_type", 16))
                    .col(uuid("record_id"))
                    .col(string("label"))
                    .col(string_len("reason", 16))
                    .col(uuid_null("merged_into"))
                    .col(uuid_null("deleted_by"))
                    .col(timestamp_with_time_zone("deleted_at"))
                    .col(big_integer("attached"))
                    .col(json("snapshot"))
                    .col(json_null("detail"))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create().name("trash_deleted_at").table("trash").col("deleted_at").col("id").to_owned(),
            )
            .await?;
            m.create_index(Index::create().name("trash_record").table("trash").col("record_id").to_owned()).await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("trash").to_owned()).await?;
            m.drop_table(Table::drop().table("record_history").to_owned()).await
        }
    }
}

mod m0007_external_ids {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0007_external_ids"
        }
    }

    /// Records that came from another system keep its id, so importing
    /// them again finds them instead of adding them twice.
    const TABLES: [&str; 4] = ["people", "companies", "deals", "activities"];

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for table in TABLES {
                m.alter_table(
                    Table::alter().table(table).add_column(ColumnDef::new("external_id").string().null()).to_owned(),
                )
                .await?;
                // Unique where present: both databases let many rows be null.
                m.create_index(
                    Index::create()
                        .name(format!("{table}_external_id"))
                        .table(table)
                        .col("external_id")
                        .unique()
                        .to_owned(),
                )
                .await?;
            }
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for table in TABLES {
                m.drop_index(Index::drop().name(format!("{table}_external_id")).table(table).to_owned()).await?;
                m.alter_table(Table::alter().table(table).drop_column("external_id").to_owned()).await?;
            }
            Ok(())
        }
    }
}

mod m0008_duplicates {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0008_duplicates"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Pairs a user said are two records, not one: never listed again.
            // The smaller id comes first, so a pair has one row. No foreign
            // keys: the two ids are people or companies, by `kind`.
            m.create_table(
                Table::create()
                    .table("duplicate_dismissals")
                    .col(string("kind"))
                    .col(uuid("first_id"))
                    .col(uuid("second_id"))
                    .col(uuid_null("dismissed_by"))
                    .col(timestamp_with_time_zone("dismissed_at"))
                    .primary_key(Index::create().col("kind").col("first_id").col("second_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("duplicate_dismissals", "dismissed_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("duplicate_dismissals").to_owned()).await
        }
    }
}

mod m0009_jobs {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0009_jobs"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Background work as rows: claimed under a lease, so a job whose
            // node died is taken over, and run once across every node.
            m.create_table(
                Table::create()
                    .table("jobs")
                    .col(pk_uuid("id"))
                    .col(string_len("kind", 64))
                    .col(string_len("status", 16))
                    .col(json("payload"))
                    .col(timestamp_with_time_zone("run_at"))
                    .col(integer("attempts"))
                    .col(integer("max_attempts"))
                    .col(text_null("last_error"))
                    .col(string_null("lease_owner"))
                    .col(timestamp_with_time_zone_null("lease_expires_at"))
                    .col(json_null("progress"))
                    .col(json_null("result"))
                    // A recurring job's period ("trash.purge@2026-12-03T05:00:00Z"):
                    // unique, so every node may schedule it and one row wins.
                    .col(string_null("unique_key"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("jobs", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_index(Index::create().name("jobs_due").table("jobs").col("status").col("run_at").to_owned())
                .await?;
            m.create_index(Index::create().name("jobs_created").table("jobs").col("created_at").col("id").to_owned())
                .await?;
            m.create_index(Index::create().name("jobs_unique_key").table("jobs").col("unique_key").unique().to_owned())
                .await?;

            // Uploaded files waiting for, or read by, a job: in the database,
            // so whichever node runs the job can read them. Stored in chunks,
            // so neither side ever holds a whole file in memory.
            m.create_table(
                Table::create()
                    .table("uploads")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("file_name"))
                    .col(string_len("purpose", 32))
                    .col(big_integer("size"))
                    .col(boolean("complete"))
                    // The job reading it, once one was started on it.
                    .col(uuid_null("job_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("uploads", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_table(
                Table::create()
                    .table("upload_chunks")
                    .col(uuid("upload_id"))
                    .col(integer("seq"))
                    .col(blob("data"))
                    .primary_key(Index::create().col("upload_id").col("seq"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("upload_chunks", "upload_id")
                            .to("uploads", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

            // The latest insights, computed by whichever node ran the job and
            // read by every node. One row.
            m.create_table(
                Table::create()
                    .table("insights_snapshots")
                    .col(string_len("id", 16).primary_key())
                    .col(big_integer("version"))
                    .col(string_len("as_of", 10))
                    .col(timestamp_with_time_zone("computed_at"))
                    .col(text_null("body"))
                    .col(text_null("error"))
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("insights_snapshots").to_owned()).await?;
            m.drop_table(Table::drop().table("upload_chunks").to_owned()).await?;
            m.drop_table(Table::drop().table("uploads").to_owned()).await?;
            m.drop_table(Table::drop().table("jobs").to_owned()).await
        }
    }
}

mod m0010_tickets {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0010_tickets"
        }
    }

    fn fk(
        from: &'static str,
        column: &'static str,
        to: &'static str,
        on_delete: ForeignKeyAction,
    ) -> ForeignKeyCreateStatement {
        ForeignKey::create().from(from, column).to(to, "id").on_delete(on_delete).to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            use ForeignKeyAction::{Cascade, Restrict, SetNull};
            let record = |name: &'static str| {
                Table::create()
                    .table(name)
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(uuid_null("created_by"))
                    .col(big_integer("version"))
                    .to_owned()
            };
            // Business hours: the time zone, periods and holidays as one JSON value.
            m.create_table(record("business_calendars").col(string("name")).col(json("hours")).to_owned()).await?;
            m.create_table(
                record("sla_policies")
                    .col(string("name"))
                    .col(integer("position"))
                    .col(json("condition"))
                    .col(integer_null("first_response_minutes"))
                    .col(integer_null("next_response_minutes"))
                    .col(integer_null("resolution_minutes"))
                    .col(uuid_null("calendar_id"))
                    .col(boolean("active"))
                    .foreign_key(&mut fk("sla_policies", "calendar_id", "business_calendars", Restrict))
                    .to_owned(),
            )
            .await?;
            m.create_table(
                record("tickets")
                    .col(uuid("requester_id"))
                    .col(uuid_null("company_id"))
                    .col(string("subject"))
                    .col(string_len("channel", 16))
                    .col(string_len("status", 16))
                    .col(string_len("priority", 16))
                    .col(uuid_null("assignee_id"))
                    .col(uuid_null("team_id"))
                    .col(json_binary("tags"))
                    .col(string_null("external_id"))
                    .col(uuid_null("sla_policy_id"))
                    .col(timestamp_with_time_zone_null("first_response_due"))
                    .col(timestamp_with_time_zone_null("next_response_due"))
                    .col(timestamp_with_time_zone_null("resolution_due"))
                    .col(timestamp_with_time_zone_null("first_responded_at"))
                    .col(timestamp_with_time_zone_null("awaiting_reply_since"))
                    .col(timestamp_with_time_zone_null("pending_since"))
                    .col(big_integer("pending_seconds"))
                    .col(timestamp_with_time_zone_null("solved_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(big_integer("message_count"))
                    // A person with tickets is not deleted from under them.
                    .foreign_key(&mut fk("tickets", "requester_id", "people", Restrict))
                    .foreign_key(&mut fk("tickets", "company_id", "companies", SetNull))
                    .foreign_key(&mut fk("tickets", "assignee_id", "users", SetNull))
                    .foreign_key(&mut fk("tickets", "team_id", "teams", SetNull))
                    .foreign_key(&mut fk("tickets", "sla_policy_id", "sla_policies", SetNull))
                    .to_owned(),
            )
            .await?;
            for (name, columns) in [
                ("tickets_queue", &["status", "assignee_id", "updated_at"][..]),
                ("tickets_team", &["team_id", "status", "updated_at"][..]),
                ("tickets_requester", &["requester_id", "updated_at"][..]),
                ("tickets_company", &["company_id", "updated_at"][..]),
                ("tickets_updated", &["updated_at", "id"][..]),
            ] {
                let mut index = Index::create();
                index.name(name).table("tickets");
                for column in columns {
                    index.col(*column);
                }
                m.create_index(index.to_owned()).await?;
            }
            m.create_index(
                Index::create().name("tickets_external_id").table("tickets").col("external_id").unique().to_owned(),
            )
            .await?;
            m.create_table(
                Table::create()
                    .table("ticket_messages")
                    .col(pk_uuid("id"))
                    .col(uuid("ticket_id"))
                    .col(string_len("kind", 16))
                    .col(uuid_null("author_id"))
                    .col(uuid_null("person_id"))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("ticket_messages", "ticket_id", "tickets", Cascade))
                    .foreign_key(&mut fk("ticket_messages", "author_id", "users", SetNull))
                    .foreign_key(&mut fk("ticket_messages", "person_id", "people", SetNull))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("ticket_messages_ticket")
                    .table("ticket_messages")
                    .col("ticket_id")
                    .col("created_at")
                    .col("id")
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for table in ["ticket_messages", "tickets", "sla_policies", "business_calendars"] {
                m.drop_table(Table::drop().table(table).to_owned()).await?;
            }
            Ok(())
        }
    }
}

mod m0011_login_attempts {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0011_login_attempts"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Failed sign-ins, one row each, per key ("account:EMAIL" or
            // "ip:ADDRESS"): in the database, so the limit holds across every
            // node. Pruned hourly by the `jobs.prune` job.
            m.create_table(
                Table::create()
                    .table("login_attempts")
                    .col(pk_uuid("id"))
                    .col(string_len("key", 400))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("login_attempts_key")
                    .table("login_attempts")
                    .col("key")
                    .col("attempted_at")
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create().name("login_attempts_at").table("login_attempts").col("attempted_at").to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("login_attempts").to_owned()).await
        }
    }
}

mod m0012_mail {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0012_mail"
        }
    }

    fn fk(
        from: &'static str,
        column: &'static str,
        to: &'static str,
        on_delete: ForeignKeyAction,
    ) -> ForeignKeyCreateStatement {
        ForeignKey::create().from(from, column).to(to, "id").on_delete(on_delete).to_owned()
    }

    fn add_column(table: &'static str, column: ColumnDef) -> TableAlterStatement {
        // One column per statement: SQLite alters one at a time.
        Table::alter().table(table).add_column(column).to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            use ForeignKeyAction::{Cascade, SetNull};
            // SMTP and IMAP settings, one JSON row each ("smtp", "imap").
            m.create_table(
                Table::create()
                    .table("mail_settings")
                    .col(string_len("name", 16).primary_key())
                    .col(json("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
            // What an email message carries beyond its text.
            m.alter_table(add_column("ticket_messages", text_null("html"))).await?;
            m.alter_table(add_column("ticket_messages", string_null("email_message_id"))).await?;
            m.alter_table(add_column("ticket_messages", string_null("from_address"))).await?;
            m.create_index(
                Index::create()
                    .name("ticket_messages_email_id")
                    .table("ticket_messages")
                    .col("email_message_id")
                    .to_owned(),
            )
            .await?;
            // The short token in reply subjects (`[#…]`): the random tail of the id.
            m.alter_table(add_column("tickets", string_len_null("mail_token", 12))).await?;
            let backfill = match m.get_database_backend() {
                DbBackend::Postgres => "UPDATE tickets SET mail_token = right(replace(id::text, '-', ''), 12)",
                _ => "UPDATE tickets SET mail_token = lower(hex(substr(id, 11, 6)))",
            };
            m.get_connection().execute_unprepared(backfill).await?;
            m.create_index(Index::create().name("tickets_mail_token").table("tickets").col("mail_token").to_owned())
                .await?;
            m.create_table(
                Table::create()
                    .table("ticket_attachments")
                    .col(pk_uuid("id"))
                    .col(uuid("ticket_id"))
                    .col(uuid("message_id"))
                    .col(string("filename"))
                    .col(string("content_type"))
                    .col(big_integer("size"))
                    .col(blob("data"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("ticket_attachments", "ticket_id", "tickets", Cascade))
                    .foreign_key(&mut fk("ticket_attachments", "message_id", "ticket_messages", Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("ticket_attachments_message")
                    .table("ticket_attachments")
                    .col("message_id")
                    .to_owned(),
            )
            .await?;
            // Every outgoing message, before and after it is sent.
            m.create_table(
                Table::create()
                    .table("outbox")
                    .col(pk_uuid("id"))
                    .col(uuid_null("ticket_id"))
                    .col(uuid_null("message_id"))
                    .col(string("to_address"))
                    .col(string("subject"))
                    .col(text("body"))
                    .col(string("email_message_id"))
                    .col(string_null("in_reply_to"))
                    .col(text_null("references"))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(text_null("server_reply"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(&mut fk("outbox", "ticket_id", "tickets", Cascade))
                    .foreign_key(&mut fk("outbox", "message_id", "ticket_messages", SetNull))
                    .to_owned(),
            )
            .await?;
            m.create_index(Index::create().name("outbox_message").table("outbox").col("message_id").to_owned()).await?;
            m.create_index(
                Index::create().name("outbox_status").table("outbox").col("status").col("created_at").to_owned(),
            )
            .await?;
            // Every message taken in, by Message-ID (or digest): none is taken twice.
            m.create_table(
                Table::create()
                    .table("mail_received")
                    .col(string_len("key", 400).primary_key())
                    .col(string_len("outcome", 16))
                    .col(uuid_null("ticket_id"))
                    .col(timestamp_with_time_zone("received_at"))
                    .foreign_key(&mut fk("mail_received", "ticket_id", "tickets", SetNull))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create().name("mail_received_at").table("mail_received").col("received_at").to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for table in ["mail_received", "outbox", "ticket_attachments", "mail_settings"] {
                m.drop_table(Table::drop().table(table).to_owned()).await?;
            }
            m.drop_index(Index::drop().name("tickets_mail_token").table("tickets").to_owned()).await?;
            m.alter_table(Table::alter().table("tickets").drop_column("mail_token").to_owned()).await?;
            m.drop_index(Index::drop().name("ticket_messages_email_id").table("ticket_messages").to_owned()).await?;
            for column in ["html", "email_message_id", "from_address"] {
                m.alter_table(Table::alter().table("ticket_messages").drop_column(column).to_owned()).await?;
            }
            Ok(())
        }
    }
}

mod m0013_sla_events {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0013_sla_events"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Warnings, breaches and outcomes of tickets' targets, with the
            // assignee, team and priority as they were: what the SLA report counts.
            m.create_table(
                Table::create()
                    .table("sla_events")
                    .col(pk_uuid("id"))
                    .col(uuid("ticket_id"))
                    .col(string_len("target", 16))
                    .col(string_len("kind", 16))
                    .col(timestamp_with_time_zone("due_at"))
                    .col(timestamp_with_time_zone("at"))
                    .col(uuid_null("assignee_id"))
                    .col(uuid_null("team_id"))
                    .col(string_len("priority", 16))
                    .foreign_key(
                        ForeignKey::create()
                            .from("sla_events", "ticket_id")
                            .to("tickets", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            // One event of a kind per target and due time: the watcher may look twice.
            m.create_index(
                Index::create()
                    .name("sla_events_once")
                    .table("sla_events")
                    .col("ticket_id")
                    .col("target")
                    .col("kind")
                    .col("due_at")
                    .unique()
                    .to_owned(),
            )
            .await?;
            m.create_index(Index::create().name("sla_events_at").table("sla_events").col("kind").col("at").to_owned())
                .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("sla_events").to_owned()).await
        }
    }
}

mod m0014_ticket_custom_fields {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0014_ticket_custom_fields"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Tickets carry custom fields as deals do: the JSON a client sees
            // here, the index rows in `custom_field_values`. Tickets already
            // stored have none.
            m.alter_table(
                Table::alter().table("tickets").add_column(json_binary("custom_fields").default("{}")).to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.alter_table(Table::alter().table("tickets").drop_column("custom_fields").to_owned()).await
        }
    }
}

mod m0015_ticket_queue_indexes {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0015_ticket_queue_indexes"
        }
    }

    /// Partial indexes over the active tickets only. A query uses one when its
    /// WHERE holds the same condition written the same way, so the queues
    /// write it as these literals (`records::tickets::ACTIVE_SQL`, `RUNNING_SQL`).
    const ACTIVE: &str = "status IN ('new', 'open', 'pending')";
    /// The tickets whose response targets are running (not paused in pending).
    const RUNNING: &str = "status IN ('new', 'open')";

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // The queue pages list newest-updated first: mine and unassigned
            // by assignee, my team's by team, a status filter by status, each
            // read in order from its index instead of sorting every match.
            let db = m.get_connection();
            db.execute_unprepared(&format!(
                "CREATE INDEX tickets_active_assignee ON tickets (assignee_id, updated_at, id) WHERE {ACTIVE}"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX tickets_active_team ON tickets (team_id, updated_at, id) WHERE {ACTIVE}"
            ))
            .await?;
            // Due soon and breached: the running tickets in order, with the
            // due columns the queue tests, so no ticket row is read until one matches.
            db.execute_unprepared(&format!(
                "CREATE INDEX tickets_running ON tickets (updated_at, id, first_responded_at, first_response_due, \
                 next_response_due, resolution_due) WHERE {RUNNING}"
            ))
            .await?;
            m.create_index(
                Index::create()
                    .name("tickets_status_updated")
                    .table("tickets")
                    .col("status")
                    .col("updated_at")
                    .col("id")
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for name in ["tickets_active_assignee", "tickets_active_team", "tickets_running", "tickets_status_updated"]
            {
                m.drop_index(Index::drop().name(name).table("tickets").to_owned()).await?;
            }
            Ok(())
        }
    }
}

mod m0017_feedback {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0017_feedback"
        }
    }

    fn fk(from: &'static str, column: &'static str, to: &'static str, cascade: bool) -> ForeignKeyCreateStatement {
        let action = if cascade { ForeignKeyAction::Cascade } else { ForeignKeyAction::SetNull };
        ForeignKey::create().from(from, column).to(to, "id").on_delete(action).to_owned()
    }

    fn index(name: &str, table: &str, columns: &[&'static str]) -> IndexCreateStatement {
        let mut index = Index::create().name(name).table(table.to_owned()).to_owned();
        for column in columns {
            index.col(*column);
        }
        index
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table("surveys")
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(uuid_null("created_by"))
                    .col(big_integer("version"))
                    .col(string("name"))
                    .col(json("questions"))
                    .col(text_null("intro"))
                    .col(text_null("thanks"))
                    .col(json("trigger"))
                    .col(integer_null("reminder_days"))
                    .col(integer("expiry_days"))
                    .col(boolean("active"))
                    .to_owned(),
            )
            .await?;
            // One personal link: only the token's hash is kept.
            m.create_table(
                Table::create()
                    .table("survey_sends")
                    .col(pk_uuid("id"))
                    .col(uuid("survey_id"))
                    .col(uuid("person_id"))
                    .col(uuid_null("ticket_id"))
                    .col(uuid_null("deal_id"))
                    .col(uuid_null("staff_id"))
                    .col(string_len("token_hash", 64).unique_key())
                    .col(uuid_null("outbox_id"))
                    .col(timestamp_with_time_zone("sent_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("reminded_at"))
                    .col(timestamp_with_time_zone_null("answered_at"))
                    .col(uuid_null("created_by"))
                    .foreign_key(&mut fk("survey_sends", "survey_id", "surveys", true))
                    .foreign_key(&mut fk("survey_sends", "person_id", "people", true))
                    .foreign_key(&mut fk("survey_sends", "ticket_id", "tickets", false))
                    .foreign_key(&mut fk("survey_sends", "deal_id", "deals", false))
                    .foreign_key(&mut fk("survey_sends", "staff_id", "users", false))
                    .foreign_key(&mut fk("survey_sends", "outbox_id", "outbox", false))
                    .to_owned(),
            )
            .await?;
            // The quiet period looks up a person's latest send; reminders the unanswered ones.
            m.create_index(index("survey_sends_person", "survey_sends", &["person_id", "sent_at"])).await?;
            m.create_index(index("survey_sends_waiting", "survey_sends", &["answered_at", "reminded_at", "sent_at"]))
                .await?;
            m.create_table(
                Table::create()
                    .table("survey_answers")
                    .col(pk_uuid("id"))
                    .col(uuid("survey_id"))
                    .col(uuid_null("send_id").unique_key())
                    .col(uuid("person_id"))
                    .col(uuid_null("ticket_id"))
                    .col(uuid_null("deal_id"))
                    .col(uuid_null("staff_id"))
                    .col(string_len("source", 16))
                    .col(string_len_null("score_kind", 16))
                    .col(integer_null("score"))
                    .col(json("responses"))
                    .col(text_null("comment"))
                    .col(double_null("sentiment"))
                    .col(string_len_null("sentiment_label", 16))
                    .col(json("phrases"))
                    .col(string_null("external_id").unique_key())
                    .col(uuid_null("follow_up_task_id"))
                    .col(uuid_null("recorded_by"))
                    .col(timestamp_with_time_zone("answered_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("survey_answers", "survey_id", "surveys", true))
                    .foreign_key(&mut fk("survey_answers", "send_id", "survey_sends", false))
                    .foreign_key(&mut fk("survey_answers", "person_id", "people", true))
                    .foreign_key(&mut fk("survey_answers", "ticket_id", "tickets", false))
                    .foreign_key(&mut fk("survey_answers", "deal_id", "deals", false))
                    .foreign_key(&mut fk("survey_answers", "staff_id", "users", false))
                    .foreign_key(&mut fk("survey_answers", "follow_up_task_id", "tasks", false))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("survey_answers_survey", "survey_answers", &["survey_id", "answered_at"])).await?;
            m.create_index(index("survey_answers_person", "survey_answers", &["person_id", "answered_at"])).await?;
            m.create_index(index("survey_answers_at", "survey_answers", &["answered_at"])).await?;
            // Admins' choices over the theme grouping: a phrase's theme, renamed, merged or pinned.
            m.create_table(
                Table::create()
                    .table("feedback_theme_rules")
                    .col(string("phrase").primary_key())
                    .col(string("theme"))
                    .col(boolean("pinned"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
            // "You said, we did": what the business did about a theme, by its name in lower case.
            m.create_table(
                Table::create()
                    .table("feedback_theme_notes")
                    .col(pk_uuid("id"))
                    .col(string("theme_key"))
                    .col(string("theme"))
                    .col(text("body"))
                    .col(uuid_null("author_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("feedback_theme_notes", "author_id", "users", false))
                    .to_owned(),
            )
            .await?;
            m.create_index(index("feedback_theme_notes_theme", "feedback_theme_notes", &["theme_key", "created_at"]))
                .await?;
            // Settings of the whole installation, one JSON row each ("surveys").
            m.create_table(
                Table::create()
                    .table("app_settings")
                    .col(string_len("name", 32).primary_key())
                    .col(json("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                "app_settings",
                "feedback_theme_notes",
                "feedback_theme_rules",
                "survey_answers",
                "survey_sends",
                "surveys",
            ] {
                m.drop_table(Table::drop().table(table).to_owned()).await?;
            }
            Ok(())
        }
    }
}

mod m0018_style_feedback {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0018_style_feedback"
        }
    }

    fn fk(from: &'static str, column: &'static str, to: &'static str, cascade: bool) -> ForeignKeyCreateStatement {
        let action = if cascade { ForeignKeyAction::Cascade } else { ForeignKeyAction::SetNull };
        ForeignKey::create().from(from, column).to(to, "id").on_delete(action).to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // A staff member's ratings of their own skills, by question key.
            m.create_table(
                Table::create()
                    .table("style_self_assessments")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(json("scores"))
                    .col(text_null("comment"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("style_self_assessments", "user_id", "users", true))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("style_self_assessments_user")
                    .table("style_self_assessments")
                    .col("user_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
            // A round keeps its colleagues' answers only as a tally (counts
            // and sorted comments): no row per answer, so none to tie to anyone.
            m.create_table(
                Table::create()
                    .table("style_feedback_rounds")
                    .col(pk_uuid("id"))
                    .col(uuid("subject_id"))
                    .col(uuid_null("requested_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("closes_at"))
                    .col(json("questions"))
                    .col(text_null("note"))
                    .col(integer("asked"))
                    .col(json("tally"))
                    .foreign_key(&mut fk("style_feedback_rounds", "subject_id", "users", true))
                    .foreign_key(&mut fk("style_feedback_rounds", "requested_by", "users", false))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("style_feedback_rounds_subject")
                    .table("style_feedback_rounds")
                    .col("subject_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
            // Who was asked, and whether their one answer is used up: no time
            // of use and no answer id, by design.
            m.create_table(
                Table::create()
                    .table("style_feedback_requests")
                    .col(pk_uuid("id"))
                    .col(uuid("round_id"))
                    .col(uuid("colleague_id"))
                    .col(boolean("used"))
                    .foreign_key(&mut fk("style_feedback_requests", "round_id", "style_feedback_rounds", true))
                    .foreign_key(&mut fk("style_feedback_requests", "colleague_id", "users", true))
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("style_feedback_requests_once")
                    .table("style_feedback_requests")
                    .col("round_id")
                    .col("colleague_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("style_feedback_requests_colleague")
                    .table("style_feedback_requests")
                    .col("colleague_id")
                    .col("used")
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for table in ["style_feedback_requests", "style_feedback_rounds", "style_self_assessments"] {
                m.drop_table(Table::drop().table(table).to_owned()).await?;
            }
            Ok(())
        }
    }
}

mod m0019_goals {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0019_goals"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // A target on a scorecard figure for the business (no team, no
            // user), a team, or one staff member.
            m.create_table(
                Table::create()
                    .table("goals")
                    .col(pk_uuid("id"))
                    .col(string_len("scope", 16))
                    .col(uuid_null("team_id"))
                    .col(uuid_null("user_id"))
                    .col(string_len("figure", 32))
                    .col(string_len("comparison", 16))
                    .col(double("target"))
                    .col(date("due_on"))
                    .col(text_null("note"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("goals", "team_id")
                            .to("teams", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("goals", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("goals", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.drop_table(Table::drop().table("goals").to_owned()).await
        }
    }
}

mod m0020_search_folding {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0020_search_folding"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        /// Search documents now fold accents ("Zoë" found by `zoe`), keep
        /// joined names whole ("O'Brien" by `obrien`) and start with the
        /// ranking key: every stored document is made again. (The full-text
        /// indexes follow: a trigger on SQLite, a generated column on PostgreSQL.)
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            crate::records::search_index::rewrite_all(m.get_connection())
                .await
                .map_err(|err| DbErr::Migration(format!("rewriting the search documents: {err}")))
        }

        async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
            // The older documents still find what they found before.
            Ok(())
        }
    }
}

/// A board column's header counts and sums its deals per stage and currency
/// (`Store::deal_sums`): this index holds every column that reads, in the
/// order it groups by, so the sums never visit the deals themselves (10,000
/// open deals: one index range instead of 10,000 row lookups).
mod m0021_board_sums {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0021_board_sums"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection()
                .execute_unprepared(
                    "CREATE INDEX deals_board_sums ON deals (pipeline_id, status, stage_id, currency, amount_minor)",
                )
                .await?;
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection().execute_unprepared("DROP INDEX deals_board_sums").await?;
            Ok(())
        }
    }
}

/// Filter-builder text tests on custom fields compare `lower(value_text)`
/// (`conditions.rs`): this index finds a field's matching values by it, with
/// the record's id, so a list's count reads only those (issue 16).
mod m0022_custom_value_text {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0022_custom_value_text"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection()
                .execute_unprepared(
                    "CREATE INDEX custom_field_values_lower ON custom_field_values \
                     (entity_type, field_key, lower(value_text), entity_id)",
                )
                .await?;
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection().execute_unprepared("DROP INDEX custom_field_values_lower").await?;
            Ok(())
        }
    }
}

/// People get a birthday and postal addresses. Both columns are nullable, so
/// the people stored before have neither and nothing is rewritten: a null
/// `addresses` reads as none (and is what a person without one gets).
mod m0023_birthday_addresses {
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0023_birthday_addresses"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // One column per statement: SQLite alters a table one column at a time.
            m.alter_table(
                Table::alter().table("people").add_column(ColumnDef::new("birthday").string().null()).to_owned(),
            )
            .await?;
            m.alter_table(
                Table::alter().table("people").add_column(ColumnDef::new("addresses").json_binary().null()).to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.alter_table(Table::alter().table("people").drop_column("addresses").to_owned()).await?;
            m.alter_table(Table::alter().table("people").drop_column("birthday").to_owned()).await
        }
    }
}

/// Customer insights by generation (issue 14): the job writes a run's rows
/// under a new generation in short transactions, then makes it current in
/// one small one, so it never holds SQLite's one writer for a whole run.
/// Readers see only `insights_state.current_generation`; the rows stored so
/// far become generation 1.
mod m0024_insight_generations {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0024_insight_generations"
        }
    }

    /// The columns both tables share, in order.
    const COLUMNS: &str = "person_id, currency, segment, r_score, f_score, m_score, last_purchase, recency_days, \
                           frequency, monetary_minor, probability_alive, expected_purchases, expected_value_minor, \
                           computed_at";

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // The person first in the key: deleting a person (the cascade)
            // and reading one customer's insights find their rows by it.
            m.create_table(
                Table::create()
                    .table("customer_insight_rows")
                    .col(uuid("person_id"))
                    .col(big_integer("generation"))
                    .col(string_len("currency", 3))
                    .col(string_len("segment", 32))
                    .col(small_integer("r_score"))
                    .col(small_integer("f_score"))
                    .col(small_integer("m_score"))
                    .col(date("last_purchase"))
                    .col(big_integer("recency_days"))
                    .col(big_integer("frequency"))
                    .col(big_integer("monetary_minor"))
                    .col(double_null("probability_alive"))
                    .col(double_null("expected_purchases"))
                    .col(big_integer_null("expected_value_minor"))
                    .col(timestamp_with_time_zone("computed_at"))
                    .primary_key(Index::create().col("person_id").col("generation"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("customer_insight_rows", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            // A segment's members in one generation (the list filter), and a
            // generation's rows in order (the cohort filters, the clean-up).
            m.create_index(
                Index::create()
                    .name("customer_insight_rows_segment")
                    .table("customer_insight_rows")
                    .col("generation")
                    .col("segment")
                    .col("person_id")
                    .to_owned(),
            )
            .await?;
            let db = m.get_connection();
            db.execute_unprepared(&format!(
                "INSERT INTO customer_insight_rows (generation, {COLUMNS}) SELECT 1, {COLUMNS} FROM customer_insights"
            ))
            .await?;
            m.drop_table(Table::drop().table("customer_insights").to_owned()).await?;
            // The generation readers see, and the last one a run was given
            // (runs that never became current may be above the current one).
            m.alter_table(
                Table::alter()
                    .table("insights_state")
                    .add_column(big_integer("current_generation").default(1))
                    .to_owned(),
            )
            .await?;
            m.alter_table(
                Table::alter().table("insights_state").add_column(big_integer("last_generation").default(1)).to_owned(),
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table("customer_insights")
                    .col(pk_uuid("person_id"))
                    .col(string_len("currency", 3))
                    .col(string_len("segment", 32))
                    .col(small_integer("r_score"))
                    .col(small_integer("f_score"))
                    .col(small_integer("m_score"))
                    .col(date("last_purchase"))
                    .col(big_integer("recency_days"))
                    .col(big_integer("frequency"))
                    .col(big_integer("monetary_minor"))
                    .col(double_null("probability_alive"))
                    .col(double_null("expected_purchases"))
                    .col(big_integer_null("expected_value_minor"))
                    .col(timestamp_with_time_zone("computed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("customer_insights", "person_id")
                            .to("people", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name("customer_insights_segment")
                    .table("customer_insights")
                    .col("segment")
                    .col("person_id")
                    .to_owned(),
            )
            .await?;
            m.get_connection()
                .execute_unprepared(&format!(
                    "INSERT INTO customer_insights ({COLUMNS}) SELECT {COLUMNS} FROM customer_insight_rows \
                     WHERE generation = (SELECT current_generation FROM insights_state WHERE id = 1)"
                ))
                .await?;
            m.drop_table(Table::drop().table("customer_insight_rows").to_owned()).await?;
            m.alter_table(Table::alter().table("insights_state").drop_column("last_generation").to_owned()).await?;
            m.alter_table(Table::alter().table("insights_state").drop_column("current_generation").to_owned()).await
        }
    }
}

/// The people each owner is due to contact, soonest first (the home page's
/// and the task page's "keep in touch" list), read from an index in that
/// order: without it, every person of the owner with a cadence was read and
/// sorted: 5,015 for one demo sales agent at 100,000 people, about 50,000
/// at a million. `Store::contact_due` sorts by
/// the same expression, so the planner uses the index.
mod m0025_contact_due {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    /// When a person is due a contact: their last contact (or, never
    /// contacted, their creation) plus their cadence in days. `table` is
    /// what qualifies the columns: empty in the index, `people.` in queries.
    /// On PostgreSQL a UTC timestamp, since an index takes only immutable
    /// expressions and adding an interval to a `timestamptz` is not one.
    pub(crate) fn due_expression(backend: DbBackend, table: &str) -> String {
        match backend {
            DbBackend::Postgres => format!(
                "((COALESCE({table}last_contacted_at, {table}created_at) AT TIME ZONE 'UTC') + {table}keep_in_touch_days * INTERVAL '1 day')"
            ),
            _ => format!(
                "(julianday(COALESCE({table}last_contacted_at, {table}created_at)) + {table}keep_in_touch_days)"
            ),
        }
    }

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0025_contact_due"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let due = due_expression(m.get_database_backend(), "");
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX people_contact_due ON people (owner_id, {due}) WHERE keep_in_touch_days IS NOT NULL"
                ))
                .await?;
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection().execute_unprepared("DROP INDEX people_contact_due").await?;
            Ok(())
        }
    }
}

/// The count and sum of the deals in each (pipeline, status, stage,
/// currency), kept by triggers on `deals`, so that the home page's
/// pipelines and a board's column headers read a few rows instead of every
/// open deal (22,000 at 100,000 people, 220,000 at a million, through
/// `deals_board_sums`, which goes). Triggers, rather than the store's writers, keep it,
/// so that no write path (import, merge, restore, bulk edits) can miss it.
/// A sum is kept in two parts, as `Store::column_sums` always read it: the
/// deals' `amount_minor / 10^9` and `amount_minor % 10^9`, each of which
/// stays within a 64-bit integer however many deals there are.
mod m0026_deal_totals {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0026_deal_totals"
        }
    }

    /// Adds the deal `row` (`NEW`) to its group or takes it (`OLD`, `removed`)
    /// out; a deal taken out also drops its group when that holds no deal any
    /// more (one added never empties one, so an insert skips that look-up).
    fn apply(row: &str, removed: bool) -> String {
        let sign = if removed { "-1" } else { "1" };
        let add = format!(
            "INSERT INTO deal_totals (pipeline_id, status, stage_id, currency, deal_count, amount_high, amount_low) \
             VALUES ({row}.pipeline_id, {row}.status, {row}.stage_id, {row}.currency, {sign}, \
                     {sign} * ({row}.amount_minor / 1000000000), {sign} * ({row}.amount_minor % 1000000000)) \
             ON CONFLICT (pipeline_id, status, stage_id, currency) DO UPDATE SET \
                 deal_count = deal_totals.deal_count + excluded.deal_count, \
                 amount_high = deal_totals.amount_high + excluded.amount_high, \
                 amount_low = deal_totals.amount_low + excluded.amount_low;"
        );
        if !removed {
            return add;
        }
        format!(
            "{add} DELETE FROM deal_totals WHERE pipeline_id = {row}.pipeline_id AND status = {row}.status \
                 AND stage_id = {row}.stage_id AND currency = {row}.currency AND deal_count = 0;"
        )
    }

    /// An update changes the totals only when it moves a deal between groups
    /// or changes its amount.
    const MOVED: &str = "OLD.pipeline_id IS DISTINCT FROM NEW.pipeline_id OR OLD.status IS DISTINCT FROM NEW.status \
                         OR OLD.stage_id IS DISTINCT FROM NEW.stage_id OR OLD.currency IS DISTINCT FROM NEW.currency \
                         OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor";

    const COLUMNS: &str = "pipeline_id, status, stage_id, currency, amount_minor";

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.create_table(
                Table::create()
                    .table("deal_totals")
                    .col(uuid("pipeline_id"))
                    .col(string("status"))
                    .col(uuid("stage_id"))
                    .col(string("currency"))
                    .col(big_integer("deal_count"))
                    .col(big_integer("amount_high"))
                    .col(big_integer("amount_low"))
                    .primary_key(Index::create().col("pipeline_id").col("status").col("stage_id").col("currency"))
                    .to_owned(),
            )
            .await?;
            let db = m.get_connection();
            db.execute_unprepared(
                "INSERT INTO deal_totals (pipeline_id, status, stage_id, currency, deal_count, amount_high, amount_low) \
                 SELECT pipeline_id, status, stage_id, currency, COUNT(*), \
                        SUM(amount_minor / 1000000000), SUM(amount_minor % 1000000000) \
                 FROM deals GROUP BY pipeline_id, status, stage_id, currency",
            )
            .await?;
            // The sums' index (m0021) has no reader left; every deal write kept it.
            db.execute_unprepared("DROP INDEX deals_board_sums").await?;
            let (insert, delete) = (apply("NEW", false), apply("OLD", true));
            let statements = match m.get_database_backend() {
                // A deal moved between two groups locks both rows; taking
                // them in the groups' order keeps two moves in opposite
                // directions from deadlocking.
                DbBackend::Postgres => [
                    format!(
                        "CREATE FUNCTION deal_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                           IF TG_OP = 'INSERT' THEN {insert} \
                           ELSIF TG_OP = 'DELETE' THEN {delete} \
                           ELSIF ROW(OLD.pipeline_id, OLD.status, OLD.stage_id, OLD.currency) \
                                 <= ROW(NEW.pipeline_id, NEW.status, NEW.stage_id, NEW.currency) THEN {delete} {insert} \
                           ELSE {insert} {delete} \
                           END IF; \
                           RETURN NULL; \
                         END $$"
                    ),
                    "CREATE TRIGGER deal_totals_insert_delete AFTER INSERT OR DELETE ON deals \
                     FOR EACH ROW EXECUTE FUNCTION deal_totals_keep()"
                        .to_owned(),
                    format!(
                        "CREATE TRIGGER deal_totals_update AFTER UPDATE OF {COLUMNS} ON deals \
                         FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION deal_totals_keep()"
                    ),
                ],
                _ => [
                    format!("CREATE TRIGGER deal_totals_insert AFTER INSERT ON deals BEGIN {insert} END"),
                    format!("CREATE TRIGGER deal_totals_delete AFTER DELETE ON deals BEGIN {delete} END"),
                    format!(
                        "CREATE TRIGGER deal_totals_update AFTER UPDATE OF {COLUMNS} ON deals \
                         WHEN {MOVED} BEGIN {delete} {insert} END"
                    ),
                ],
            };
            for statement in statements {
                db.execute_unprepared(&statement).await?;
            }
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let db = m.get_connection();
            match m.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared("DROP TRIGGER deal_totals_insert_delete ON deals").await?;
                    db.execute_unprepared("DROP TRIGGER deal_totals_update ON deals").await?;
                    db.execute_unprepared("DROP FUNCTION deal_totals_keep()").await?;
                }
                _ => {
                    for trigger in ["deal_totals_insert", "deal_totals_delete", "deal_totals_update"] {
                        db.execute_unprepared(&format!("DROP TRIGGER {trigger}")).await?;
                    }
                }
            }
            db.execute_unprepared(
                "CREATE INDEX deals_board_sums ON deals (pipeline_id, status, stage_id, currency, amount_minor)",
            )
            .await?;
            m.drop_table(Table::drop().table("deal_totals").to_owned()).await
        }
    }
}

mod m0027_email_lower_index {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0027_email_lower_index"
        }
    }

    /// The email conditions test `lower(value)`: `is` finds its rows through
    /// this index, and PostgreSQL's statistics on the indexed expression tell
    /// the planner how many emails `contains` matches. Without them it guessed
    /// 13 of 125,000 and led with the emails: 0.5 s for a page of people.
    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let db = m.get_connection();
            db.execute_unprepared("CREATE INDEX contact_points_lower_value ON contact_points (kind, lower(value))")
                .await?;
            // An index alone gathers no statistics until the next automatic
            // ANALYZE, which a quiet table may not see for a long time.
            if m.get_database_backend() == DbBackend::Postgres {
                db.execute_unprepared("ANALYZE contact_points").await?;
            }
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection().execute_unprepared("DROP INDEX contact_points_lower_value").await.map(|_| ())
        }
    }
}

mod m0028_search_keys {
    use sea_orm::DbBackend;
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0028_search_keys"
        }
    }

    /// The searchable tables and the record type their keys are filed under.
    const TABLES: [(&str, &str); 3] = [("people", "person"), ("companies", "company"), ("deals", "deal")];

    /// The key parts of `row`'s search document as a table `parts` of
    /// `value`s: the head of the document, "|rosa larsen|larsen rosa|rosa
    /// larsen example com| rosa …", split at its bars (see
    /// `rapport_domain::search::document`; a part holds only letters, digits
    /// and spaces, so it needs no quoting as a JSON string).
    fn parts(backend: DbBackend, row: &str) -> String {
        let doc = format!("{row}.search_text");
        match backend {
            DbBackend::Postgres => format!(
                "unnest(string_to_array(substr({doc}, 2, greatest(strpos({doc}, '| ') - 2, 0)), '|')) AS parts(value)"
            ),
            _ => format!(
                "json_each('[\"' || replace(substr({doc}, 2, max(instr({doc}, '| ') - 2, 0)), '|', '\",\"') || '\"]') \
                 AS parts"
            ),
        }
    }

    /// Files `row`'s key parts under `entity`; `table` when `row` names its rows.
    fn add(backend: DbBackend, table: Option<&str>, row: &str, entity: &str) -> String {
        let source = table.map(|t| format!("{t} AS {row}, ")).unwrap_or_default();
        let ignore = if backend == DbBackend::Postgres { "" } else { " OR IGNORE" };
        let conflict = if backend == DbBackend::Postgres { " ON CONFLICT DO NOTHING" } else { "" };
        format!(
            "INSERT{ignore} INTO search_keys (entity_type, record_id, key_part, sort_name) \
             SELECT {entity}, {row}.id, parts.value, {row}.sort_name FROM {source}{} \
             WHERE parts.value <> ''{conflict};",
            parts(backend, row)
        )
    }

    /// Takes `OLD`'s keys out: those its document and sort name made.
    fn remove(backend: DbBackend, entity: &str) -> String {
        format!(
            "DELETE FROM search_keys WHERE entity_type = {entity} AND sort_name = OLD.sort_name \
             AND record_id = OLD.id AND key_part IN (SELECT parts.value FROM {});",
            parts(backend, "OLD")
        )
    }

    /// An update refiles a record's keys only when its document or sort name changed.
    const CHANGED: &str =
        "OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.sort_name IS DISTINCT FROM NEW.sort_name";

    /// `search_keys` holds each searchable record's key parts (names and
    /// emails, folded as a query is) with its sort name, so that a search's
    /// exact and prefix matches are read in name order from one index,
    /// instead of reading every matching record to rank it. Triggers keep it,
    /// so every writer (import, restore, merge, `rapport demo`) does.
    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let backend = m.get_database_backend();
            // Byte order on PostgreSQL, as SQLite compares: a prefix is then
            // exactly the range from the phrase to the phrase and U+10FFFF.
            let byte_order = if backend == DbBackend::Postgres { "COLLATE \"C\"" } else { "" };
            // The key is the ranking order, and the one index: a search reads
            // a range of parts, and a write adds or removes whole keys.
            // Without a rowid, SQLite keeps only that one B-tree.
            let mut table = Table::create();
            table
                .table("search_keys")
                .col(string("entity_type"))
                .col(ColumnDef::new("key_part").text().not_null().extra(byte_order))
                .col(text("sort_name"))
                .col(uuid("record_id"))
                .primary_key(Index::create().col("entity_type").col("key_part").col("sort_name").col("record_id"));
            if backend != DbBackend::Postgres {
                table.extra("WITHOUT ROWID");
            }
            m.create_table(table).await?;
            let db = m.get_connection();
            for (table, entity) in TABLES {
                let quoted = format!("'{entity}'");
                db.execute_unprepared(&add(backend, Some(table), "t", &quoted)).await?;
                let statements = match backend {
                    DbBackend::Postgres => vec![
                        format!(
                            "CREATE TRIGGER {table}_search_keys AFTER INSERT OR DELETE ON {table} \
                             FOR EACH ROW EXECUTE FUNCTION search_keys_keep('{entity}')"
                        ),
                        format!(
                            "CREATE TRIGGER {table}_search_keys_update AFTER UPDATE OF search_text, sort_name \
                             ON {table} FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION search_keys_keep('{entity}')"
                        ),
                    ],
                    _ => vec![
                        format!(
                            "CREATE TRIGGER {table}_search_keys_insert AFTER INSERT ON {table} BEGIN {} END",
                            add(backend, None, "NEW", &quoted)
                        ),
                        format!(
                            "CREATE TRIGGER {table}_search_keys_delete AFTER DELETE ON {table} BEGIN {} END",
                            remove(backend, &quoted)
                        ),
                        format!(
                            "CREATE TRIGGER {table}_search_keys_update AFTER UPDATE OF search_text, sort_name \
                             ON {table} WHEN {CHANGED} BEGIN {} {} END",
                            remove(backend, &quoted),
                            add(backend, None, "NEW", &quoted)
                        ),
                    ],
                };
                if backend == DbBackend::Postgres && table == TABLES[0].0 {
                    db.execute_unprepared(&format!(
                        "CREATE FUNCTION search_keys_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                           IF TG_OP <> 'INSERT' THEN {} END IF; \
                           IF TG_OP <> 'DELETE' THEN {} END IF; \
                           RETURN NULL; \
                         END $$",
                        remove(backend, "TG_ARGV[0]"),
                        add(backend, None, "NEW", "TG_ARGV[0]")
                    ))
                    .await?;
                }
                for statement in statements {
                    db.execute_unprepared(&statement).await?;
                }
            }
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let db = m.get_connection();
            for (table, _) in TABLES {
                let triggers: &[&str] = match m.get_database_backend() {
                    DbBackend::Postgres => &["search_keys", "search_keys_update"],
                    _ => &["search_keys_insert", "search_keys_delete", "search_keys_update"],
                };
                for trigger in triggers {
                    let on = if m.get_database_backend() == DbBackend::Postgres {
                        format!(" ON {table}")
                    } else {
                        String::new()
                    };
                    db.execute_unprepared(&format!("DROP TRIGGER {table}_{trigger}{on}")).await?;
                }
            }
            if m.get_database_backend() == DbBackend::Postgres {
                db.execute_unprepared("DROP FUNCTION search_keys_keep()").await?;
            }
            m.drop_table(Table::drop().table("search_keys").to_owned()).await
        }
    }
}
