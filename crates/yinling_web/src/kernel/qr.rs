//! QR codes as inline SVG, for a redemption code an elder shows at a shop's till. Drawn on
//! the server: no script, no image request, and it prints and zooms sharply.

use qrcode::{EcLevel, QrCode, render::svg};

/// `text` as an inline `<svg>` element labelled `label` for screen readers, or an empty
/// string if it cannot be encoded (it always can for six digits).
pub fn svg(text: &str, label: &str) -> String {
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else {
        return String::new();
    };
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    // Inline: drop the XML declaration, name the picture, let CSS size it.
    let start = image.find("<svg").unwrap_or(0);
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    image[start..].replacen(
        "<svg ",
        &format!(r#"<svg class="qr" role="img" aria-label="{label}" "#),
        1,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn six_digits_make_an_inline_labelled_svg() {
        let s = super::svg("123456", "兑换码 123 456 的二维码");
        assert!(
            s.starts_with(r#"<svg class="qr" role="img" aria-label="兑换码 123 456 的二维码" "#)
        );
        assert!(s.ends_with("</svg>") && s.contains("<path") && !s.contains("<?xml"));
    }
}
