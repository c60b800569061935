//! Isolation cases of background jobs.

use super::*;

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    vec![get("/jobs", C::CityWide)]
}

/// Forms without an area.
pub(super) fn list_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/jobs/{name}/run",
        C::CityWide,
        |_| vec!["sweep_sessions".into()],
        |_| form(&[]),
    )]
}
