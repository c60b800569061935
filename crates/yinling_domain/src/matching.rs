//! Matching providers to orders (一键调度): a score out of 100 made of named parts, so a
//! dispatcher sees why each candidate ranks where it does, and a greedy batch assignment
//! that never gives anyone more than their capacity.
//!
//! Providers are held in a [`Pool`] indexed by the areas they serve (organisation paths) and
//! by coarse map cells (for those who serve a radius), so an order only scores the providers
//! that can reach it.

use std::collections::{BinaryHeap, HashMap};

use serde::Serialize;

use crate::{
    ids::{Key, ProviderId},
    service::{WeeklyWindow, available_at},
};

/// Skills as a bit set over a vocabulary of up to 128 names interned per pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkillSet(u128);

impl SkillSet {
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    pub fn intersect(self, other: SkillSet) -> SkillSet {
        SkillSet(self.0 & other.0)
    }
}

/// Interns skill names to bits. Names past the 128th share the last bit (a coarse match is
/// better than none; Jining's vocabulary has a few dozen).
#[derive(Debug, Default, Clone)]
pub struct SkillVocab {
    index: HashMap<String, u8>,
}

impl SkillVocab {
    pub fn set<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> SkillSet {
        let mut bits = 0u128;
        for n in names {
            let next = self.index.len().min(127) as u8;
            let bit = *self.index.entry(n.to_owned()).or_insert(next);
            bits |= 1u128 << bit;
        }
        SkillSet(bits)
    }

    /// Like [`SkillVocab::set`] without learning new names: unknown skills match nobody
    /// (and still count as required).
    pub fn lookup<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> (SkillSet, u32) {
        let mut bits = 0u128;
        let mut unknown = 0;
        for n in names {
            match self.index.get(n) {
                Some(b) => bits |= 1u128 << b,
                None => unknown += 1,
            }
        }
        (SkillSet(bits), unknown)
    }
}

/// A provider as matching sees it.
#[derive(Debug, Clone)]
pub struct Provider {
    pub key: Key<ProviderId>,
    pub skills: SkillSet,
    /// Organisation paths served: an order placed anywhere under one of them is in area.
    pub areas: Vec<String>,
    /// The path where the provider lives or is based (same grid scores highest).
    pub home_path: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Serves within this many metres of `lat`/`lng`, beside `areas`.
    pub radius_m: Option<u32>,
    pub windows: Vec<WeeklyWindow>,
    pub capacity: u32,
    /// Orders dispatched or accepted and not yet finished.
    pub load: u32,
    pub rating_sum: u32,
    pub rating_count: u32,
    /// Orders taken in the recent past (the fairness term).
    pub recent: u32,
}

/// An order as matching sees it.
#[derive(Debug, Clone)]
pub struct Need {
    pub required: SkillSet,
    /// Required skills no provider in the pool has at all (they still count as required).
    pub unknown_skills: u32,
    /// The path of the unit where the service is wanted (the resident's grid).
    pub path: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// When the service is wanted.
    pub at: i64,
}

/// One part of a score: its name, the points it gave out of its maximum, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScorePart {
    pub factor: &'static str,
    pub points: f64,
    pub max: f64,
    pub reason: String,
}

/// A ranked candidate with the reasons for its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub key: Key<ProviderId>,
    /// Out of 100.
    pub score: f64,
    pub parts: Vec<ScorePart>,
}

const W_SKILL: f64 = 30.0;
const W_PLACE: f64 = 25.0;
const W_TIME: f64 = 20.0;
const W_LOAD: f64 = 10.0;
const W_RATING: f64 = 10.0;
const W_FAIR: f64 = 5.0;

/// Ratings are averaged with three imaginary 4-star ratings, so one 5-star rating does not
/// outrank fifty 4.8s.
const RATING_PRIOR_COUNT: f64 = 3.0;
const RATING_PRIOR_MEAN: f64 = 4.0;

/// Metres between two points (haversine on a sphere; plenty for a county).
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let r = 6_371_000.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().asin()
}

