//! Success rates per subtree, studio, team and cadre over a period.

use super::*;

impl Mediation<'_> {
    /// The period of a stats query: both ends included; by default the 365 days to today.
    pub fn stats_period(self, q: &StatsQuery) -> AppResult<Period> {
        let today = self.app.clock().today();
        let to = opt_day(&q.to, "to")?.unwrap_or(today);
        let from = opt_day(&q.from, "from")?.unwrap_or(Period::last_year(to).from);
        Period::new(from, to)
            .map_err(|e| AppError::invalid("invalid_period", "from", e.to_string()))
    }

    /// Success rates over a period: the subtree's total, each child unit, each studio, team
    /// and cadre. Every figure is one grouped query inside the caller's scope.
    #[tracing::instrument(name = "mediation.stats", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn stats(self, caller: &Caller, q: &StatsQuery) -> AppResult<MediationStats> {
        let period = self.stats_period(q)?;
        let (scope, unit) = self
            .scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let mut exec = self.app.store().read();
        // Without a unit, a caller with one area looks at that area.
        let unit = match unit {
            Some(u) => Some(u),
            None => match scope.ranges() {
                [only] => match only.path.county_code() {
                    Some(c) => store_org::get_by_path(&mut exec, c, only.path.as_str()).await?,
                    None => None,
                },
                _ => None,
            },
        };
        let (from, to) = (period.from.to_string(), period.to.to_string());
        let total = store::outcome_counts(&mut exec, &scope, &from, &to).await?;
        let (taken_in, open) = store::intake_and_open(&mut exec, &scope, &from, &to).await?;
        let children = match &unit {
            Some(u) => store_org::children(&mut exec, u)
                .await?
                .into_iter()
                .filter(|c| OrgKind::parse(c.kind.as_str()).is_some_and(OrgKind::is_area))
                .collect(),
            None => Vec::new(),
        };
        let buckets: Vec<(CountyCode, String)> = children
            .iter()
            .map(|c| Ok((c.county_code, c.path.clone())))
            .collect::<AppResult<_>>()?;
        let by_bucket =
            store::outcome_counts_by_subtree(&mut exec, &scope, &buckets, &from, &to).await?;
        let subtrees = children
            .into_iter()
            .zip(&buckets)
            .enumerate()
            .map(|(i, (c, (county_code, _)))| RateLine {
                kind_label: Some(c.kind).map_or("其他", OrgKind::label_zh),
                rate: by_bucket
                    .iter()
                    .find(|(b, _)| *b == i)
                    .map(|(_, n)| *n)
                    .unwrap_or_default()
                    .into(),
                county_code: *county_code,
                of: RateOf::Subtree(c.id),
                name: c.name,
                kind: c.kind.as_str().to_owned(),
            })
            .collect();
        let mut studios = Vec::new();
        let mut teams = Vec::new();
        let mut cadres = Vec::new();
        for m in store::outcome_counts_by_mediator(&mut exec, &scope, &from, &to).await? {
            let kind = m.mediator.kind();
            let line = RateLine {
                county_code: m.county_code,
                of: RateOf::Mediator(m.mediator),
                name: m.name,
                kind: kind.as_str().to_owned(),
                kind_label: kind.label_zh(),
                rate: m.counts.into(),
            };
            match m.mediator {
                Mediator::Studio(_) => studios.push(line),
                Mediator::Team(_) => teams.push(line),
                Mediator::Person(_) => cadres.push(line),
            }
        }
        Ok(MediationStats {
            from: period.from,
            to: period.to,
            unit: match unit {
                Some(u) => Some(StatsUnit {
                    county_code: u.county_code,
                    id: u.id,
                    name: u.name,
                }),
                None => None,
            },
            definition: RATE_DEFINITION,
            total: total.into(),
            taken_in,
            open,
            subtrees,
            studios,
            teams,
            cadres,
        })
    }
}
