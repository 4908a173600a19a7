//! Image validation and re-encoding. The declared size is read from the header and
//! checked against the pixel limit before any pixel is decoded, and decoding runs
//! under an allocation bound, so a decompression bomb costs a header read.
//! Re-encoding drops every metadata chunk (EXIF, GPS, comments) after applying
//! the EXIF orientation.

use std::io::Cursor;

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::{FilesError, Result};

/// Bounds on what an image may cost to decode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageLimits {
    /// Largest `width * height` accepted (default 50 megapixels).
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_pixels: 50_000_000,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// An image after validation and re-encoding.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The re-encoded image (same format as the upload).
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// `(longest side, WebP bytes)` for each thumbnail size smaller than the image.
    pub thumbnails: Vec<(u32, Bytes)>,
}

fn bad(reason: impl std::fmt::Display) -> FilesError {
    FilesError::invalid("file", format!("not a valid image: {reason}"))
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(bad)
}

/// The format and declared size, from the header only; refuses images above the
/// pixel limit without decoding them.
pub fn probe(bytes: &[u8], limits: ImageLimits) -> Result<(ImageFormat, u32, u32)> {
    let r = reader(bytes)?;
    let format = r
        .format()
        .filter(|f| {
            matches!(
                f,
                ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
            )
        })
        .ok_or_else(|| bad("unsupported format"))?;
    let (w, h) = r.into_dimensions().map_err(bad)?;
    if w == 0 || h == 0 {
        return Err(bad("empty image"));
    }
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(FilesError::invalid(
            "file",
            format!(
                "image of {w}x{h} pixels is larger than the limit of {} pixels",
                limits.max_pixels
            ),
        ));
    }
    Ok((format, w, h))
}

/// Decode under `limits`, applying the EXIF orientation.
pub fn decode(bytes: &[u8], limits: ImageLimits) -> Result<(ImageFormat, DynamicImage)> {
    let (format, w, h) = probe(bytes, limits)?;
    let mut r = reader(bytes)?;
    let mut l = Limits::default();
    l.max_image_width = Some(w);
    l.max_image_height = Some(h);
    l.max_alloc = Some(limits.max_alloc);
    r.limits(l);
    let mut decoder = r.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok((format, img))
}

/// Encode `img` as `format` with no metadata.
pub fn encode(img: &DynamicImage, format: ImageFormat) -> Result<Bytes> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
                .map_err(|e| FilesError::Internal(format!("jpeg encode: {e}")))?;
        }
        ImageFormat::WebP => {
            let rgba = DynamicImage::ImageRgba8(img.to_rgba8());
            rgba.write_to(&mut out, ImageFormat::WebP)
                .map_err(|e| FilesError::Internal(format!("webp encode: {e}")))?;
        }
        ImageFormat::Gif => {
            let rgba = DynamicImage::ImageRgba8(img.to_rgba8());
            rgba.write_to(&mut out, ImageFormat::Gif)
                .map_err(|e| FilesError::Internal(format!("gif encode: {e}")))?;
        }
        _ => {
            img.write_to(&mut out, ImageFormat::Png)
                .map_err(|e| FilesError::Internal(format!("png encode: {e}")))?;
        }
    }
    Ok(Bytes::from(out.into_inner()))
}

/// The media type of a format this module writes.
pub fn mime(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        _ => "image/png",
    }
}

/// Validate, strip metadata, and make thumbnails. GIFs are kept byte for byte (to
/// keep animation; they carry no EXIF) once their first frame decoded within limits.
pub fn process(bytes: &[u8], limits: ImageLimits, thumb_sizes: &[u32]) -> Result<Processed> {
    let (format, img) = decode(bytes, limits)?;
    let out = if format == ImageFormat::Gif {
        Bytes::copy_from_slice(bytes)
    } else {
        encode(&img, format)?
    };
    let (width, height) = (img.width(), img.height());
    let mut thumbnails = Vec::new();
    for &size in thumb_sizes {
        if width.max(height) > size {
            let t = img.thumbnail(size, size);
            thumbnails.push((size, encode(&t, ImageFormat::WebP)?));
        }
    }
    Ok(Processed {
        bytes: out,
        content_type: mime(format),
        width,
        height,
        thumbnails,
    })
}

/// Fit `img` in a `size`-pixel square (never enlarging) and encode it as `format`.
pub fn resized(img: &DynamicImage, size: u32, format: ImageFormat) -> Result<Bytes> {
    if img.width().max(img.height()) <= size {
        return encode(img, format);
    }
    encode(&img.thumbnail(size, size), format)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A real PNG of `w`x`h` pixels.
    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("encode");
        out.into_inner()
    }

    /// A PNG header declaring `w`x`h` with one tiny IDAT: a decompression-bomb shape.
    pub fn bomb_png(w: u32, h: u32) -> Vec<u8> {
        let mut v = png(1, 1);
        // IHDR data starts at byte 16: width and height, big-endian. The CRC is
        // left stale; the header reader does not need it to report the size.
        v[16..20].copy_from_slice(&w.to_be_bytes());
        v[20..24].copy_from_slice(&h.to_be_bytes());
        v
    }

    #[test]
    fn processes_a_png_with_thumbnails() {
        let p = process(&png(1300, 700), ImageLimits::default(), &[256, 1024]).expect("ok");
        assert_eq!(
            (p.width, p.height, p.content_type),
            (1300, 700, "image/png")
        );
        assert_eq!(p.thumbnails.len(), 2);
        let t = image::load_from_memory(&p.thumbnails[0].1).expect("thumb decodes");
        assert_eq!((t.width(), t.height()), (256, 138));
    }

    #[test]
    fn refuses_bombs_from_the_header_quickly() {
        let started = std::time::Instant::now();
        let e =
            process(&bomb_png(100_000, 100_000), ImageLimits::default(), &[256]).expect_err("bomb");
        assert!(matches!(e, FilesError::Invalid { .. }), "{e:?}");
        assert!(started.elapsed().as_millis() < 500);
    }

    #[test]
    fn strips_exif_from_jpeg() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(8, 8));
        let mut jpeg = encode(&img, ImageFormat::Jpeg).expect("jpeg").to_vec();
        // Insert an APP1/EXIF segment after SOI.
        let exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0GPS-SECRET";
        let mut seg = vec![0xFF, 0xE1];
        seg.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        seg.extend_from_slice(exif);
        jpeg.splice(2..2, seg);
        assert!(jpeg.windows(10).any(|w| w == b"GPS-SECRET"));
        let p = process(&jpeg, ImageLimits::default(), &[]).expect("ok");
        assert!(!p.bytes.windows(10).any(|w| w == b"GPS-SECRET"));
        assert!(!p.bytes.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn refuses_non_images() {
        assert!(process(b"<html>hi</html>", ImageLimits::default(), &[]).is_err());
    }
}
