//! Avatars, banners and icons, set from Discord's data URIs
//! (`data:image/png;base64,...`) and served at
//! `/{avatars|banners|icons|...}/{owner}/{hash}.{png|webp|jpg|gif}?size=N`,
//! resized on demand to a power of two (16..=4096) and cached in the store.

use base64::Engine;
use bytes::Bytes;
use image::ImageFormat;
use sha2::{Digest, Sha256};

use crate::error::{FilesError, Result};
use crate::{Files, images};

/// What an image is of; names the URL prefix and the store folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// A user's avatar (`/avatars/{user}/...`).
    Avatar,
    /// A user's or a guild's banner (`/banners/{id}/...`).
    Banner,
    /// A guild's icon (`/icons/{guild}/...`).
    Icon,
}

impl ImageKind {
    /// The URL and store prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            ImageKind::Avatar => "avatars",
            ImageKind::Banner => "banners",
            ImageKind::Icon => "icons",
        }
    }

    /// The kind a URL prefix names.
    pub fn from_prefix(p: &str) -> Option<ImageKind> {
        match p {
            "avatars" => Some(ImageKind::Avatar),
            "banners" => Some(ImageKind::Banner),
            "icons" => Some(ImageKind::Icon),
            _ => None,
        }
    }
}

/// Sizes a client may ask for.
pub fn valid_size(size: u32) -> bool {
    (16..=4096).contains(&size) && size.is_power_of_two()
}

/// Decode a data URI's payload, bounded by `max` decoded bytes before decoding.
pub fn parse_data_uri(uri: &str, max: u64, field: &str) -> Result<Vec<u8>> {
    let Some(rest) = uri.strip_prefix("data:") else {
        return Err(FilesError::invalid(field, "expected a data URI"));
    };
    let Some((meta, payload)) = rest.split_once(',') else {
        return Err(FilesError::invalid(field, "expected a data URI"));
    };
    if !meta.ends_with(";base64") {
        return Err(FilesError::invalid(field, "the data URI must be base64"));
    }
    // Four base64 characters carry three bytes: refuse before allocating.
    if (payload.len() as u64) / 4 * 3 > max + 3 {
        return Err(FilesError::TooLarge { limit: max });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|_| FilesError::invalid(field, "invalid base64"))?;
    if bytes.len() as u64 > max {
        return Err(FilesError::TooLarge { limit: max });
    }
    Ok(bytes)
}

fn ext_format(ext: &str) -> Option<ImageFormat> {
    match ext {
        "png" => Some(ImageFormat::Png),
        "webp" => Some(ImageFormat::WebP),
        "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
        "gif" => Some(ImageFormat::Gif),
        _ => None,
    }
}

impl Files {
    /// Validate and store the image of a data URI for `owner` (a user or guild id);
    /// returns the hash to keep on the owner (`a_`-prefixed when animated). This is
    /// what `PATCH /users/@me` (`avatar`, `banner`) and `PATCH /guilds/{id}` (`icon`,
    /// `banner`) call; `field` names the JSON field in errors.
    pub async fn set_image(
        &self,
        kind: ImageKind,
        owner: u64,
        data_uri: &str,
        field: &str,
    ) -> Result<String> {
        let bytes = parse_data_uri(data_uri, self.inner.config.max_avatar_bytes, field)?;
        // The hash names the bytes as sent (Discord's way), so a caller can compute
        // it from the data URI alone and the same image always gets the same name.
        let digest = Sha256::digest(&bytes);
        let limits = self.inner.config.image;
        let field_owned = field.to_string();
        let (animated, original) = tokio::task::spawn_blocking(move || {
            let (format, img) = images::decode(&bytes, limits).map_err(|e| match e {
                FilesError::Invalid { reason, .. } => FilesError::invalid(field_owned, reason),
                other => other,
            })?;
            if format == ImageFormat::Gif {
                Ok::<_, FilesError>((true, Bytes::from(bytes)))
            } else {
                Ok((false, images::encode(&img, ImageFormat::Png)?))
            }
        })
        .await
        .map_err(|e| FilesError::Internal(format!("image task: {e}")))??;
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let hash = if animated { format!("a_{hex}") } else { hex };
        let ext = if animated { "gif" } else { "png" };
        let key = format!("{}/{owner}/{hash}/original.{ext}", kind.prefix());
        self.inner.storage.put(&key, original).await?;
        Ok(hash)
    }

    /// The bytes and media type of `/{kind}/{owner}/{hash}.{ext}?size=N`, resized and
    /// cached on first request. GIF is served for animated images only, as sent.
    pub async fn image(
        &self,
        kind: ImageKind,
        owner: u64,
        hash: &str,
        ext: &str,
        size: Option<u32>,
    ) -> Result<(Bytes, &'static str)> {
        if hash.is_empty()
            || hash.len() > 40
            || !hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'a' || b == b'_')
        {
            return Err(FilesError::NotFound);
        }
        let Some(format) = ext_format(ext) else {
            return Err(FilesError::NotFound);
        };
        let size = size.unwrap_or(1024);
        if !valid_size(size) {
            return Err(FilesError::invalid(
                "size",
                "size must be a power of two from 16 to 4096",
            ));
        }
        let animated = hash.starts_with("a_");
        let dir = format!("{}/{owner}/{hash}", kind.prefix());
        let original_key = format!("{dir}/original.{}", if animated { "gif" } else { "png" });
        if format == ImageFormat::Gif {
            if !animated {
                return Err(FilesError::NotFound);
            }
            return Ok((self.inner.storage.get(&original_key).await?, "image/gif"));
        }
        let cache_key = format!("{dir}/{size}.{ext}");
        if let Ok(b) = self.inner.storage.get(&cache_key).await {
            return Ok((b, images::mime(format)));
        }
        let original = self.inner.storage.get(&original_key).await?;
        let limits = self.inner.config.image;
        let out = tokio::task::spawn_blocking(move || {
            let (_, img) = images::decode(&original, limits)?;
            images::resized(&img, size, format)
        })
        .await
        .map_err(|e| FilesError::Internal(format!("image task: {e}")))??;
        self.inner.storage.put(&cache_key, out.clone()).await?;
        Ok((out, images::mime(format)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris_are_bounded_before_decoding() {
        assert_eq!(
            parse_data_uri("data:image/png;base64,aGk=", 10, "avatar").expect("ok"),
            b"hi"
        );
        assert!(matches!(
            parse_data_uri(
                &format!("data:image/png;base64,{}", "A".repeat(4000)),
                100,
                "avatar"
            ),
            Err(FilesError::TooLarge { .. })
        ));
        assert!(parse_data_uri("http://x", 10, "avatar").is_err());
        assert!(parse_data_uri("data:image/png,abc", 10, "avatar").is_err());
    }

    #[test]
    fn sizes_are_powers_of_two() {
        assert!(valid_size(16) && valid_size(4096) && valid_size(128));
        assert!(!valid_size(8) && !valid_size(8192) && !valid_size(100));
    }
}
