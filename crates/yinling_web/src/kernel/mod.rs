//! What the pages and the API share: the caller's session and the CSRF guard ([`session`]),
//! cookies, the error that renders as a page or a JSON envelope ([`error`]), the request id,
//! per-route metrics, multipart uploads, QR codes, static files, and the tiny HTTP/1.1 client
//! the benches and kill tests drive a real server with ([`wire`]).

pub(crate) mod cookies;
pub mod error;
pub(crate) mod key_path;
pub(crate) mod metrics_layer;
pub(crate) mod multipart;
pub(crate) mod qr;
pub mod request_id;
pub mod session;
pub(crate) mod static_files;
pub mod wire;