/// How a provider reaches the place, if at all.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reach {
    SameHome,
    Area,
    Radius { metres: f64, radius: f64 },
}

fn reach(p: &Provider, n: &Need) -> Option<Reach> {
    if p.areas.iter().any(|a| n.path.starts_with(a.as_str())) {
        let home = p
            .home_path
            .as_deref()
            .is_some_and(|h| n.path.starts_with(h));
        return Some(if home { Reach::SameHome } else { Reach::Area });
    }
    if let (Some(r), Some(a), Some(b), Some(c), Some(d)) = (p.radius_m, p.lat, p.lng, n.lat, n.lng)
    {
        let metres = distance_m(a, b, c, d);
        if metres <= f64::from(r) {
            return Some(Reach::Radius {
                metres,
                radius: f64::from(r),
            });
        }
    }
    None
}

/// Scores one provider for one need, or `None` when it cannot take it at all: outside its
/// area, at capacity, or without any of the required skills.
pub fn score(p: &Provider, n: &Need, explain: bool) -> Option<(f64, Vec<ScorePart>)> {
    if p.load >= p.capacity {
        return None;
    }
    let required = n.required.count() + n.unknown_skills;
    let have = p.skills.intersect(n.required).count();
    if required > 0 && have == 0 {
        return None;
    }
    let reach = reach(p, n)?;
    let skill = if required == 0 {
        1.0
    } else {
        f64::from(have) / f64::from(required)
    };
    let place = match reach {
        Reach::SameHome => 1.0,
        Reach::Area => 0.8,
        Reach::Radius { metres, radius } => 0.8 - 0.5 * (metres / radius).min(1.0),
    };
    let free = available_at(&p.windows, n.at);
    let time = if free { 1.0 } else { 0.0 };
    let load = 1.0 - f64::from(p.load) / f64::from(p.capacity.max(1));
    let rating_mean = (f64::from(p.rating_sum) + RATING_PRIOR_MEAN * RATING_PRIOR_COUNT)
        / (f64::from(p.rating_count) + RATING_PRIOR_COUNT);
    let rating = (rating_mean / 5.0).clamp(0.0, 1.0);
    let fair = 1.0 / (1.0 + f64::from(p.recent));
    let total = W_SKILL * skill
        + W_PLACE * place
        + W_TIME * time
        + W_LOAD * load
        + W_RATING * rating
        + W_FAIR * fair;
    if !explain {
        return Some((total, Vec::new()));
    }
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let parts = vec![
        ScorePart {
            factor: "技能",
            points: round(W_SKILL * skill),
            max: W_SKILL,
            reason: if required == 0 {
                "该服务不要求特定技能".to_owned()
            } else {
                format!("具备所需技能 {have}/{required} 项")
            },
        },
        ScorePart {
            factor: "距离",
            points: round(W_PLACE * place),
            max: W_PLACE,
            reason: match reach {
                Reach::SameHome => "同一网格（小区）".to_owned(),
                Reach::Area => "在其服务范围内".to_owned(),
                Reach::Radius { metres, .. } => format!("相距约 {:.1} 公里", metres / 1000.0),
            },
        },
        ScorePart {
            factor: "时间",
            points: round(W_TIME * time),
            max: W_TIME,
            reason: if free {
                "预约时间在其服务时段内".to_owned()
            } else {
                "预约时间不在其服务时段内".to_owned()
            },
        },
        ScorePart {
            factor: "负荷",
            points: round(W_LOAD * load),
            max: W_LOAD,
            reason: format!("手头 {} 单，最多 {} 单", p.load, p.capacity),
        },
        ScorePart {
            factor: "评价",
            points: round(W_RATING * rating),
            max: W_RATING,
            reason: if p.rating_count == 0 {
                "暂无评价，按4星计".to_owned()
            } else {
                format!(
                    "{} 次评价，平均 {:.1} 星",
                    p.rating_count,
                    f64::from(p.rating_sum) / f64::from(p.rating_count)
                )
            },
        },
        ScorePart {
            factor: "轮换",
            points: round(W_FAIR * fair),
            max: W_FAIR,
            reason: format!("近30天已接 {} 单（少者优先，避免总派给同几个人）", p.recent),
        },
    ];
    Some((round(total), parts))
}

