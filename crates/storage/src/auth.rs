//! Credentials: argon2id password hashes, browser sessions and API tokens.
//! Session and token secrets are random and stored only as SHA-256 hashes.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rapport_domain::records::{ApiToken, User, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, TokenId, UserId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, Set};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::common::{ByKey, parse};
use crate::entities::{api_tokens, sessions, users};
use crate::{Result, StorageError, Store};

const TOKEN_PREFIX: &str = "rpt_";
/// Touching `last_used_at` on every request would make every read a write.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(1);

/// An email and password as typed at the login form.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

pub enum LoginOutcome {
    Valid(User),
    Invalid,
}

/// A token as created: the secret is shown once and never stored.
pub struct NewToken {
    pub secret: String,
    pub token: ApiToken,
}

pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with argon2id, off the async threads: it is slow on purpose.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| StorageError::Config(format!("cannot hash password: {e}")))
    })
    .await
    .map_err(|e| StorageError::Config(format!("password hashing task failed: {e}")))?
}

async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A deactivated user's credentials stop working at once.
fn active_actor(row: users::Model) -> Result<Option<(Actor, User)>> {
    if !row.active {
        return Ok(None);
    }
    let user = crate::records::users::user_from(row)?;
    let actor = Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id };
    Ok(Some((actor, user)))
}

fn token_from(row: api_tokens::Model) -> Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId(row.id),
        user_id: UserId(row.user_id),
        name: parse(row.name, "token name")?,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
        created_at: row.created_at,
    })
}

impl Store {
    /// Checks an email and password. Unknown emails cost the same hashing time
    /// as known ones, so timing does not reveal who has an account.
    pub async fn verify_login(&self, credentials: &Credentials) -> Result<LoginOutcome> {
        let user = match Email::parse(&credentials.email) {
            Ok(email) => users::Entity::find().filter(users::Column::Email.eq(email.as_str())).one(self.conn()).await?,
            Err(_) => None,
        };
        let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let hash = match &stored_hash {
            Some(hash) => hash.clone(),
            None => hash_password("not-a-real-password").await?,
        };
        let matches = verify_password(hash, credentials.password.clone()).await;
        match user {
            Some(user) if matches && stored_hash.is_some() && user.active => {
                Ok(LoginOutcome::Valid(crate::records::users::user_from(user)?))
            }
            _ => Ok(LoginOutcome::Invalid),
        }
    }

    pub async fn create_session(&self, user: UserId, lifetime: Duration) -> Result<String> {
        let secret = random_secret();
        let now = now();
        let w = self.begin_write().await?;
        sessions::ActiveModel {
            token_hash: Set(digest(&secret)),
            user_id: Set(user.0),
            created_at: Set(now),
            expires_at: Set(now + lifetime),
        }
        .insert(&*w)
        .await?;
        // Expired sessions are swept whenever a new one starts.
        sessions::Entity::delete_many().filter(sessions::Column::ExpiresAt.lt(now)).exec(&*w).await?;
        w.commit().await?;
        Ok(secret)
    }

    pub async fn end_session(&self, secret: &str) -> Result<()> {
        let w = self.begin_write().await?;
        sessions::Entity::delete_by_id(digest(secret)).exec(&*w).await?;
        w.commit().await
    }

    /// The active user behind a session cookie: one query.
    pub async fn session_user(&self, secret: &str) -> Result<Option<(Actor, User)>> {
        let found =
            sessions::Entity::find_by_id(digest(secret)).find_also_related(users::Entity).by_key(self.conn()).await?;
        match found {
            Some((session, Some(user))) if session.expires_at >= now() => active_actor(user),
            _ => Ok(None),
        }
    }

    /// The active user behind a bearer token: one query, and a write at most
    /// once a minute to note when the token was last used.
    pub async fn token_user(&self, secret: &str) -> Result<Option<(Actor, User)>> {
        let found = api_tokens::Entity::find()
            .filter(api_tokens::Column::TokenHash.eq(digest(secret)))
            .find_also_related(users::Entity)
            .one(self.conn())
            .await?;
        let Some((token, Some(user))) = found else { return Ok(None) };
        let now = now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at < now) {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|at| now - at > LAST_USED_GRANULARITY) {
            let w = self.begin_write().await?;
            api_tokens::Entity::update_many()
                .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
                .filter(api_tokens::Column::Id.eq(token.id))
                .exec(&*w)
                .await?;
            w.commit().await?;
        }
        active_actor(user)
    }

    pub async fn create_token(&self, user: UserId, name: Name, expires_in_days: Option<u32>) -> Result<NewToken> {
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let now = now();
        let w = self.begin_write().await?;
        crate::common::active_user(&*w, user, "user").await?;
        let row = api_tokens::ActiveModel {
            id: Set(TokenId::new().0),
            user_id: Set(user.0),
            name: Set(name.to_string()),
            token_hash: Set(digest(&secret)),
            expires_at: Set(expires_in_days.map(|days| now + Duration::days(days.into()))),
            revoked_at: Set(None),
            last_used_at: Set(None),
            created_at: Set(now),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        Ok(NewToken { secret, token: token_from(row)? })
    }

    /// Tokens of one user, or of everyone for `None`; newest first.
    pub async fn list_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        let mut select = api_tokens::Entity::find().order_by_desc(api_tokens::Column::CreatedAt);
        if let Some(user) = user {
            select = select.filter(api_tokens::Column::UserId.eq(user.0));
        }
        select.all(self.conn()).await?.into_iter().map(token_from).collect()
    }

    /// Revokes a token: your own, or anyone's if you are an admin.
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<ApiToken> {
        let w = self.begin_write().await?;
        let token = api_tokens::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("token"))?;
        if token.user_id != actor.user_id.0 {
            actor.ensure_admin()?;
        }
        let mut active: api_tokens::ActiveModel = token.into();
        active.revoked_at = Set(Some(now()));
        let row = active.update(&*w).await?;
        w.commit().await?;
        token_from(row)
    }

    /// Signs a user out everywhere: sessions ended, tokens revoked.
    pub(crate) async fn sign_out_everywhere<C: sea_orm::ConnectionTrait>(conn: &C, user: UserId) -> Result<()> {
        sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user.0)).exec(conn).await?;
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::RevokedAt, Expr::value(now()))
            .filter(api_tokens::Column::UserId.eq(user.0))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        Ok(())
    }
}
