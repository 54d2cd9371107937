//! QR codes for the device-code step, drawn in Rust so the webview needs no script for it.

use base64::Engine as _;
use qrcode::render::svg;

/// A `data:image/svg+xml;base64,…` URL of a QR code for `text` (the CSP allows `img-src data:`),
/// or `None` if `text` is too long for a QR code.
pub fn svg_data_url(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(180, 180)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verification_url_becomes_an_svg_data_url() {
        let url = svg_data_url("https://microsoft.com/devicelogin").unwrap();
        let encoded = url.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("<svg") && svg.contains("#000000"));
    }
}
