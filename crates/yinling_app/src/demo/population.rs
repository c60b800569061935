//! The synthetic population: households and people drafted slot by slot, written in batches, with the stories' people placed where the walkthroughs expect them.

use super::*;

/// A role before ids: kind, unit (county, id, path), details, since.
type RoleDraft = (
    PersonRoleKind,
    Option<(i64, i64, String)>,
    RoleDetails,
    Option<NaiveDate>,
);

/// One synthetic person before ids are assigned.
struct Draft {
    name: String,
    gender: Gender,
    birth: NaiveDate,
    household: usize,
    roles: Vec<RoleDraft>,
    tags: Vec<&'static str>,
    skills: Vec<String>,
    phone: bool,
}

/// A household before ids: its place label, building/unit indices for urban homes.
struct HouseholdDraft {
    label: String,
    building: Option<(usize, usize)>,
    central: bool,
}

const BATCH_PEOPLE: usize = 5_000;

impl Builder<'_> {
    pub(super) async fn tag_defs(&mut self, tx: &mut Tx) -> AppResult<HashMap<&'static str, i64>> {
        let ids = self.ids(tx, Seq::TagDefs, DEMO_TAGS.len()).await?;
        let mut map = HashMap::new();
        for ((code, name, category, description), id) in DEMO_TAGS.iter().zip(ids) {
            store_tags::insert_def(
                &mut tx.exec(),
                &TagDefRow {
                    id: yinling_domain::ids::TagId(id),
                    code: (*code).to_owned(),
                    name: (*name).to_owned(),
                    category: (*category).to_owned(),
                    description: (*description).to_owned(),
                    archived: false,
                    created_at: self.now,
                    updated_at: self.now,
                },
            )
            .await?;
            map.insert(*code, id);
        }
        Ok(map)
    }

    /// Draws an age for a household member role.
    fn age(&mut self, lo: u32, hi: u32) -> u32 {
        // Triangular-ish: two uniform draws averaged, so middle ages are likelier.
        let a = self.rng.gen_range(lo..=hi);
        let b = self.rng.gen_range(lo..=hi);
        (a + b) / 2
    }

    fn birth(&mut self, age: u32, today: NaiveDate) -> NaiveDate {
        let year = today.year() - age as i32 - 1;
        let day = self.rng.gen_range(0..365);
        let d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today) + chrono::Duration::days(day);
        // Keep the exact age: birthday already passed this year when d + age years <= today.
        if d.with_year(d.year() + age as i32)
            .is_some_and(|x| x <= today)
        {
            d
        } else {
            d.with_year(year + 1).unwrap_or(d)
        }
    }

    /// Generates the people of one home slot.
    fn draft_slot(
        &mut self,
        slot: &HomeSlot,
        n: usize,
        today: NaiveDate,
        names: &mut SyntheticPeople,
    ) -> (Vec<HouseholdDraft>, Vec<Draft>) {
        let mut households = Vec::new();
        let mut people: Vec<Draft> = Vec::new();
        let mut remaining = n;
        let (mut building, mut unit, mut slot_in_unit) = (1usize, 1usize, 0usize);
        while remaining > 0 {
            let size = match self.rng.gen_range(0..100) {
                0..=21 => 1,
                22..=56 => 2,
                57..=79 => 3,
                80..=94 => 4,
                _ => 5,
            }
            .min(remaining);
            remaining -= size;
            let hh = households.len();
            let label = if slot.urban {
                slot_in_unit += 1;
                if slot_in_unit > 12 {
                    slot_in_unit = 1;
                    unit += 1;
                    if unit > 2 {
                        unit = 1;
                        building += 1;
                    }
                }
                let floor = slot_in_unit.div_ceil(2);
                let door = 2 - slot_in_unit % 2;
                format!("{building}号楼{unit}单元{floor}0{door}室")
            } else {
                format!("{}{}组{}号", slot.label_prefix, hh / 30 + 1, hh % 30 + 1)
            };
            households.push(HouseholdDraft {
                label,
                building: slot.urban.then_some((building, unit)),
                central: false,
            });
            let kind = self.rng.gen_range(0..100);
            let ages: Vec<u32> = match size {
                1 if kind < 65 => vec![self.age(60, 96)],
                1 => vec![self.age(20, 59)],
                2 if kind < 55 => {
                    let a = self.age(60, 92);
                    vec![a, a.saturating_sub(self.rng.gen_range(0..5)).max(58)]
                }
                2 => {
                    let a = self.age(25, 59);
                    vec![a, a.saturating_sub(self.rng.gen_range(0..4)).max(22)]
                }
                _ => {
                    let a = self.age(28, 55);
                    let mut v = vec![a, a.saturating_sub(self.rng.gen_range(0..4)).max(22)];
                    for _ in 2..size {
                        if v.len() == 4 && self.rng.gen_bool(0.5) {
                            v.push(self.age(62, 92));
                        } else {
                            v.push(self.rng.gen_range(0..=a.saturating_sub(22).max(1)));
                        }
                    }
                    v
                }
            };
            let head_gender = if self.rng.gen_bool(0.5) {
                Gender::Male
            } else {
                Gender::Female
            };
            for (i, age) in ages.into_iter().enumerate() {
                let gender = match i {
                    0 => head_gender,
                    1 if size >= 2 => {
                        if head_gender == Gender::Male {
                            Gender::Female
                        } else {
                            Gender::Male
                        }
                    }
                    _ => {
                        if self.rng.gen_bool(0.5) {
                            Gender::Male
                        } else {
                            Gender::Female
                        }
                    }
                };
                let birth = self.birth(age, today);
                let name = names.name(gender, birth.year());
                let mut d = Draft {
                    name,
                    gender,
                    birth,
                    household: hh,
                    roles: Vec::new(),
                    tags: Vec::new(),
                    skills: Vec::new(),
                    phone: age >= 16 && self.rng.gen_bool(if age >= 75 { 0.7 } else { 0.92 }),
                };
                self.assign_roles(slot, &mut d, age, size, today);
                people.push(d);
            }
        }
        (households, people)
    }

    fn assign_roles(
        &mut self,
        slot: &HomeSlot,
        d: &mut Draft,
        age: u32,
        household_size: usize,
        today: NaiveDate,
    ) {
        let branch = match (&slot.branch_id, &slot.branch_path) {
            (Some(id), Some(path)) => Some((slot.county, *id, path.clone())),
            (Some(id), None) => Some((slot.county, *id, slot.path.clone())),
            _ => None,
        };
        let retired = age >= 60 && self.rng.gen_bool(if slot.urban { 0.07 } else { 0.015 });
        if retired {
            let born = d.birth;
            let kind = if born.year() < 1932 {
                RetireKind::Lixiu
            } else {
                RetireKind::Tuixiu
            };
            let county_short = self
                .region_names
                .get(&slot.county.to_string())
                .map(|n| n.trim_end_matches(['县', '市', '区']).to_owned())
                .unwrap_or_default();
            let unit = FORMER_UNITS
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("教育局");
            let rank = FORMER_RANKS
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("科员");
            let retire_age = if d.gender == Gender::Male { 60 } else { 55 };
            d.roles.push((
                PersonRoleKind::RetiredCadre,
                None,
                RoleDetails {
                    retire_kind: Some(kind),
                    former_unit: Some(format!("{county_short}{unit}")),
                    former_rank: Some(rank.to_owned()),
                    retire_date: born.with_year(born.year() + retire_age),
                    ..RoleDetails::default()
                },
                None,
            ));
        }
        let party = age >= 18
            && (retired && self.rng.gen_bool(0.85)
                || self.rng.gen_bool(if age >= 60 { 0.12 } else { 0.08 }));
        if party {
            let join_age = self.rng.gen_range(18..=(age.min(45)));
            let join = d
                .birth
                .with_year(d.birth.year() + join_age as i32)
                .unwrap_or(d.birth);
            let unit = if retired {
                self.retired_branches
                    .get(&slot.county)
                    .and_then(|b| b.choose(&mut self.rng))
                    .map(|(id, p)| (slot.county, *id, p.clone()))
            } else {
                branch.clone()
            };
            d.roles.push((
                PersonRoleKind::PartyMember,
                unit,
                RoleDetails {
                    join_date: Some(join.min(today)),
                    ..RoleDetails::default()
                },
                Some(join.min(today)),
            ));
        }
        if (50..=80).contains(&age) && self.rng.gen_bool(if retired { 0.4 } else { 0.06 }) {
            let skills: Vec<String> = COMMON_SKILLS
                .choose_multiple(&mut self.rng, 2)
                .map(|s| (*s).to_owned())
                .collect();
            d.skills = skills;
            d.roles.push((
                PersonRoleKind::Volunteer,
                None,
                RoleDetails::default(),
                None,
            ));
            if retired {
                d.tags.push("yinfarencai");
            }
        }
        if age >= 80 {
            d.tags.push("gaoling");
            if self.rng.gen_bool(0.7) {
                d.tags.push("laonianjintie");
            }
        }
        if age >= 60 && household_size == 1 {
            d.tags.push("dujiu");
        }
        if age >= 60 && household_size == 2 && self.rng.gen_bool(0.3) {
            d.tags.push("kongchao");
        }
        if age >= 75 && self.rng.gen_bool(0.04) {
            d.tags.push("shineng");
        }
        if d.gender == Gender::Male && age >= 40 && self.rng.gen_bool(0.03) {
            d.tags.push("tuiyijunren");
        }
        if self.rng.gen_bool(0.02) {
            d.tags.push("canji");
        }
        if self.rng.gen_bool(0.015) {
            d.tags.push("dibao");
        }
        if retired && slot.county == 370811 && self.rng.gen_bool(0.5) {
            d.tags.push("loudongzhang");
        }
    }

    /// Generates and writes every person, household and role. Returns the number of places.
    pub(super) async fn people(
        &mut self,
        opts: &DemoOptions,
        tag_ids: &HashMap<&'static str, i64>,
        summary: &mut DemoSummary,
        progress: ProgressFn<'_>,
    ) -> AppResult<usize> {
        let today = self.app.clock().today();
        let mut names = SyntheticPeople::new(opts.seed ^ 0x5eed);
        let homes = std::mem::take(&mut self.homes);
        let counts = self.population_split(&homes, opts.people);
        let story_grid = homes
            .iter()
            .position(|h| h.urban && h.path.contains("/370830002006/"))
            .unwrap_or(0);
        let other_story_grid = homes
            .iter()
            .position(|h| {
                h.urban
                    && h.path.contains("/370830002006/")
                    && homes
                        .get(story_grid)
                        .is_some_and(|s| s.unit_id != h.unit_id)
            })
            .unwrap_or(0);
        let mut story = StoryPeople::default();
        if let Some(h) = homes.get(story_grid) {
            story.grid = Some((h.county, h.unit_id));
        }
        if let Some(h) = homes.get(other_story_grid) {
            story.other_grid = Some((h.county, h.unit_id));
        }
        story.community = self
            .community_units
            .get("370830002006")
            .map(|(c, id, _)| (*c, *id));
        let volunteer_teams = std::mem::take(&mut self.teams);
        let mut places_total = 0;
        let mut done = 0u64;
        let mut tx = self.app.store().begin().await?;
        let mut in_batch = 0usize;
        for (slot_index, slot) in homes.iter().enumerate() {
            let n = counts[slot_index];
            let (mut households, mut drafts) = self.draft_slot(slot, n, today, &mut names);
            if slot_index == story_grid {
                self.add_story_people(slot, today, &mut households, &mut drafts);
            }
            let quota = self
                .central_quota
                .get(&(slot.county, slot.unit_id))
                .copied()
                .unwrap_or(0);
            let centrals =
                self.pick_central_households(slot, quota, &mut households, &mut drafts, today);
            let written = self
                .write_slot(
                    &mut tx,
                    slot,
                    &households,
                    &drafts,
                    &centrals,
                    tag_ids,
                    &volunteer_teams,
                    slot_index == story_grid,
                    &mut story,
                    summary,
                )
                .await?;
            places_total += written;
            in_batch += drafts.len();
            done += drafts.len() as u64;
            if in_batch >= BATCH_PEOPLE {
                tx.commit().await?;
                progress("人员档案", done, opts.people as u64);
                tx = self.app.store().begin().await?;
                in_batch = 0;
            }
        }
        tx.commit().await?;
        progress("人员档案", done, opts.people as u64);
        self.story = story;
        Ok(places_total)
    }

    /// How many people live in each home. Grids that must hold central households get four
    /// people for each first (when the population allows), so the source's figures come out
    /// exactly; the rest is split by weight, largest remainder first, to total exactly `n`.
    fn population_split(&self, homes: &[HomeSlot], n: usize) -> Vec<usize> {
        let minimum: Vec<usize> = homes
            .iter()
            .map(|h| {
                let quota = self
                    .central_quota
                    .get(&(h.county, h.unit_id))
                    .copied()
                    .unwrap_or(0);
                if h.county == WENSHANG { 4 * quota } else { 0 }
            })
            .collect();
        let reserved: usize = minimum.iter().sum();
        let (mut counts, rest) = if reserved <= n {
            (minimum, n - reserved)
        } else {
            (vec![0; homes.len()], n)
        };
        let total_weight: u64 = homes
            .iter()
            .map(|h| u64::from(h.weight))
            .sum::<u64>()
            .max(1);
        let mut remainders: Vec<(u64, usize)> = Vec::with_capacity(homes.len());
        let mut given = 0;
        for (i, h) in homes.iter().enumerate() {
            let share = rest as u64 * u64::from(h.weight);
            let whole = (share / total_weight) as usize;
            counts[i] += whole;
            given += whole;
            remainders.push((share % total_weight, i));
        }
        // Ties (common when the population is small) go to a random home, not the last ones.
        let mut rng = StdRng::seed_from_u64(n as u64);
        let mut keyed: Vec<(u64, u32, usize)> = remainders
            .into_iter()
            .map(|(r, i)| (r, rng.r#gen(), i))
            .collect();
        keyed.sort_unstable_by(|a, b| b.cmp(a));
        let remainders: Vec<(u64, usize)> = keyed.into_iter().map(|(r, _, i)| (r, i)).collect();
        for (_, i) in remainders.into_iter().take(rest - given) {
            counts[i] += 1;
        }
        counts
    }

    pub(super) fn volunteer_teams(&self) -> HashMap<i64, Vec<(i64, String)>> {
        let mut m: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for u in &self.units {
            if u.kind == OrgKind::VolunteerTeam {
                m.entry(u.county_code.as_i64())
                    .or_default()
                    .push((u.id.get(), u.path.clone()));
            }
        }
        m
    }

    fn add_story_people(
        &mut self,
        slot: &HomeSlot,
        today: NaiveDate,
        households: &mut Vec<HouseholdDraft>,
        drafts: &mut Vec<Draft>,
    ) {
        let zhang_birth = NaiveDate::from_ymd_opt(today.year() - 82, 3, 15).unwrap_or(today);
        let li_birth = NaiveDate::from_ymd_opt(today.year() - 68, 9, 10).unwrap_or(today);
        households.push(HouseholdDraft {
            label: "1号楼1单元101室".into(),
            building: Some((1, 1)),
            central: false,
        });
        drafts.push(Draft {
            name: "张德顺".into(),
            gender: Gender::Male,
            birth: zhang_birth,
            household: households.len() - 1,
            roles: vec![(
                PersonRoleKind::Resident,
                Some((slot.county, slot.unit_id, slot.path.clone())),
                RoleDetails::default(),
                None,
            )],
            tags: vec!["gaoling", "dujiu"],
            skills: Vec::new(),
            phone: true,
        });
        households.push(HouseholdDraft {
            label: "1号楼2单元302室".into(),
            building: Some((1, 2)),
            central: false,
        });
        let join = NaiveDate::from_ymd_opt(1981, 7, 1).unwrap_or(today);
        drafts.push(Draft {
            name: "李秀兰".into(),
            gender: Gender::Female,
            birth: li_birth,
            household: households.len() - 1,
            roles: vec![
                (
                    PersonRoleKind::RetiredCadre,
                    None,
                    RoleDetails {
                        retire_kind: Some(RetireKind::Tuixiu),
                        former_unit: Some("汶上县第一实验小学".into()),
                        former_rank: Some("高级教师".into()),
                        retire_date: NaiveDate::from_ymd_opt(2013, 9, 10),
                        ..RoleDetails::default()
                    },
                    None,
                ),
                (
                    PersonRoleKind::PartyMember,
                    slot.branch_id
                        .zip(slot.branch_path.clone())
                        .map(|(id, p)| (slot.county, id, p)),
                    RoleDetails {
                        join_date: Some(join),
                        ..RoleDetails::default()
                    },
                    Some(join),
                ),
                (
                    PersonRoleKind::Volunteer,
                    None,
                    RoleDetails::default(),
                    None,
                ),
            ],
            tags: vec!["yinfarencai"],
            skills: vec!["助餐送餐".into(), "教育辅导".into()],
            phone: true,
        });
    }

    /// Chooses households to be central households (党员中心户): each is headed by a party
    /// member, converting an adult head into one where the grid has too few. Returns
    /// (household index, head draft index).
    fn pick_central_households(
        &mut self,
        slot: &HomeSlot,
        quota: usize,
        households: &mut [HouseholdDraft],
        drafts: &mut [Draft],
        today: NaiveDate,
    ) -> Vec<(usize, usize)> {
        let mut chosen = Vec::new();
        if quota == 0 {
            return chosen;
        }
        let mut heads: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, d) in drafts.iter().enumerate() {
            if seen.insert(d.household) && today.year() - d.birth.year() >= 22 {
                heads.push(i);
            }
        }
        heads.sort_by_key(|&i| {
            !drafts[i]
                .roles
                .iter()
                .any(|r| r.0 == PersonRoleKind::PartyMember)
        });
        // Only 汶上 must reach its figure; elsewhere only heads who are members qualify.
        let convert = slot.county == WENSHANG;
        for &i in heads.iter().take(quota) {
            let d = &mut drafts[i];
            let member = d.roles.iter().any(|r| r.0 == PersonRoleKind::PartyMember);
            if !member && !convert {
                break;
            }
            if !member {
                let join = d
                    .birth
                    .with_year(d.birth.year() + 25)
                    .unwrap_or(d.birth)
                    .min(today);
                d.roles.push((
                    PersonRoleKind::PartyMember,
                    slot.branch_id
                        .zip(slot.branch_path.clone())
                        .map(|(id, p)| (slot.county, id, p)),
                    RoleDetails {
                        join_date: Some(join),
                        ..RoleDetails::default()
                    },
                    Some(join),
                ));
            }
            households[d.household].central = true;
            chosen.push((d.household, i));
        }
        chosen
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the slot's drafts and the run's shared lookups"
    )]
    async fn write_slot(
        &mut self,
        tx: &mut Tx,
        slot: &HomeSlot,
        households: &[HouseholdDraft],
        drafts: &[Draft],
        centrals: &[(usize, usize)],
        tag_ids: &HashMap<&'static str, i64>,
        teams: &HashMap<i64, Vec<(i64, String)>>,
        is_story_grid: bool,
        story: &mut StoryPeople,
        summary: &mut DemoSummary,
    ) -> AppResult<usize> {
        let app = self.app;
        let vault = app.vault();
        // Buildings and units for urban homes, then households.
        let mut structure: Vec<(usize, usize)> =
            households.iter().filter_map(|h| h.building).collect();
        structure.sort_unstable();
        structure.dedup();
        let buildings: Vec<usize> = {
            let mut b: Vec<usize> = structure.iter().map(|s| s.0).collect();
            b.dedup();
            b
        };
        let place_ids = self
            .ids(
                tx,
                Seq::Places,
                buildings.len() + structure.len() + households.len(),
            )
            .await?;
        let mut next = place_ids.into_iter();
        let mut places = Vec::new();
        let mut building_ids = HashMap::new();
        let mut unit_ids = HashMap::new();
        let place_county = crate::kernel::key::stored_county(slot.county)?;
        let place =
            |id, kind: crate::org::PlaceKind, parent: Option<i64>, label: String| NewPlace {
                county_code: place_county,
                id: yinling_domain::ids::PlaceId(id),
                kind,
                parent_id: parent.map(yinling_domain::ids::PlaceId),
                unit_id: yinling_domain::ids::UnitId(slot.unit_id),
                path: slot.path.clone(),
                label,
                address: None,
                lat: None,
                lng: None,
                synthetic: true,
                now: self.now,
            };
        for b in &buildings {
            let id = next.next().unwrap_or_default();
            building_ids.insert(*b, id);
            places.push(place(
                id,
                crate::org::PlaceKind::Building,
                None,
                format!("{}{b}号楼", slot.label_prefix),
            ));
        }
        for (b, u) in &structure {
            let id = next.next().unwrap_or_default();
            unit_ids.insert((*b, *u), id);
            places.push(place(
                id,
                crate::org::PlaceKind::Unit,
                building_ids.get(b).copied(),
                format!("{b}号楼{u}单元"),
            ));
        }
        let mut household_ids = Vec::with_capacity(households.len());
        for h in households {
            let id = next.next().unwrap_or_default();
            household_ids.push(id);
            let parent = h.building.and_then(|bu| unit_ids.get(&bu).copied());
            places.push(place(
                id,
                crate::org::PlaceKind::Household,
                parent,
                h.label.clone(),
            ));
        }
        store_places::insert_many(&mut tx.exec(), &places).await?;

        let person_ids = self.ids(tx, Seq::People, drafts.len()).await?;
        let mut people = Vec::with_capacity(drafts.len());
        let mut roles = Vec::new();
        let mut tags = Vec::new();
        let mut skills = Vec::new();
        let grid_worker_index = if slot.urban {
            drafts.iter().position(|d| {
                (25..=50).contains(&(self.app.clock().today().year() - d.birth.year()))
            })
        } else {
            None
        };
        let county_code = yinling_domain::region::CountyCode::from_i64(slot.county)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let unit_county = |c: i64| {
            yinling_domain::region::CountyCode::from_i64(c)
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        for (i, (d, pid)) in drafts.iter().zip(&person_ids).enumerate() {
            let id_number = self.synthetic_id(slot, d);
            let phone = d.phone.then(|| self.unique_phone());
            let name = PersonName::parse(&d.name)
                .map_err(|e| AppError::Internal(format!("demo name {}: {e}", d.name)))?;
            people.push(NewPerson {
                county_code,
                id: yinling_domain::ids::PersonId(*pid),
                path: slot.path.clone(),
                home_unit_id: yinling_domain::ids::UnitId(slot.unit_id),
                household_id: household_ids
                    .get(d.household)
                    .copied()
                    .map(yinling_domain::ids::PlaceId),
                name: name.as_str().to_owned(),
                name_initials: name.initials(),
                name_pinyin: name.full_pinyin(),
                gender: d.gender,
                birth_date: d.birth.to_string(),
                id_enc: vault.seal(Field::IdNumber, &id_number),
                id_bidx: vault.blind_index(Field::IdNumber, &id_number),
                id4_bidx: vault.blind_index(Field::IdLast4, &id_number[14..]),
                phone_enc: phone.as_ref().map(|p| vault.seal(Field::Phone, p)),
                phone_bidx: phone.as_ref().map(|p| vault.blind_index(Field::Phone, p)),
                ethnicity: Some(pick_weighted(&mut self.rng, ETHNICITIES).to_owned()),
                education: Some(pick_weighted(&mut self.rng, EDUCATIONS).to_owned()),
                address: None,
                status: yinling_domain::person::PersonStatus::Active,
                note: None,
                synthetic: true,
                now: self.now,
            });
            let mut role_list = d.roles.clone();
            if grid_worker_index == Some(i) {
                role_list.push((
                    PersonRoleKind::GridWorker,
                    Some((slot.county, slot.unit_id, slot.path.clone())),
                    RoleDetails {
                        position: Some("专职网格员".into()),
                        ..RoleDetails::default()
                    },
                    None,
                ));
                if is_story_grid {
                    story.grid_worker = Some((slot.county, *pid));
                }
            }
            for (kind, unit, details, since) in role_list {
                let unit = match (kind, unit) {
                    (PersonRoleKind::Volunteer, None) => teams
                        .get(&slot.county)
                        .and_then(|t| t.first())
                        .map(|(id, p)| (slot.county, *id, p.clone())),
                    (_, u) => u,
                };
                match kind {
                    PersonRoleKind::PartyMember => summary.party_members += 1,
                    PersonRoleKind::RetiredCadre => summary.retired_cadres += 1,
                    PersonRoleKind::Volunteer => summary.volunteers += 1,
                    _ => {}
                }
                roles.push(NewRole {
                    county_code,
                    id: yinling_domain::ids::PersonRoleId(0),
                    person_id: yinling_domain::ids::PersonId(*pid),
                    kind,
                    unit_county_code: unit.as_ref().map(|u| unit_county(u.0)).transpose()?,
                    unit_id: unit.as_ref().map(|u| yinling_domain::ids::UnitId(u.1)),
                    path: unit.map(|u| u.2),
                    since: since.map(|d| d.to_string()),
                    details: serde_json::to_string(&details).unwrap_or_else(|_| "{}".into()),
                    now: self.now,
                });
            }
            for code in &d.tags {
                if let Some(tag_id) = tag_ids.get(code) {
                    tags.push(NewPersonTag {
                        county_code,
                        id: 0,
                        person_id: yinling_domain::ids::PersonId(*pid),
                        tag_id: yinling_domain::ids::TagId(*tag_id),
                        path: slot.path.clone(),
                        source: TagSource::System,
                        source_ref: Some("demo".into()),
                        set_by: None,
                        set_at: self.now,
                        valid_from: None,
                        valid_to: None,
                        note: None,
                    });
                }
            }
            for s in &d.skills {
                skills.push((county_code, yinling_domain::ids::PersonId(*pid), s.clone()));
            }
            if is_story_grid && d.name == "张德顺" {
                story.zhang = Some((slot.county, *pid));
            }
            if is_story_grid && d.name == "李秀兰" {
                story.li = Some((slot.county, *pid));
            }
        }
        store_people::insert_many(&mut tx.exec(), &people).await?;
        let role_ids = self.ids(tx, Seq::PersonRoles, roles.len()).await?;
        for (r, id) in roles.iter_mut().zip(role_ids) {
            r.id = yinling_domain::ids::PersonRoleId(id);
        }
        store_people::insert_roles(&mut tx.exec(), &roles).await?;
        let tag_row_ids = self.ids(tx, Seq::PersonTags, tags.len()).await?;
        for (t, id) in tags.iter_mut().zip(tag_row_ids) {
            t.id = id;
        }
        store_tags::insert_person_tags(&mut tx.exec(), &tags).await?;
        store_people::insert_skills(&mut tx.exec(), &skills).await?;
        // Central households become units under the grid, named after their heads.
        for (_, head) in centrals {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let head_name = drafts
                .get(*head)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            self.push_unit(
                id,
                slot.county,
                Some((slot.county, slot.unit_id, &slot.path.clone())),
                OrgKind::CentralHousehold,
                format!("{head_name}党员中心户"),
                None,
            );
        }
        summary.people += drafts.len();
        Ok(places.len())
    }

    fn synthetic_id(&mut self, slot: &HomeSlot, d: &Draft) -> String {
        // Most people were born in their county; some elsewhere in Shandong.
        let region = if self.rng.gen_bool(0.9) {
            slot.region6.clone()
        } else {
            [
                "370102", "370202", "370302", "370602", "370702", "370902", "371302", "371402",
            ]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("370102")
            .to_owned()
        };
        match self.ids_gen.id_number(&region, d.birth, d.gender) {
            Ok(id) => id.as_str().to_owned(),
            // The 500 serials of a region, day and sex are used up: fall back to the county.
            Err(_) => self
                .ids_gen
                .id_number(&slot.region6, d.birth, d.gender)
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    fn unique_phone(&mut self) -> String {
        self.ids_gen.mobile().as_str().to_owned()
    }
}
