//! Configuration: defaults, then a TOML file, then environment variables, then command-line
//! flags. Loaded once at start and passed down; secrets never appear in Debug output.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use yinling_app::{
    Settings, Vault,
    kernel::settings::{PrivacySettings, SecuritySettings},
};
use yinling_store::Backend;
use zeroize::Zeroizing;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://yinling.db` (default) or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// The 32-byte data key (64 hex characters or Base64). Prefer `data_key_file`.
    pub data_key: Option<String>,
    /// A file holding the data key.
    pub data_key_file: Option<PathBuf>,
    pub max_connections: u32,
    /// Mark cookies Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    /// `text` or `json` logs.
    pub log_format: String,
    /// SQLite `synchronous=FULL` (durable across power loss). Turn off only for bulk loads.
    pub sqlite_full_sync: bool,
    /// SQLite page cache per connection, in MiB.
    pub sqlite_cache_mib: u32,
    /// Folder for photos and attachments. Default: beside a SQLite database
    /// (`yinling.db` → `yinling-files/`), else `./yinling-files`.
    pub files_dir: Option<PathBuf>,
    pub security: SecuritySettings,
    pub privacy: PrivacySettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://yinling.db".into(),
            listen: "127.0.0.1:8080".into(),
            data_key: None,
            data_key_file: None,
            max_connections: 8,
            secure_cookies: false,
            log_format: "text".into(),
            sqlite_full_sync: true,
            sqlite_cache_mib: 64,
            files_dir: None,
            security: SecuritySettings::default(),
            privacy: PrivacySettings::default(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("data_key", &self.data_key.as_ref().map(|_| "<redacted>"))
            .field("data_key_file", &self.data_key_file)
            .field("max_connections", &self.max_connections)
            .field("secure_cookies", &self.secure_cookies)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Config {
    pub fn settings(&self) -> Settings {
        Settings {
            security: self.security.clone(),
            privacy: self.privacy.clone(),
        }
    }

    /// Reads the file (if given, or `./yinling.toml` if present), then the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut config = match path {
            Some(p) => Self::from_file(p)?,
            None if Path::new("yinling.toml").exists() => {
                Self::from_file(Path::new("yinling.toml"))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("无法读取配置文件 {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("配置文件 {} 格式有误", path.display()))
    }

    /// Environment variables override the file.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = get("YINLING_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("YINLING_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("YINLING_DATA_KEY") {
            self.data_key = Some(v);
        }
        if let Some(v) = get("YINLING_DATA_KEY_FILE") {
            self.data_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("YINLING_MAX_CONNECTIONS") {
            self.max_connections = v.parse().context("YINLING_MAX_CONNECTIONS 应为正整数")?;
        }
        if let Some(v) = get("YINLING_SECURE_COOKIES") {
            self.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("YINLING_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("YINLING_FILES_DIR") {
            self.files_dir = Some(PathBuf::from(v));
        }
        Ok(())
    }

    /// Where photos and attachments are kept.
    pub fn files_dir(&self) -> PathBuf {
        if let Some(d) = &self.files_dir {
            return d.clone();
        }
        match Backend::from_url(&self.database_url) {
            Backend::Sqlite => {
                let db = Path::new(yinling_store::sqlite_path(&self.database_url));
                let stem = db.file_stem().and_then(|s| s.to_str()).unwrap_or("yinling");
                db.with_file_name(format!("{stem}-files"))
            }
            Backend::Postgres => PathBuf::from("yinling-files"),
        }
    }

    /// The data key: from the setting, the key file, or — for SQLite only — a key file
    /// beside the database, created on first use. PostgreSQL without a key is refused.
    pub fn vault(&self) -> anyhow::Result<Vault> {
        let key: Zeroizing<[u8; 32]> = if let Some(k) = &self.data_key {
            Vault::parse_key(k).context("YINLING_DATA_KEY 格式有误")?
        } else if let Some(file) = &self.data_key_file {
            let text = Zeroizing::new(
                std::fs::read_to_string(file)
                    .with_context(|| format!("无法读取密钥文件 {}", file.display()))?,
            );
            Vault::parse_key(&text)
                .with_context(|| format!("密钥文件 {} 格式有误", file.display()))?
        } else {
            match Backend::from_url(&self.database_url) {
                Backend::Postgres => bail!(
                    "使用 PostgreSQL 时必须提供数据密钥：请设置 YINLING_DATA_KEY 或 data_key_file（可用 `yinling key generate` 生成）。\n\
                     PostgreSQL requires a data key: set YINLING_DATA_KEY or data_key_file."
                ),
                Backend::Sqlite => {
                    let file = PathBuf::from(format!(
                        "{}.key",
                        yinling_store::sqlite_path(&self.database_url)
                    ));
                    if !file.exists() {
                        write_new_key(&file)?;
                        tracing::warn!(path = %file.display(), "created a new data key file; back it up with the database");
                    }
                    let text = Zeroizing::new(std::fs::read_to_string(&file)?);
                    Vault::parse_key(&text)
                        .with_context(|| format!("密钥文件 {} 格式有误", file.display()))?
                }
            }
        };
        Ok(Vault::new(&key))
    }
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("无法创建密钥文件 {}", path.display()))?;
    writeln!(f, "{}", Vault::generate_key_hex())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_and_defaults() {
        let mut c: Config = toml::from_str(
            r#"
            database_url = "sqlite://from-file.db"
            listen = "0.0.0.0:9000"
            [security]
            lockout_minutes = 20
            [privacy]
            phone_mask = "3,2"
            "#,
        )
        .unwrap();
        assert_eq!(c.security.lockout_minutes, 20);
        assert_eq!(c.privacy.phone_mask.apply("13812345678"), "138******78");
        c.apply_env(|k| (k == "YINLING_LISTEN").then(|| "127.0.0.1:7000".to_owned()))
            .unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000");
        assert_eq!(c.database_url, "sqlite://from-file.db");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Config>("databse_url = 'x'").is_err());
    }

    #[test]
    fn postgres_without_a_key_is_refused() {
        let c = Config {
            database_url: "postgres://u:p@localhost/db".into(),
            ..Config::default()
        };
        let err = c.vault().unwrap_err().to_string();
        assert!(err.contains("YINLING_DATA_KEY"), "{err}");
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert!(
            !format!(
                "{:?}",
                Config {
                    data_key: Some("k".repeat(64)),
                    ..Config::default()
                }
            )
            .contains("kkkk")
        );
    }
}
