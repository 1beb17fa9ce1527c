//! Steering the feedback themes from the dashboard: an admin renames a
//! theme (or merges it, by giving another theme's name), pins it, or lets
//! the grouping decide again; managers and admins write "you said, we did"
//! notes on a theme. Each form returns to the dashboard it was sent from.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use rapport_domain::ThemeNoteId;
use rapport_domain::surveys::ThemeNoteInput;
use rapport_domain::text::{LongText, Name};
use rapport_text::ThemeRule;

use super::form::FormData;
use super::{Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feedback/themes", post(steer))
        .route("/feedback/themes/reset", post(reset))
        .route("/feedback/notes", post(add_note))
        .route("/feedback/notes/{id}/delete", post(delete_note))
}

/// The dashboard the form came from (its filters kept), never another site.
fn back(form: &FormData) -> String {
    let back = form.get("back");
    let own = back == "/feedback" || (back.starts_with("/feedback?") && !back.contains(['\r', '\n']));
    if own { back.to_owned() } else { "/feedback".to_owned() }
}

fn theme_key(form: &FormData) -> Result<String, WebError> {
    match form.get("key") {
        "" => Err(WebError::BadRequest("which theme: the form lost its key".into())),
        key => Ok(key.to_owned()),
    }
}

async fn steer(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let key = theme_key(&form)?;
    let name = Name::try_from(form.get("name")).map_err(|e| WebError::BadRequest(format!("Theme name {e}.")))?;
    let rule = ThemeRule { phrase: key, theme: name.to_string(), pinned: form.checked("pinned") };
    state.store.set_theme_rules(&signed.actor, vec![rule]).await?;
    Ok(redirect_with_flash(&back(&form), &format!("The theme is now “{name}”.")))
}

async fn reset(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    state.store.clear_theme_rule(&signed.actor, &theme_key(&form)?).await?;
    Ok(redirect_with_flash(&back(&form), "The grouping decides that theme again."))
}

async fn add_note(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let theme = Name::try_from(form.get("theme")).map_err(|e| WebError::BadRequest(format!("Theme {e}.")))?;
    let body = LongText::try_from(form.get("body"))
        .map_err(|e| WebError::BadRequest(format!("What was done {e}: write a sentence or two.")))?;
    state.store.add_theme_note(&signed.actor, ThemeNoteInput { theme, body }).await?;
    Ok(redirect_with_flash(&back(&form), "The note was added."))
}

async fn delete_note(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: ThemeNoteId = id.parse().map_err(|_| WebError::NotFound("theme note"))?;
    state.store.delete_theme_note(&signed.actor, id).await?;
    Ok(redirect_with_flash(&back(&form), "The note was removed."))
}
