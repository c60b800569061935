//! Just enough `multipart/form-data` (RFC 7578) for the one-file upload forms: the CSRF
//! guard reads the `csrf_token` field, the page reads the file. Whole bodies are small and
//! already bounded in memory, so a streaming parser would buy nothing.

/// Upload bodies may be this large: a 5 MB file plus the form's other fields.
pub const MAX_UPLOAD_BODY: usize = 5 * 1024 * 1024 + 64 * 1024;

/// The refusal of a photo upload whose body passed [`MAX_UPLOAD_BODY`].
pub fn photo_too_large() -> yinling_app::AppError {
    yinling_app::AppError::invalid(
        "file_too_large",
        "photo",
        "照片超过5MB，请换一张小一些的照片",
    )
}

/// One field of a form.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub data: &'a [u8],
}

/// The boundary from a `multipart/form-data; boundary=...` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A parameter (`name="..."`) of a Content-Disposition header.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The fields of a body; malformed tails are ignored (the caller then misses the field).
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Vec<Part<'a>> {
    let delim = format!("--{boundary}").into_bytes();
    let next_delim = format!("\r\n--{boundary}").into_bytes();
    let mut out = Vec::new();
    let Some(mut at) = find(body, &delim, 0) else {
        return out;
    };
    loop {
        let after = at + delim.len();
        if body.get(after..after + 2) != Some(b"\r\n") {
            break; // "--" closes the body
        }
        let head_start = after + 2;
        let Some(head_end) = find(body, b"\r\n\r\n", head_start) else {
            break;
        };
        let Some(data_end) = find(body, &next_delim, head_end + 4) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[head_start..head_end]);
        let disposition = head.split("\r\n").find(|l| {
            l.get(..20)
                .is_some_and(|s| s.eq_ignore_ascii_case("content-disposition:"))
        });
        if let Some(d) = disposition
            && let Some(name) = param(&d[20..], "name")
        {
            out.push(Part {
                name,
                filename: param(&d[20..], "filename"),
                data: &body[head_end + 4..data_end],
            });
        }
        at = data_end + 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_a_binary_file() {
        let ct = "multipart/form-data; boundary=----x1";
        let b = boundary(ct).unwrap();
        assert_eq!(b, "----x1");
        let mut body = Vec::new();
        body.extend_from_slice(
            b"------x1\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n",
        );
        body.extend_from_slice(
            b"------x1\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        );
        body.extend_from_slice(b"PK\x03\x04\r\n--not-the-boundary\x00\xff");
        body.extend_from_slice(b"\r\n------x1--\r\n");
        let parts = parse(&body, &b);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf_token");
        assert_eq!(parts[0].data, b"abc");
        assert_eq!(parts[1].filename.as_deref(), Some("a.xlsx"));
        assert_eq!(parts[1].data, b"PK\x03\x04\r\n--not-the-boundary\x00\xff");
    }

    #[test]
    fn rejects_other_types_and_survives_garbage() {
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert!(parse(b"garbage", "x").is_empty());
        assert!(parse(b"--x\r\nno header end", "x").is_empty());
    }
}
