//! Isolation cases of the audit log.

use super::*;

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![get("/api/v1/audit", C::List(P::Audit))]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![get("/audit", C::List(P::Audit))]
}
