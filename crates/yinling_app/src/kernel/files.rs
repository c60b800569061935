//! Photos and attachments, through one storage interface (`object_store`): a local folder
//! by default, memory in tests. An S3-compatible store is another `ObjectStore`
//! implementation of the same crate (its `aws` feature), not wired up yet.
//! Files are checked by size and by their first bytes, not by the name or type a browser
//! claims, and stored under a random key that carries no personal data.

use std::sync::Arc;

use object_store::{ObjectStore, PutPayload, memory::InMemory, path::Path};
use rand::RngCore;

use crate::{AppError, AppResult};

/// The largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// A kind of file we accept, recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
}

impl FileKind {
    /// Recognises a photo by its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(FileKind::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
        }
    }

    fn from_key(key: &str) -> Option<FileKind> {
        match key.rsplit('.').next()? {
            "jpg" => Some(FileKind::Jpeg),
            "png" => Some(FileKind::Png),
            "webp" => Some(FileKind::Webp),
            _ => None,
        }
    }
}

/// Checks a photo's size and kind (by its first bytes) and makes a new random key for it
/// under `folder`, without storing anything: a caller that tracks files records the key
/// first, so a file is never stored that nothing refers to.
pub fn photo_key(folder: &str, bytes: &[u8]) -> AppResult<String> {
    if bytes.is_empty() {
        return Err(AppError::invalid(
            "empty_file",
            "photo",
            "照片是空的，请重新选择",
        ));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(AppError::invalid(
            "file_too_large",
            "photo",
            format!(
                "照片太大（{:.1} MB），请选择5 MB以内的照片",
                bytes.len() as f64 / 1_048_576.0
            ),
        ));
    }
    let kind = FileKind::sniff(bytes).ok_or_else(|| {
        AppError::invalid(
            "unsupported_file",
            "photo",
            "只能上传 JPG、PNG 或 WebP 格式的照片",
        )
    })?;
    let mut id = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut id);
    Ok(format!("{folder}/{}.{}", hex::encode(id), kind.extension()))
}

/// Where files live. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileStore({})", self.inner)
    }
}

impl Default for FileStore {
    /// In memory: for tests and tools that keep nothing.
    fn default() -> Self {
        FileStore {
            inner: Arc::new(InMemory::new()),
        }
    }
}

impl FileStore {
    /// A folder on this machine (created if missing).
    pub fn local(dir: &std::path::Path) -> AppResult<FileStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            AppError::Internal(format!("cannot create file folder {}: {e}", dir.display()))
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| AppError::Internal(format!("file folder {}: {e}", dir.display())))?;
        Ok(FileStore {
            inner: Arc::new(fs),
        })
    }

    /// Stores bytes under a key made by [`photo_key`] (which has checked them).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> AppResult<()> {
        self.inner
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map_err(|e| AppError::Internal(format!("store file: {e}")))?;
        Ok(())
    }

    /// Removes a stored file, such as a photo stored for a step that was then refused.
    /// A key that is not there is not an error: the file is gone either way.
    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(AppError::Internal(format!("delete file: {e}"))),
        }
    }

    /// A stored file and its content type; `NotFound` for an unknown key.
    pub async fn get(&self, key: &str) -> AppResult<(Vec<u8>, &'static str)> {
        let kind = FileKind::from_key(key).ok_or(AppError::NotFound { what: "文件" })?;
        let got = self
            .inner
            .get(&Path::from(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => AppError::NotFound { what: "文件" },
                other => AppError::Internal(format!("read file: {other}")),
            })?;
        let bytes = got
            .bytes()
            .await
            .map_err(|e| AppError::Internal(format!("read file: {e}")))?;
        Ok((bytes.to_vec(), kind.content_type()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn photos_are_checked_by_content_and_size() {
        let fs = FileStore::default();
        let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
        let key = photo_key("orders/370830/1", &png).unwrap();
        fs.put(&key, png.clone()).await.unwrap();
        assert!(key.starts_with("orders/370830/1/") && key.ends_with(".png"));
        assert_eq!(fs.get(&key).await.unwrap(), (png, "image/png"));
        let e = photo_key("x", b"<script>alert(1)</script>").unwrap_err();
        assert_eq!(e.field(), Some("photo"));
        let mut big = vec![0xFF, 0xD8, 0xFF];
        big.resize(MAX_PHOTO_BYTES + 1, 0);
        let e = photo_key("x", &big).unwrap_err();
        assert!(e.to_string().contains("5 MB"), "{e}");
        assert!(matches!(
            fs.get("orders/none.png").await,
            Err(AppError::NotFound { .. })
        ));
        fs.delete(&key).await.unwrap();
        assert!(matches!(fs.get(&key).await, Err(AppError::NotFound { .. })));
        fs.delete(&key).await.unwrap();
    }
}
