//! Every request gets an id: the one the client or a proxy sent in `x-request-id` when it is
//! sane (1–64 characters of `A–Z a–z 0–9 - _ . :`), else a new one (`K7Q2-M9XD-3HZP`: twelve
//! Crockford base-32 characters, easy to read out on the phone). The id is sent back in the
//! `x-request-id` response header, is a field of the request's tracing span (so every log
//! line of the request carries it), and is shown on error pages (请求编号) and in the API's
//! error body (`request_id`), so a resident can read it to the helpdesk and the helpdesk can
//! find the log lines.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// The request and response header.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id accepted from outside.
pub const MAX_LEN: usize = 64;

/// The id of the request, also in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served, for error pages and error bodies that are built far
/// from the request (`None` outside a request, e.g. in a unit test).
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// An id from outside is kept only if it is short and plain: it goes into headers, log
/// lines and pages.
pub fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A new id: 60 random bits as three groups of four Crockford base-32 characters (no I, L,
/// O or U, so nothing is misread).
pub fn generate() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits: u64 = rand::random();
    let mut out = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

/// The outermost middleware: takes or makes the id, serves the request inside a span that
/// carries it, and returns it in the response header.
pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| is_sane(s))
        .map_or_else(generate, str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    // At ERROR level so that the span, and with it the id, is there whatever level the
    // log filter lets through.
    let span = tracing::error_span!("request", request_id = %id);
    let mut resp = CURRENT
        .scope(id.clone(), next.run(req))
        .instrument(span)
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_sane_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 14);
        assert!(is_sane(&a) && is_sane(&b), "{a} {b}");
        assert_ne!(a, b);
    }

    #[test]
    fn only_short_plain_ids_are_kept() {
        for ok in ["abc", "9f1c2d3e-0000-4000-8000-000000000000", "req:1.2_3"] {
            assert!(is_sane(ok), "{ok}");
        }
        let long = "a".repeat(MAX_LEN + 1);
        for bad in ["", "请求", "a b", "a\nb", "<script>", long.as_str()] {
            assert!(!is_sane(bad), "{bad:?}");
        }
    }
}
