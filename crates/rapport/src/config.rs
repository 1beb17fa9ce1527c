//! Settings: flags over environment (RAPPORT_*) over rapport.toml over defaults.

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Config {
    pub bind: String,
    pub database_url: String,
    /// Mark session cookies Secure (set when serving over https).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self { bind: "127.0.0.1:8080".into(), database_url: "sqlite://rapport.db".into(), secure_cookies: false }
    }
}

impl Config {
    pub fn load(database_url: Option<String>, bind: Option<String>) -> Result<Self> {
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file("rapport.toml"))
            .merge(Env::prefixed("RAPPORT_").only(&["bind", "database_url", "secure_cookies"]))
            .extract()
            .context("cannot read the settings (rapport.toml or RAPPORT_* variables)")?;
        if let Some(url) = database_url {
            config.database_url = url;
        }
        if let Some(bind) = bind {
            config.bind = bind;
        }
        Ok(config)
    }
}
