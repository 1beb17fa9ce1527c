//! Sales pipelines and their ordered stages. Admins only.

use rapport_domain::records::{Pipeline, PipelineInput, Stage, StageInput, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, FieldErrors, PipelineId, StageId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query};
use sea_orm::{ActiveModelTrait, ConnectionTrait, FromQueryResult, QueryOrder, Set};

use crate::common::*;
use crate::entities::{deals, pipelines, stages};
use crate::{Result, StorageError, Store};

async fn load<C: ConnectionTrait>(conn: &C, row: pipelines::Model) -> Result<Pipeline> {
    let stage_rows = stages::Entity::find()
        .filter(stages::Column::PipelineId.eq(row.id))
        .order_by_asc(stages::Column::Position)
        .all(conn)
        .await?;
    let stages = stage_rows.into_iter().map(stage_from).collect::<Result<_>>()?;
    pipeline_from(row, stages)
}

fn pipeline_from(row: pipelines::Model, stages: Vec<Stage>) -> Result<Pipeline> {
    Ok(Pipeline {
        id: PipelineId(row.id),
        name: parse(row.name, "pipeline name")?,
        stages,
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

fn stage_from(s: stages::Model) -> Result<Stage> {
    Ok(Stage {
        id: StageId(s.id),
        name: parse(s.name, "stage name")?,
        win_probability: s.win_probability,
        position: s.position,
    })
}

/// Makes the stored stages match the input: kept ids are updated in place,
/// new stages inserted, missing ones removed (refused while deals sit on them).
/// Stages most small sales teams start with; admins change them in Settings.
pub fn starter_pipeline() -> PipelineInput {
    let stage = |name: &str, win_probability| StageInput {
        id: None,
        name: Name::try_from(name).expect("stage names are valid"),
        win_probability,
    };
    PipelineInput {
        name: Name::try_from("Sales").expect("a valid name"),
        stages: vec![stage("Lead", 10), stage("Qualified", 30), stage("Proposal", 60), stage("Negotiation", 80)],
    }
}

/// Inserts a pipeline and its stages inside the caller's transaction.
pub(crate) async fn insert_pipeline<C: ConnectionTrait>(
    conn: &C,
    created_by: UserId,
    input: PipelineInput,
) -> Result<Pipeline> {
    input.check()?;
    if input.stages.iter().any(|s| s.id.is_some()) {
        return Err(FieldErrors::single("stages", "no such stage: a new pipeline's stages have no ids yet").into());
    }
    let now = now();
    let row = pipelines::ActiveModel {
        id: Set(PipelineId::new().0),
        name: Set(input.name.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(Some(created_by.0)),
        version: Set(1),
    }
    .insert(conn)
    .await?;
    write_stages(conn, row.id, &input).await?;
    load(conn, row).await
}

async fn write_stages<C: ConnectionTrait>(conn: &C, pipeline: Uuid, input: &PipelineInput) -> Result<()> {
    let existing: Vec<Uuid> = stages::Entity::find()
        .filter(stages::Column::PipelineId.eq(pipeline))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    for (i, stage) in input.stages.iter().enumerate() {
        if let Some(id) = stage.id
            && !existing.contains(&id.0)
        {
            return Err(FieldErrors::single(format!("stages[{i}].id"), "no such stage in this pipeline").into());
        }
    }
    let kept: Vec<Uuid> = input.stages.iter().filter_map(|s| s.id.map(|id| id.0)).collect();
    for removed in existing.iter().filter(|id| !kept.contains(id)) {
        let in_use = deals::Entity::find().filter(deals::Column::StageId.eq(*removed)).count(conn).await?;
        if in_use > 0 {
            return Err(StorageError::Conflict(format!("a removed stage still has {in_use} deals: move them first")));
        }
        stages::Entity::delete_by_id(*removed).exec(conn).await?;
    }
    for (position, stage) in input.stages.iter().enumerate() {
        let model = stages::ActiveModel {
            id: Set(stage.id.unwrap_or_default().0),
            pipeline_id: Set(pipeline),
            name: Set(stage.name.to_string()),
            win_probability: Set(stage.win_probability),
            position: Set(position as i32),
        };
        if stage.id.is_some() {
            model.update(conn).await?;
        } else {
            model.insert(conn).await?;
        }
    }
    Ok(())
}

impl Store {
    pub async fn create_pipeline(&self, actor: &Actor, input: PipelineInput) -> Result<Pipeline> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let pipeline = insert_pipeline(&*w, actor.user_id, input).await?;
        w.commit().await?;
        Ok(pipeline)
    }

    pub async fn get_pipeline(&self, id: PipelineId) -> Result<Pipeline> {
        let row =
            pipelines::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("pipeline"))?;
        load(self.conn(), row).await
    }

    /// Every pipeline with its stages, oldest first, in one read (the board
    /// reads this list on every view).
    pub async fn list_pipelines(&self) -> Result<Vec<Pipeline>> {
        let mut select = Query::select();
        select.column((pipelines::Entity, Asterisk));
        let columns = [
            stages::Column::Id,
            stages::Column::PipelineId,
            stages::Column::Name,
            stages::Column::WinProbability,
            stages::Column::Position,
        ];
        for column in columns {
            select.expr_as(Expr::col((stages::Entity, column)), Alias::new(format!("stage_{}", column.as_str())));
        }
        select
            .from(pipelines::Entity)
            .left_join(
                stages::Entity,
                Expr::col((stages::Entity, stages::Column::PipelineId))
                    .equals((pipelines::Entity, pipelines::Column::Id)),
            )
            .order_by((pipelines::Entity, pipelines::Column::CreatedAt), Order::Asc)
            .order_by((pipelines::Entity, pipelines::Column::Id), Order::Asc)
            .order_by((stages::Entity, stages::Column::Position), Order::Asc);
        let mut out: Vec<Pipeline> = Vec::new();
        for row in self.conn().query_all(&select).await? {
            let pipeline = pipelines::Model::from_query_result(&row, "")?;
            if out.last().is_none_or(|last| last.id.0 != pipeline.id) {
                out.push(pipeline_from(pipeline, Vec::new())?);
            }
            // A pipeline without stages has one row, of NULL stage columns.
            if let (Some(last), Some(_)) = (out.last_mut(), row.try_get::<Option<Uuid>>("stage_", "id")?) {
                last.stages.push(stage_from(stages::Model::from_query_result(&row, "stage_")?)?);
            }
        }
        Ok(out)
    }

    pub async fn update_pipeline(
        &self,
        actor: &Actor,
        id: PipelineId,
        input: PipelineInput,
        expected_version: Option<i64>,
    ) -> Result<Pipeline> {
        actor.ensure_admin()?;
        input.check()?;
        let w = self.begin_write().await?;
        let row = pipelines::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("pipeline"))?;
        check_version(expected_version, row.version)?;
        let version = row.version;
        let mut active: pipelines::ActiveModel = row.into();
        active.name = Set(input.name.to_string());
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = save(&*w, active, pipelines::Column::Version, version).await?;
        write_stages(&*w, id.0, &input).await?;
        let pipeline = load(&*w, row).await?;
        w.commit().await?;
        Ok(pipeline)
    }

    pub async fn delete_pipeline(&self, actor: &Actor, id: PipelineId) -> Result<()> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        pipelines::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("pipeline"))?;
        let in_use = deals::Entity::find().filter(deals::Column::PipelineId.eq(id.0)).count(&*w).await?;
        if in_use > 0 {
            return Err(StorageError::Conflict(format!("the pipeline still has {in_use} deals")));
        }
        pipelines::Entity::delete_by_id(id.0).exec(&*w).await?;
        w.commit().await
    }
}