/// A candidate in the top-k heap: ordered so the heap's top is the *worst* kept.
#[derive(PartialEq)]
struct Kept {
    score: f64,
    recent: u32,
    idx: usize,
}

impl Eq for Kept {}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Better = higher score, then fewer recent orders, then earlier in the pool.
        other
            .score
            .total_cmp(&self.score)
            .then(self.recent.cmp(&other.recent))
            .then(self.idx.cmp(&other.idx))
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Size of a map cell for radius lookups, in degrees (about 5.5 km north–south).
const CELL_DEG: f64 = 0.05;

fn cell(lat: f64, lng: f64) -> (i32, i32) {
    (
        (lat / CELL_DEG).floor() as i32,
        (lng / CELL_DEG).floor() as i32,
    )
}

/// Providers indexed for matching.
#[derive(Debug, Default)]
pub struct Pool {
    pub providers: Vec<Provider>,
    pub vocab: SkillVocab,
    by_area: HashMap<String, Vec<usize>>,
    by_cell: HashMap<(i32, i32), Vec<usize>>,
    /// The largest radius in the pool, in cells, to bound the neighbourhood searched.
    max_radius_cells: i32,
}

impl Pool {
    /// Builds the indexes. Skills must have been interned through `vocab`.
    pub fn new(providers: Vec<Provider>, vocab: SkillVocab) -> Pool {
        let mut pool = Pool {
            providers,
            vocab,
            ..Pool::default()
        };
        pool.reindex();
        pool
    }

