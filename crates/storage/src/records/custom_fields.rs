//! Custom field definitions, per record type. Admins only.

use rapport_domain::custom_fields::{CustomFieldDefinition, CustomFieldInput, EntityType};
use rapport_domain::records::now;
use rapport_domain::{Actor, CustomFieldId, FieldErrors};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, QuerySelect, Set};

use crate::common::{ByKey, check_version, definition_from, to_json};
use crate::entities::{companies, custom_field_values, custom_fields, deals, people, tickets};
use crate::{Result, StorageError, Store};

fn definition(row: custom_fields::Model) -> Result<CustomFieldDefinition> {
    Ok(CustomFieldDefinition { id: CustomFieldId(row.id), version: row.version, field: definition_from(row)? })
}

impl Store {
    pub async fn create_custom_field(&self, actor: &Actor, input: CustomFieldInput) -> Result<CustomFieldDefinition> {
        actor.ensure_admin()?;
        input.check()?;
        let now = now();
        let w = self.begin_write().await?;
        let row = custom_fields::ActiveModel {
            id: Set(CustomFieldId::new().0),
            entity_type: Set(input.entity_type.as_str().to_owned()),
            key: Set(input.key.as_str().to_owned()),
            label: Set(input.label.to_string()),
            kind: Set(input.kind.as_str().to_owned()),
            choices: Set(to_json(&input.choices)),
            required: Set(input.required),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
        }
        .insert(&*w)
        .await
        .map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(_) => {
                StorageError::Conflict("this record type already has a field with this key".into())
            }
            other => other,
        })?;
        w.commit().await?;
        definition(row)
    }

    pub async fn get_custom_field(&self, id: CustomFieldId) -> Result<CustomFieldDefinition> {
        definition(
            custom_fields::Entity::find_by_id(id.0)
                .by_key(self.conn())
                .await?
                .ok_or(StorageError::NotFound("custom field"))?,
        )
    }

    pub async fn list_custom_fields(&self, entity: Option<EntityType>) -> Result<Vec<CustomFieldDefinition>> {
        let mut select = custom_fields::Entity::find()
            .order_by_asc(custom_fields::Column::EntityType)
            .order_by_asc(custom_fields::Column::Key);
        if let Some(entity) = entity {
            select = select.filter(custom_fields::Column::EntityType.eq(entity.as_str()));
        }
        select.all(self.conn()).await?.into_iter().map(definition).collect()
    }

    /// The key and record type of a field are fixed once created: values hang on them.
    pub async fn update_custom_field(
        &self,
        actor: &Actor,
        id: CustomFieldId,
        input: CustomFieldInput,
        expected_version: Option<i64>,
    ) -> Result<CustomFieldDefinition> {
        actor.ensure_admin()?;
        input.check()?;
        let w = self.begin_write().await?;
        let row =
            custom_fields::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("custom field"))?;
        check_version(expected_version, row.version)?;
        let current = definition_from(row.clone())?;
        let mut errors = FieldErrors::new();
        if current.key != input.key {
            errors.add("key", "the key of a custom field cannot change");
        }
        if current.entity_type != input.entity_type {
            errors.add("entity_type", "the record type of a custom field cannot change");
        }
        if current.kind != input.kind {
            errors.add("kind", "the kind of a custom field cannot change");
        }
        errors.into_result()?;
        let version = row.version;
        let mut active: custom_fields::ActiveModel = row.into();
        active.label = Set(input.label.to_string());
        active.choices = Set(to_json(&input.choices));
        active.required = Set(input.required);
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = crate::common::save(&*w, active, custom_fields::Column::Version, version).await?;
        w.commit().await?;
        definition(row)
    }

    /// Deletes a definition, and its values from every record that had one.
    pub async fn delete_custom_field(&self, actor: &Actor, id: CustomFieldId) -> Result<()> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let row =
            custom_fields::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("custom field"))?;
        let holders: Vec<Uuid> = custom_field_values::Entity::find()
            .select_only()
            .column(custom_field_values::Column::EntityId)
            .filter(custom_field_values::Column::EntityType.eq(row.entity_type.clone()))
            .filter(custom_field_values::Column::FieldKey.eq(row.key.clone()))
            .into_tuple()
            .all(&*w)
            .await?;
        match EntityType::parse(&row.entity_type) {
            Some(EntityType::Person) => {
                strip_key::<people::Entity, _>(
                    &*w,
                    people::Column::Id,
                    people::Column::CustomFields,
                    &holders,
                    &row.key,
                )
                .await?
            }
            Some(EntityType::Company) => {
                strip_key::<companies::Entity, _>(
                    &*w,
                    companies::Column::Id,
                    companies::Column::CustomFields,
                    &holders,
                    &row.key,
                )
                .await?
            }
            Some(EntityType::Deal) => {
                strip_key::<deals::Entity, _>(&*w, deals::Column::Id, deals::Column::CustomFields, &holders, &row.key)
                    .await?
            }
            Some(EntityType::Ticket) => {
                strip_key::<tickets::Entity, _>(
                    &*w,
                    tickets::Column::Id,
                    tickets::Column::CustomFields,
                    &holders,
                    &row.key,
                )
                .await?
            }
            None => return Err(StorageError::Corrupt(format!("custom field type {}", row.entity_type))),
        }
        custom_field_values::Entity::delete_many()
            .filter(custom_field_values::Column::EntityType.eq(row.entity_type.clone()))
            .filter(custom_field_values::Column::FieldKey.eq(row.key.clone()))
            .exec(&*w)
            .await?;
        custom_fields::Entity::delete_by_id(id.0).exec(&*w).await?;
        w.commit().await
    }
}

/// Removes one key from the custom-field JSON of the given records.
async fn strip_key<E: EntityTrait, C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: E::Column,
    json: E::Column,
    ids: &[Uuid],
    key: &str,
) -> Result<()> {
    for chunk in ids.chunks(500) {
        let rows: Vec<(Uuid, Json)> = E::find()
            .select_only()
            .column(id)
            .column(json)
            .filter(id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        for (record, mut values) in rows {
            if let Some(object) = values.as_object_mut() {
                object.remove(key);
            }
            E::update_many().col_expr(json, Expr::value(values)).filter(id.eq(record)).exec(conn).await?;
        }
    }
    Ok(())
}
