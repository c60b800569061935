//! The organisation tree below the real divisions: committees, compound branches, grids, buildings, the county extras the source page names.

use super::*;

impl Builder<'_> {
    pub(super) async fn build_tree(&mut self, tx: &mut Tx, rows: &[RegionRow]) -> AppResult<()> {
        let (city_id, city_path) = self.root.clone();
        self.county_units
            .insert(CITY_COUNTY_CODE, (city_id, city_path.clone()));
        let bureau_id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
        self.push_unit(
            bureau_id,
            CITY_COUNTY_CODE,
            Some((CITY_COUNTY_CODE, city_id, &city_path)),
            OrgKind::VeteranBureau,
            "中共济宁市委老干部局".into(),
            None,
        );

        let counties: Vec<&RegionRow> = rows
            .iter()
            .filter(|r| r.level == yinling_domain::region::RegionLevel::County)
            .collect();
        for county in counties {
            let c: i64 = county.code.parse().unwrap_or_default();
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let cpath = self.push_unit(
                id,
                c,
                Some((CITY_COUNTY_CODE, city_id, &city_path)),
                OrgKind::County,
                format!("中共{}委组织部", county.name),
                Some(&county.code),
            );
            self.county_units.insert(c, (id, cpath.clone()));
            self.county_extras(tx, c, id, &cpath, &county.name).await?;
            // Functional zones have no statistical townships: give each one street of its own.
            let townships: Vec<&RegionRow> = rows
                .iter()
                .filter(|r| {
                    r.level == yinling_domain::region::RegionLevel::Township
                        && r.parent_code.as_deref() == Some(county.code.as_str())
                })
                .collect();
            for t in townships {
                let kind = if t.name.ends_with("街道") {
                    OrgKind::StreetCommittee
                } else {
                    OrgKind::TownshipCommittee
                };
                let tid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
                let tpath = self.push_unit(
                    tid,
                    c,
                    Some((c, id, &cpath)),
                    kind,
                    committee_name(&t.name, kind),
                    Some(&t.code),
                );
                let villages: Vec<&RegionRow> = rows
                    .iter()
                    .filter(|r| {
                        r.level == yinling_domain::region::RegionLevel::Village
                            && r.parent_code.as_deref() == Some(t.code.as_str())
                    })
                    .collect();
                for v in villages {
                    let community = is_community(&v.name);
                    let vkind = if community {
                        OrgKind::CommunityCommittee
                    } else {
                        OrgKind::VillageCommittee
                    };
                    let vid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
                    let vpath = self.push_unit(
                        vid,
                        c,
                        Some((c, tid, &tpath)),
                        vkind,
                        committee_name(&v.name, vkind),
                        Some(&v.code),
                    );
                    if community {
                        self.community_units.insert(v.code.clone(), (c, vid, vpath));
                    } else {
                        self.homes.push(HomeSlot {
                            county: c,
                            unit_id: vid,
                            path: vpath,
                            urban: false,
                            region6: county.code.clone(),
                            branch_id: Some(vid),
                            branch_path: None,
                            label_prefix: committee_name(&v.name, OrgKind::Other),
                            weight: 10,
                        });
                    }
                }
            }
        }
        self.build_communities(tx).await
    }

    /// The county's retired-cadre bureau, its branches, studios and teams.
    async fn county_extras(
        &mut self,
        tx: &mut Tx,
        c: i64,
        county_id: i64,
        cpath: &str,
        county_name: &str,
    ) -> AppResult<()> {
        let short = county_name.trim_end_matches(['县', '市', '区']);
        let bid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
        let bpath = self.push_unit(
            bid,
            c,
            Some((c, county_id, cpath)),
            OrgKind::VeteranBureau,
            format!("中共{county_name}委老干部局"),
            None,
        );
        let systems = [
            "教育系统",
            "卫健系统",
            "机关",
            "财政系统",
            "农业农村系统",
            "公安系统",
        ];
        let mut branches = Vec::new();
        for (i, s) in systems.iter().enumerate() {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let name = format!("{short}{s}离退休干部党支部");
            let p = self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::RetiredBranch,
                if i == 2 {
                    format!("{short}县直机关离退休干部第一党支部")
                } else {
                    name
                },
                None,
            );
            branches.push((id, p));
        }
        self.retired_branches.insert(c, branches);
        let studios: Vec<String> = match c {
            370811 => (1..=26)
                .map(|i| format!("任城区老干部工作室（{i}）"))
                .collect(),
            370881 => vec!["“和为贵”调解工作室".into(), "老干部心理关爱工作室".into()],
            370826 => vec![
                "“微爱晚霞红”老干部工作室".into(),
                "“老幼矛盾调解”工作室".into(),
            ],
            _ => vec![format!("{short}老干部工作室")],
        };
        for s in studios {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            self.push_unit(id, c, Some((c, bid, &bpath)), OrgKind::CadreStudio, s, None);
        }
        let teams: Vec<String> = match c {
            370827 => [
                "“本色家园·稻花香”志愿服务队",
                "政策宣讲队",
                "文化惠民队",
                "农技服务队",
                "矛盾调解队",
                "关爱帮扶队",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            370830 => {
                let colours = ["红", "橙", "黄", "绿", "蓝"];
                (1..=63)
                    .map(|i| {
                        format!(
                            "“五色一彩”{}色志愿服务队（{i}）",
                            colours[i % colours.len()]
                        )
                    })
                    .collect()
            }
            370811 => vec!["“红袖章”爷爷奶奶护学队".into(), "老干部红色宣讲团".into()],
            _ => vec![format!("{short}银龄志愿服务队")],
        };
        for t in teams {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::VolunteerTeam,
                t,
                None,
            );
        }
        Ok(())
    }

    /// Compound branches, grids, central households, spots and stations in every urban
    /// community; 汶上's figures exactly.
    async fn build_communities(&mut self, tx: &mut Tx) -> AppResult<()> {
        let mut communities: Vec<(String, (i64, i64, String))> =
            self.community_units.clone().into_iter().collect();
        communities.sort_by(|a, b| a.0.cmp(&b.0));
        let wenshang: Vec<_> = communities
            .iter()
            .filter(|(code, _)| code.starts_with("370830"))
            .cloned()
            .collect();
        let n = wenshang.len().max(1);
        let branches_per = spread(96, n);
        let grids_total = spread(270, 96);
        let central_total = spread(2619, 270);
        let spots = spread(44, 96);
        let stations = spread(126, 96);
        let mut branch_no = 0;
        let mut grid_no = 0;
        for (i, (code, (c, cid, cpath))) in wenshang.iter().enumerate() {
            for _ in 0..branches_per[i] {
                let b = branch_no;
                branch_no += 1;
                self.compound(
                    tx,
                    code,
                    *c,
                    *cid,
                    cpath,
                    grids_total[b],
                    &central_total[grid_no..grid_no + grids_total[b]],
                    spots[b],
                    stations[b],
                )
                .await?;
                grid_no += grids_total[b];
            }
        }
        for (code, (c, cid, cpath)) in communities
            .iter()
            .filter(|(code, _)| !code.starts_with("370830"))
        {
            let branches = self.rng.gen_range(2..=3);
            for _ in 0..branches {
                let grids = self.rng.gen_range(2..=3);
                // Elsewhere a grid has a few central households, led by members who live there.
                let centrals: Vec<usize> = (0..grids).map(|_| self.rng.gen_range(0..=2)).collect();
                self.compound(tx, code, *c, *cid, cpath, grids, &centrals, 0, 0)
                    .await?;
            }
        }
        Ok(())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per figure set; a struct would only rename them"
    )]
    async fn compound(
        &mut self,
        tx: &mut Tx,
        community_code: &str,
        c: i64,
        community_id: i64,
        cpath: &str,
        grids: usize,
        centrals: &[usize],
        spots: usize,
        stations: usize,
    ) -> AppResult<()> {
        let first = COMPOUND_FIRST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("阳光");
        let second = COMPOUND_SECOND
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("小区");
        let compound = format!("{first}{second}");
        let bid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
        let bpath = self.push_unit(
            bid,
            c,
            Some((c, community_id, cpath)),
            OrgKind::CompoundBranch,
            format!("{compound}党支部"),
            None,
        );
        for s in 0..spots {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let name = if s % 2 == 0 {
                format!("{compound}聚邻廊")
            } else {
                format!("{compound}议事亭")
            };
            self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::DeliberationSpot,
                name,
                None,
            );
        }
        for s in 0..stations {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let suffix = if s == 0 {
                String::new()
            } else {
                format!("（{}）", s + 1)
            };
            self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::Station,
                format!("{compound}红帆驿站{suffix}"),
                None,
            );
        }
        let community_name = self
            .region_names
            .get(community_code)
            .cloned()
            .unwrap_or_default();
        let community_short = committee_name(&community_name, OrgKind::Other);
        for g in 0..grids {
            let gid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let gpath = self.push_unit(
                gid,
                c,
                Some((c, bid, &bpath)),
                OrgKind::GridPartyGroup,
                format!("{compound}第{}网格党小组", g + 1),
                None,
            );
            self.grids.push((c, gid));
            // Central households get their names once their heads exist (see `people`).
            self.central_quota
                .insert((c, gid), centrals.get(g).copied().unwrap_or(0));
            self.homes.push(HomeSlot {
                county: c,
                unit_id: gid,
                path: gpath,
                urban: true,
                region6: community_code[..6].to_owned(),
                branch_id: Some(bid),
                branch_path: Some(bpath.clone()),
                label_prefix: format!("{community_short}{compound}"),
                weight: if c == 370830 { 150 } else { 40 },
            });
        }
        Ok(())
    }
}
