//! The road map's drawings as PNG pictures, rendered in-process by `resvg` (pure Rust, no
//! browser): the pictures of the plan's DOCX (`docx-rs` embeds PNG) and the CLI's
//! `rectrack dev roadmap -o FILE.png` (the README's picture).
//!
//! Text is set in one Chinese font found among the system's fonts once per process
//! ([`chinese_font`]: `fontdb` reads the fontconfig set-up and the usual folders): the first
//! of [`PREFERRED`] installed, else any face with a Chinese name. That font alone is loaded
//! into memory (10-20 MB) and made the drawings' sans-serif, so every glyph comes from it
//! without a search through every installed font. A machine without one (no
//! `fonts-noto-cjk`, `fonts-wqy-zenhei` or the like) draws no picture: the plan says so
//! instead and the CLI refuses, rather than print boxes for every label. Fonts installed
//! later are seen after a restart.

use std::sync::{Arc, OnceLock};

use resvg::tiny_skia;
use resvg::usvg::{self, fontdb};

use crate::error::{AppError, AppResult};

/// Chinese fonts by the family names their packages give them, in the order preferred: Debian's
/// fonts-noto-cjk, Adobe's Source Han, fonts-wqy-zenhei and fonts-wqy-microhei, Windows' and
/// macOS's own.
pub const PREFERRED: [&str; 8] = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Droid Sans Fallback",
];

/// The longest side of a picture, in pixels: a taller drawing is scaled down to it (a pixmap
/// of 1,920 by 16,000 is 123 MB).
const MAX_SIDE: f32 = 16_000.0;

/// The font a picture's text is set in.
pub struct ChineseFont {
    /// Its family name.
    pub family: String,
    /// A font database holding it alone.
    db: Arc<fontdb::Database>,
}

static FONT: OnceLock<Option<ChineseFont>> = OnceLock::new();

/// The Chinese font of this machine, looked for once per process; none: no pictures.
pub fn chinese_font() -> Option<&'static ChineseFont> {
    FONT.get_or_init(|| {
        let found = find();
        match &found {
            Some(font) => tracing::info!(family = %font.family, "road map pictures: Chinese font"),
            None => tracing::warn!(
                "road map pictures: no Chinese font installed (fonts-noto-cjk or fonts-wqy-zenhei); the plan prints the road map as a table only"
            ),
        }
        found
    })
    .as_ref()
}

fn find() -> Option<ChineseFont> {
    let mut all = fontdb::Database::new();
    all.load_system_fonts();
    let named = |name: &str| {
        all.faces()
            .find(|f| f.style == fontdb::Style::Normal && f.families.iter().any(|(n, _)| n == name))
    };
    let chinese = |f: &&fontdb::FaceInfo| {
        f.style == fontdb::Style::Normal
            && f.families.iter().any(|(_, language)| {
                matches!(
                    language,
                    fontdb::Language::Chinese_PeoplesRepublicOfChina
                        | fontdb::Language::Chinese_Singapore
                        | fontdb::Language::Chinese_Taiwan
                        | fontdb::Language::Chinese_HongKongSAR
                        | fontdb::Language::Chinese_MacaoSAR
                )
            })
    };
    let face = PREFERRED
        .iter()
        .find_map(|name| named(name))
        .or_else(|| all.faces().find(chinese))?;
    // The family's English name where it has one ("WenQuanYi Zen Hei", not 文泉驿正黑).
    let family = face
        .families
        .iter()
        .find(|(_, l)| *l == fontdb::Language::English_UnitedStates)
        .or(face.families.first())?
        .0
        .clone();
    let data = all.with_face_data(face.id, |data, _| data.to_vec())?;
    let mut db = fontdb::Database::new();
    db.load_font_data(data);
    db.set_sans_serif_family(family.clone());
    db.set_serif_family(family.clone());
    Some(ChineseFont {
        family,
        db: Arc::new(db),
    })
}

/// A PNG picture and its size in pixels.
pub struct Picture {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// `svg` (one of [`super`]'s drawings) as a PNG at `scale` pixels per SVG pixel (less if the
/// picture would pass [`MAX_SIDE`]), on white. `INTERNAL` without a Chinese font: ask
/// [`chinese_font`] first.
pub fn png(svg: &str, scale: f32) -> AppResult<Picture> {
    let font = chinese_font()
        .ok_or_else(|| AppError::internal("drawing a picture without a Chinese font"))?;
    let options = usvg::Options {
        font_family: font.family.clone(),
        fontdb: font.db.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| AppError::internal(format!("reading the road map's drawing: {e}")))?;
    let size = tree.size();
    let scale = scale
        .min(MAX_SIDE / size.width())
        .min(MAX_SIDE / size.height());
    let width = (size.width() * scale).ceil() as u32;
    let height = (size.height() * scale).ceil() as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| AppError::internal(format!("a picture of {width}x{height}")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    // Opaque (drawn on white), so RGB: a quarter smaller than tiny-skia's RGBA, and encoded
    // with png's fast deflate (fdeflate): the default one took most of a plan's time.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    drop(pixmap);
    let failed = |e: png::EncodingError| AppError::internal(format!("encoding a picture: {e}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(Picture {
        png: out,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::{chinese_font, png};

    /// The dark pixels of `text` drawn alone, as (count, a fingerprint of where they are).
    fn ink(text: &str) -> (usize, u64) {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40" font-family="sans-serif" font-size="24"><text x="4" y="30">{text}</text></svg>"#
        );
        let picture = png(&svg, 1.0).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&picture.png).unwrap();
        let mut count = 0;
        let mut print = 0u64;
        for (k, p) in pixmap.pixels().iter().enumerate() {
            if p.red() < 128 {
                count += 1;
                print = print.wrapping_mul(31).wrapping_add(k as u64);
            }
        }
        (count, print)
    }

    /// Chinese text is drawn in its own glyphs: two characters leave ink, and different ink
    /// (a missing font would draw the same empty box for both). Needs a Chinese font, which CI
    /// installs (fonts-wqy-zenhei); without one the pictures are not drawn at all.
    #[test]
    fn chinese_labels_are_drawn_in_their_own_glyphs() {
        if chinese_font().is_none() {
            assert!(
                std::env::var("RECTRACK_DOCX_RENDER").as_deref() != Ok("required"),
                "a Chinese font is required: install fonts-wqy-zenhei"
            );
            eprintln!("note: no Chinese font installed; road map pictures are not drawn here");
            return;
        }
        let (road, road_print) = ink("路线");
        let (mouth, mouth_print) = ink("口口");
        assert!(road > 40 && mouth > 40, "{road} {mouth}");
        assert_ne!(road_print, mouth_print);
        assert_ne!(road, mouth);
    }
}