    /// Replaces changed providers (adding new ones; `None` removes one) and rebuilds the
    /// indexes: how a cached pool catches up with the resource list's change log.
    pub fn apply_changes(&mut self, changes: Vec<(Key<ProviderId>, Option<Provider>)>) {
        if changes.is_empty() {
            return;
        }
        let mut at: HashMap<Key<ProviderId>, usize> = self
            .providers
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key, i))
            .collect();
        let mut removed = Vec::new();
        for (key, new) in changes {
            match (at.get(&key).copied(), new) {
                (Some(i), Some(p)) => self.providers[i] = p,
                (Some(i), None) => removed.push(i),
                (None, Some(p)) => {
                    at.insert(key, self.providers.len());
                    self.providers.push(p);
                }
                (None, None) => {}
            }
        }
        removed.sort_unstable();
        for i in removed.into_iter().rev() {
            self.providers.swap_remove(i);
        }
        self.reindex();
    }

    /// Sets every provider's current load and recent-order count (which change with every
    /// order, so they are read fresh before each use of a cached pool).
    pub fn set_loads(&mut self, loads: impl Fn(Key<ProviderId>) -> (u32, u32)) {
        for p in &mut self.providers {
            (p.load, p.recent) = loads(p.key);
        }
    }

    fn reindex(&mut self) {
        let mut by_area: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_cell: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
        let mut max_radius_cells = 0;
        for (i, p) in self.providers.iter().enumerate() {
            for a in &p.areas {
                by_area.entry(a.clone()).or_default().push(i);
            }
            if let (Some(r), Some(lat), Some(lng)) = (p.radius_m, p.lat, p.lng) {
                by_cell.entry(cell(lat, lng)).or_default().push(i);
                let cells = (f64::from(r) / 111_000.0 / CELL_DEG).ceil() as i32;
                max_radius_cells = max_radius_cells.max(cells.min(20));
            }
        }
        self.by_area = by_area;
        self.by_cell = by_cell;
        self.max_radius_cells = max_radius_cells;
    }

    /// A need with its skills looked up in this pool's vocabulary.
    pub fn need<'a>(
        &self,
        skills: impl IntoIterator<Item = &'a str>,
        path: String,
        lat: Option<f64>,
        lng: Option<f64>,
        at: i64,
    ) -> Need {
        let (required, unknown_skills) = self.vocab.lookup(skills);
        Need {
            required,
            unknown_skills,
            path,
            lat,
            lng,
            at,
        }
    }

    /// Indexes of the providers that might reach the need (each once).
    fn reachable(&self, n: &Need, out: &mut Vec<usize>) {
        out.clear();
        // Every prefix of the need's path that ends at a segment boundary.
        for (i, _) in n.path.match_indices('/') {
            if let Some(v) = self.by_area.get(&n.path[..=i]) {
                out.extend_from_slice(v);
            }
        }
        if let (Some(lat), Some(lng)) = (n.lat, n.lng) {
            let (cy, cx) = cell(lat, lng);
            let k = self.max_radius_cells;
            for dy in -k..=k {
                for dx in -k..=k {
                    if let Some(v) = self.by_cell.get(&(cy + dy, cx + dx)) {
                        out.extend_from_slice(v);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// The best `k` candidates for a need, best first, each with its reasons.
    pub fn rank(&self, n: &Need, k: usize, exclude: &[Key<ProviderId>]) -> Vec<Ranked> {
        let mut idx = Vec::new();
        self.reachable(n, &mut idx);
        self.top_k(n, k, exclude, idx.into_iter())
    }

    /// The same ranking by scoring every provider in the pool: the plain alternative the
    /// index is measured against (and checked equal to in tests).
    pub fn rank_scan(&self, n: &Need, k: usize, exclude: &[Key<ProviderId>]) -> Vec<Ranked> {
        self.top_k(n, k, exclude, 0..self.providers.len())
    }

    fn top_k(
        &self,
        n: &Need,
        k: usize,
        exclude: &[Key<ProviderId>],
        candidates: impl Iterator<Item = usize>,
    ) -> Vec<Ranked> {
        if k == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Kept> = BinaryHeap::with_capacity(k + 1);
        for i in candidates {
            let p = &self.providers[i];
            if exclude.contains(&p.key) {
                continue;
            }
            let Some((s, _)) = score(p, n, false) else {
                continue;
            };
            let kept = Kept {
                score: s,
                recent: p.recent,
                idx: i,
            };
            if heap.len() < k {
                heap.push(kept);
            } else if heap.peek().is_some_and(|worst| kept < *worst) {
                heap.pop();
                heap.push(kept);
            }
        }
        let mut best = heap.into_sorted_vec();
        best.truncate(k);
        best.into_iter()
            .filter_map(|kept| {
                let p = &self.providers[kept.idx];
                score(p, n, true).map(|(score, parts)| Ranked {
                    key: p.key,
                    score,
                    parts,
                })
            })
            .collect()
    }

    /// Assigns each need to its best provider in turn (callers order the needs: most urgent
    /// and oldest first), counting each assignment against the provider's capacity and its
    /// fairness term so the next need sees the change. Returns, per need, the index of the
    /// chosen provider, or `None` when nobody can take it.
    pub fn assign(
        &mut self,
        needs: &[Need],
        exclude: &[Vec<Key<ProviderId>>],
    ) -> Vec<Option<usize>> {
        let mut out = Vec::with_capacity(needs.len());
        let mut idx = Vec::new();
        for (j, n) in needs.iter().enumerate() {
            self.reachable(n, &mut idx);
            let excl = exclude.get(j).map(Vec::as_slice).unwrap_or(&[]);
            let mut best: Option<Kept> = None;
            for &i in &idx {
                let p = &self.providers[i];
                if excl.contains(&p.key) {
                    continue;
                }
                let Some((s, _)) = score(p, n, false) else {
                    continue;
                };
                let kept = Kept {
                    score: s,
                    recent: p.recent,
                    idx: i,
                };
                if best.as_ref().is_none_or(|b| kept < *b) {
                    best = Some(kept);
                }
            }
            if let Some(b) = &best {
                let p = &mut self.providers[b.idx];
                p.load += 1;
                p.recent += 1;
            }
            out.push(best.map(|b| b.idx));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(id: i64) -> Key<ProviderId> {
        Key::from_parts(370830, id).unwrap()
    }

    const WED_NOON: i64 = 1_782_835_200_000_000 + 12 * 3_600_000_000;

    fn provider(vocab: &mut SkillVocab, id: i64, skills: &[&str], area: &str) -> Provider {
        Provider {
            key: pk(id),
            skills: vocab.set(skills.iter().copied()),
            areas: vec![area.to_owned()],
            home_path: None,
            lat: None,
            lng: None,
            radius_m: None,
            windows: Vec::new(),
            capacity: 3,
            load: 0,
            rating_sum: 0,
            rating_count: 0,
            recent: 0,
        }
    }

    const GRID_A: &str = "370830/370830001/370830001001/g1/";
    const GRID_B: &str = "370830/370830001/370830001001/g2/";
    const COMMUNITY: &str = "370830/370830001/370830001001/";

    #[test]
    fn skills_place_and_capacity_decide_who_can_take_it() {
        let mut v = SkillVocab::default();
        let mut cook = provider(&mut v, 1, &["做饭", "陪诊"], GRID_A);
        cook.home_path = Some(GRID_A.to_owned());
        let far = provider(&mut v, 2, &["做饭"], GRID_B);
        let community = provider(&mut v, 3, &["做饭"], COMMUNITY);
        let mut busy = provider(&mut v, 4, &["做饭"], GRID_A);
        busy.load = 3;
        let barber = provider(&mut v, 5, &["理发"], GRID_A);
        let pool = Pool::new(vec![cook, far, community, busy, barber], v);
        let need = pool.need(["做饭"], GRID_A.to_owned(), None, None, WED_NOON);
        let ranked = pool.rank(&need, 10, &[]);
        let ids: Vec<i64> = ranked.iter().map(|r| r.key.id.get()).collect();
        // Same grid first, then the community-wide provider; the other grid, the full one
        // and the barber are not candidates.
        assert_eq!(ids, vec![1, 3]);
        assert_eq!(ranked[0].parts[1].reason, "同一网格（小区）");
        assert!(ranked[0].score > ranked[1].score);
        let sum: f64 = ranked[0].parts.iter().map(|p| p.points).sum();
        assert!((sum - ranked[0].score).abs() < 0.5);
        assert_eq!(pool.rank_scan(&need, 10, &[]), ranked);
        assert_eq!(
            pool.rank(&need, 10, &[pk(1)])
                .iter()
                .map(|r| r.key.id.get())
                .collect::<Vec<_>>(),
            vec![3]
        );
    }

    #[test]
    fn unknown_required_skills_count_against_the_fit() {
        let mut v = SkillVocab::default();
        let p = provider(&mut v, 1, &["做饭"], GRID_A);
        let pool = Pool::new(vec![p], v);
        let need = pool.need(["做饭", "开锁"], GRID_A.to_owned(), None, None, WED_NOON);
        let r = pool.rank(&need, 1, &[]);
        assert_eq!(r[0].parts[0].reason, "具备所需技能 1/2 项");
        let need = pool.need(["开锁"], GRID_A.to_owned(), None, None, WED_NOON);
        assert!(pool.rank(&need, 1, &[]).is_empty());
    }

    #[test]
    fn radius_providers_are_found_by_distance() {
        let mut v = SkillVocab::default();
        let mut near = provider(&mut v, 1, &[], "370811/");
        near.areas.clear();
        (near.lat, near.lng, near.radius_m) = (Some(35.40), Some(116.59), Some(3000));
        let mut far = near.clone();
        far.key = pk(2);
        far.lat = Some(35.50);
        let pool = Pool::new(vec![near, far], v);
        let need = pool.need([], GRID_A.to_owned(), Some(35.41), Some(116.59), WED_NOON);
        let r = pool.rank(&need, 5, &[]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].key, pk(1));
        assert!(
            r[0].parts[1].reason.starts_with("相距约 1.1 公里"),
            "{:?}",
            r[0].parts[1]
        );
        assert!((distance_m(35.40, 116.59, 35.41, 116.59) - 1112.0).abs() < 5.0);
    }

    #[test]
    fn availability_rating_and_fairness_order_equals() {
        let mut v = SkillVocab::default();
        let mut off_duty = provider(&mut v, 1, &[], GRID_A);
        off_duty.windows = vec![WeeklyWindow::new(1, 480, 600).unwrap()];
        let mut well_rated = provider(&mut v, 2, &[], GRID_A);
        (well_rated.rating_sum, well_rated.rating_count) = (50, 10);
        let mut busy_lately = provider(&mut v, 3, &[], GRID_A);
        (busy_lately.rating_sum, busy_lately.rating_count) = (50, 10);
        busy_lately.recent = 9;
        let plain = provider(&mut v, 4, &[], GRID_A);
        let pool = Pool::new(vec![off_duty, well_rated, busy_lately, plain], v);
        let need = pool.need([], GRID_A.to_owned(), None, None, WED_NOON);
        let ids: Vec<i64> = pool
            .rank(&need, 4, &[])
            .iter()
            .map(|r| r.key.id.get())
            .collect();
        // Equal but for ratings: the better-rated first. Nine orders lately cost more than
        // a good rating earns, so the unrated newcomer comes before the busy one; the one
        // who is off duty at noon comes last.
        assert_eq!(ids, vec![2, 4, 3, 1]);
    }

    #[test]
    fn a_cached_pool_catches_up_with_changes() {
        let mut v = SkillVocab::default();
        let a = provider(&mut v, 1, &["做饭"], GRID_A);
        let b = provider(&mut v, 2, &["做饭"], GRID_B);
        let mut pool = Pool::new(vec![a, b], v);
        let need = pool.need(["做饭"], GRID_A.to_owned(), None, None, WED_NOON);
        assert_eq!(pool.rank(&need, 5, &[]).len(), 1);
        // 2 now serves grid A too; 1 leaves; 3 joins.
        let mut b2 = pool.providers[1].clone();
        b2.areas = vec![COMMUNITY.to_owned()];
        let mut c = pool.providers[0].clone();
        c.key = pk(3);
        pool.apply_changes(vec![(pk(2), Some(b2)), (pk(1), None), (pk(3), Some(c))]);
        let ids: Vec<i64> = pool
            .rank(&need, 5, &[])
            .iter()
            .map(|r| r.key.id.get())
            .collect();
        assert_eq!(ids, vec![3, 2]);
        pool.set_loads(|k| if k == pk(3) { (3, 0) } else { (0, 0) });
        let ids: Vec<i64> = pool
            .rank(&need, 5, &[])
            .iter()
            .map(|r| r.key.id.get())
            .collect();
        assert_eq!(ids, vec![2], "3 is at capacity");
    }

    #[test]
    fn batch_assignment_respects_capacity_and_spreads_work() {
        let mut v = SkillVocab::default();
        let a = provider(&mut v, 1, &[], GRID_A);
        let mut b = provider(&mut v, 2, &[], GRID_A);
        b.capacity = 1;
        let mut pool = Pool::new(vec![a, b], v);
        let needs: Vec<Need> = (0..6)
            .map(|_| pool.need([], GRID_A.to_owned(), None, None, WED_NOON))
            .collect();
        let got = pool.assign(&needs, &[]);
        let to = |i: Option<usize>| i.map(|i| pool.providers[i].key.id.get());
        let ids: Vec<Option<i64>> = got.iter().map(|g| to(*g)).collect();
        // Capacity 3 + 1: four assigned, two left for later; nobody above capacity.
        assert_eq!(ids.iter().filter(|i| i.is_some()).count(), 4);
        assert_eq!(ids.iter().filter(|i| **i == Some(2)).count(), 1);
        assert_eq!(ids[4..], [None, None]);
        assert!(pool.providers.iter().all(|p| p.load <= p.capacity));
        // Fairness: provider 2 gets one of the first two, not only what 1 cannot take.
        assert!(ids[..2].contains(&Some(2)), "{ids:?}");
    }
}
