//! Accounts and sessions: lockout, idle sessions, initial passwords and the policy,
//! administration by rank, one read per authenticated request.

use yinling_app::testing::{assert_forbidden, assert_not_found};
use yinling_app::{
    AppError, PageRequest,
    kernel::clock::MINUTE,
    testing::{PASSWORD, TestCity},
};

#[tokio::test]
async fn lockout_after_five_failures_for_fifteen_minutes() {
    let city = TestCity::new().await;
    let unknown = city
        .app
        .accounts()
        .login("nobody", "x", None, None)
        .await
        .unwrap_err()
        .to_string();
    for _ in 1..=4 {
        let err = city
            .app
            .accounts()
            .login("workera", "wrong-password", None, None)
            .await
            .unwrap_err();
        // Exactly what an unknown username gets: the message does not reveal who exists.
        assert_eq!(err.to_string(), unknown);
        assert!(
            unknown.contains("用户名或密码不正确") && unknown.contains("锁定15分钟"),
            "{unknown}"
        );
    }
    let err = city
        .app
        .accounts()
        .login("workera", "wrong-password", None, None)
        .await
        .unwrap_err();
    // The fifth failure says the account is now locked — not the generic words, which also
    // mention 锁定 (as a warning).
    assert_ne!(err.to_string(), unknown);
    assert_eq!(err.to_string(), "连续输错密码5次，账号已锁定15分钟");
    // Even the right password is refused while locked, with the locked message.
    let err = city
        .app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap_err();
    assert_ne!(err.to_string(), unknown);
    assert!(
        err.to_string()
            .starts_with("连续输错密码次数过多，账号已锁定，请于"),
        "{err}"
    );
    city.clock.advance(14 * MINUTE);
    let err = city
        .app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("账号已锁定，请于"), "{err}");
    city.clock.advance(2 * MINUTE);
    // After the lock runs out, one more mistake does not lock again at once.
    let err = city
        .app
        .accounts()
        .login("workera", "wrong-password", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), unknown);
    city.app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .expect("unlocked after 15 minutes");
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_but_not_while_used() {
    let city = TestCity::new().await;
    let s = city
        .app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap();
    for _ in 0..4 {
        city.clock.advance(20 * MINUTE);
        city.app
            .accounts()
            .authenticate(&s.token, None)
            .await
            .expect("still active");
    }
    city.clock.advance(31 * MINUTE);
    let err = city
        .app
        .accounts()
        .authenticate(&s.token, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SessionExpired));
    assert!(matches!(
        city.app
            .accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap_err(),
        AppError::Unauthenticated
    ));
}

#[tokio::test]
async fn initial_passwords_must_be_changed_and_follow_the_policy() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    city.app
        .accounts()
        .create(
            &admin,
            yinling_app::accounts::NewAccountInput {
                display_name: "新网格员".into(),
                password: "Initial-Pass-1".into(),
                must_change_password: true,
                ..yinling_app::testing::account(
                    "NewWorker",
                    yinling_domain::role::Role::GridWorker,
                    (city.grid_a.county_code.as_i64(), city.grid_a.id.get()),
                )
            },
        )
        .await
        .unwrap();
    let s = city
        .app
        .accounts()
        .login("newworker", "Initial-Pass-1", None, None)
        .await
        .unwrap();
    assert!(s.must_change_password);
    let session = city
        .app
        .accounts()
        .authenticate(&s.token, None)
        .await
        .unwrap();
    assert!(session.must_change_password);
    // Eight characters of all four classes: it breaks the length rule and nothing else.
    let weak = city
        .app
        .accounts()
        .change_password(&session.caller, &s.token, "Initial-Pass-1", "Sh0rt!pw")
        .await
        .unwrap_err();
    assert!(
        matches!(
            weak,
            AppError::Invalid {
                code: "weak_password",
                ..
            }
        ),
        "{weak:?}"
    );
    assert!(weak.to_string().contains("至少需要10位"), "{weak}");
    let wrong = city
        .app
        .accounts()
        .change_password(&session.caller, &s.token, "nope", "Another-Pass-22")
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("当前密码不正确"));
    city.app
        .accounts()
        .change_password(
            &session.caller,
            &s.token,
            "Initial-Pass-1",
            "Another-Pass-22",
        )
        .await
        .unwrap();
    assert!(
        !city
            .app
            .accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .must_change_password
    );
    // A grid worker cannot create a county administrator.
    let worker = city.caller("workera").await;
    let err = city
        .app
        .accounts()
        .create(
            &worker,
            yinling_app::accounts::NewAccountInput {
                display_name: "某".into(),
                password: "Initial-Pass-1".into(),
                must_change_password: true,
                ..yinling_app::testing::account(
                    "sneaky",
                    yinling_domain::role::Role::CountyAdmin,
                    (city.county.county_code.as_i64(), city.county.id.get()),
                )
            },
        )
        .await
        .unwrap_err();
    assert_forbidden(&err);
    // Nor can a community secretary grant a role above their own.
    let secretary = city.caller("secretary").await;
    let err = city
        .app
        .accounts()
        .add_grant(
            &secretary,
            session.caller.account_id.unwrap(),
            yinling_domain::role::Role::CountyAdmin,
            city.county.county_code.as_i64(),
            city.county.id.get(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::NotFound { .. } | AppError::Forbidden { .. }),
        "{err:?}"
    );
}

// ==== Account administration respects rank (issue 9, item 1) ==============================
//
// Whom a managing role administers: every grant of the target inside the caller's
// ManageUsers scope and of a lower rank (city administrators administer one another). The
// expectations are written out by hand below, not computed by the rule under test.

mod account_rank {
    use super::*;
    use yinling_app::{Caller, org::NewUnitInput};
    use yinling_domain::{org::OrgKind, role::Role};
    use yinling_store::org::OrgUnitRow;

    /// The managers, in the order of the columns of [`TARGETS`].
    const MANAGERS: [&str; 4] = ["cityadmin", "countyadmin", "streetsec", "secretary"];

    /// Target accounts, where their grants lie, and whether each manager (city administrator,
    /// 汶上 county administrator, 汶上街道 secretary, 东门社区 secretary) administers them.
    const TARGETS: [(&str, &str, [bool; 4]); 16] = [
        (
            "t_city",
            "another city administrator (level for the city)",
            [true, false, false, false],
        ),
        (
            "t_county_vol",
            "county administrator of 汶上 volunteering in 东门 (the observed takeover)",
            [true, false, false, false],
        ),
        (
            "t_county",
            "county administrator of 汶上 (level for the county)",
            [true, false, false, false],
        ),
        (
            "t_county2",
            "county administrator of 曲阜 (another county)",
            [true, false, false, false],
        ),
        (
            "t_street",
            "secretary of 汶上街道 (level for the street)",
            [true, true, false, false],
        ),
        (
            "t_street2",
            "secretary of another street of 汶上",
            [true, true, false, false],
        ),
        (
            "t_comm",
            "secretary of 东门社区 (level for the community)",
            [true, true, true, false],
        ),
        (
            "t_comm2",
            "secretary of another community of 汶上街道",
            [true, true, true, false],
        ),
        (
            "t_grid_comm",
            "grid worker in 东门 and also its secretary (straddles by rank)",
            [true, true, true, false],
        ),
        (
            "t_worker",
            "grid worker of grid A",
            [true, true, true, true],
        ),
        ("t_vol", "volunteer in 东门", [true, true, true, true]),
        (
            "t_vol_comm2",
            "volunteer in 东门 and in the other community",
            [true, true, true, false],
        ),
        (
            "t_vol_street2",
            "volunteer in grid B and in the other street",
            [true, true, false, false],
        ),
        (
            "t_vol_county2",
            "volunteer in 东门 and in 曲阜 (straddles counties)",
            [true, false, false, false],
        ),
        (
            "t_vol_out",
            "volunteer in 曲阜 only",
            [true, false, false, false],
        ),
        (
            "t_nogrant",
            "an account without any role",
            [true, false, false, false],
        ),
    ];

    const NEW_PASSWORD: &str = "Reset-Pass-2026";

    async fn unit(
        city: &TestCity,
        parent: &OrgUnitRow,
        kind: OrgKind,
        name: &str,
        region: Option<&str>,
    ) -> OrgUnitRow {
        city.app
            .org()
            .create_unit(
                &city.system,
                yinling_domain::ids::Key::new(parent.county_code, parent.id),
                NewUnitInput {
                    region_code: region.map(str::to_owned),
                    ..yinling_app::testing::unit(kind, name)
                },
            )
            .await
            .unwrap()
    }

    /// Creates `username` with the grants given (by the command line).
    async fn account(city: &TestCity, username: &str, grants: &[(Role, &OrgUnitRow)]) -> i64 {
        let (first, rest) = grants.split_first().expect("at least one grant");
        let id = city
            .app
            .accounts()
            .create(
                &city.system,
                yinling_app::testing::account(
                    username,
                    first.0,
                    (first.1.county_code.as_i64(), first.1.id.get()),
                ),
            )
            .await
            .unwrap();
        for (role, u) in rest {
            city.app
                .accounts()
                .add_grant(&city.system, id, *role, u.county_code.as_i64(), u.id.get())
                .await
                .unwrap();
        }
        id
    }

    struct World {
        city: TestCity,
        /// Target usernames → account ids, in the order of [`TARGETS`].
        targets: Vec<(String, i64)>,
    }

    async fn world() -> World {
        let city = TestCity::new().await;
        let root = city
            .app
            .org()
            .find_unit(
                &city.system,
                yinling_domain::ids::Key::new(
                    city.county.parent_county_code.unwrap(),
                    city.county.parent_id.unwrap(),
                ),
            )
            .await
            .unwrap();
        let county2 = unit(
            &city,
            &root,
            OrgKind::County,
            "中共曲阜市委组织部",
            Some("370881"),
        )
        .await;
        let street2 = unit(
            &city,
            &city.county,
            OrgKind::StreetCommittee,
            "南站街道党工委",
            None,
        )
        .await;
        let community2 = unit(
            &city,
            &city.street,
            OrgKind::CommunityCommittee,
            "北门社区党委",
            None,
        )
        .await;
        account(&city, "streetsec", &[(Role::StreetSecretary, &city.street)]).await;
        use Role::*;
        let (county, street, community) = (&city.county, &city.street, &city.community);
        let (grid_a, grid_b) = (&city.grid_a, &city.grid_b);
        let grants: Vec<(&str, Vec<(Role, &OrgUnitRow)>)> = vec![
            ("t_city", vec![(CityAdmin, &root)]),
            (
                "t_county_vol",
                vec![(CountyAdmin, county), (Volunteer, community)],
            ),
            ("t_county", vec![(CountyAdmin, county)]),
            ("t_county2", vec![(CountyAdmin, &county2)]),
            ("t_street", vec![(StreetSecretary, street)]),
            ("t_street2", vec![(StreetSecretary, &street2)]),
            ("t_comm", vec![(CommunitySecretary, community)]),
            ("t_comm2", vec![(CommunitySecretary, &community2)]),
            (
                "t_grid_comm",
                vec![(GridWorker, grid_a), (CommunitySecretary, community)],
            ),
            ("t_worker", vec![(GridWorker, grid_a)]),
            ("t_vol", vec![(Volunteer, community)]),
            (
                "t_vol_comm2",
                vec![(Volunteer, community), (Volunteer, &community2)],
            ),
            (
                "t_vol_street2",
                vec![(Volunteer, grid_b), (Volunteer, &street2)],
            ),
            (
                "t_vol_county2",
                vec![(Volunteer, community), (Volunteer, &county2)],
            ),
            ("t_vol_out", vec![(Volunteer, &county2)]),
            ("t_nogrant", vec![(Volunteer, community)]),
        ];
        let mut targets = Vec::new();
        for ((name, g), (expected_name, _, _)) in grants.iter().zip(TARGETS) {
            assert_eq!(*name, expected_name);
            targets.push((name.to_string(), account(&city, name, g).await));
        }
        // The role-less account: its only grant revoked.
        let id = targets.last().unwrap().1;
        let view = city.app.accounts().get(&city.system, id).await.unwrap();
        city.app
            .accounts()
            .remove_grant(&city.system, id, view.grants[0].id)
            .await
            .unwrap();
        World { city, targets }
    }

    async fn refusals(city: &TestCity) -> i64 {
        city.app
            .store()
            .read()
            .scalar::<i64>(yinling_store::q!(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.refused'"
            ))
            .await
            .unwrap()
    }

    async fn grant_count(city: &TestCity, id: i64) -> i64 {
        city.app
            .store()
            .read()
            .scalar::<i64>(yinling_store::q!(
                "SELECT COUNT(*) FROM grants WHERE account_id = $1",
                id
            ))
            .await
            .unwrap()
    }

    async fn lock(city: &TestCity, id: i64) -> i64 {
        let until = city.app.now() + 15 * MINUTE;
        city.app
            .store()
            .write()
            .execute(yinling_store::q!(
                "UPDATE accounts SET failed_logins = 5, locked_until = $2 WHERE id = $1",
                id,
                until
            ))
            .await
            .unwrap();
        until
    }

    async fn listed(city: &TestCity, caller: &Caller) -> Vec<String> {
        let page = city
            .app
            .accounts()
            .list(caller, PageRequest::new(Some(1), Some(200)))
            .await
            .unwrap();
        assert_eq!(page.total, page.items.len() as i64);
        page.items.into_iter().map(|a| a.username).collect()
    }

    #[tokio::test]
    async fn each_managing_role_administers_exactly_the_accounts_below_it_in_its_subtree() {
        let World { city, targets } = world().await;
        let missing = i64::MAX / 2;
        for (col, manager) in MANAGERS.into_iter().enumerate() {
            let caller = city.caller(manager).await;
            let not_found = city
                .app
                .accounts()
                .get(&caller, missing)
                .await
                .unwrap_err()
                .to_string();
            let list = listed(&city, &caller).await;
            for ((username, id), (_, what, may)) in targets.iter().zip(TARGETS) {
                let id = *id;
                let may = may[col];
                let ctx = format!("{manager} → {username} ({what})");
                // View and list.
                let view = city.app.accounts().get(&caller, id).await;
                assert_eq!(view.is_ok(), may, "view: {ctx}");
                if let Err(e) = &view {
                    assert_eq!(e.to_string(), not_found, "like a missing account: {ctx}");
                }
                assert_eq!(list.contains(username), may, "list: {ctx}");

                // Reset the password, which also unlocks.
                let until = lock(&city, id).await;
                let before = city.app.accounts().by_id(id).await.unwrap().unwrap();
                let refused = refusals(&city).await;
                let r = city
                    .app
                    .accounts()
                    .reset_password(&caller, id, NEW_PASSWORD, false)
                    .await;
                let after = city.app.accounts().by_id(id).await.unwrap().unwrap();
                if may {
                    r.unwrap_or_else(|e| panic!("reset: {ctx}: {e}"));
                    assert_ne!(after.password_hash, before.password_hash, "{ctx}");
                    assert_eq!(after.locked_until, None, "unlocked: {ctx}");
                    assert_eq!(refusals(&city).await, refused, "{ctx}");
                } else {
                    let e = r.unwrap_err();
                    assert_eq!(e.to_string(), not_found, "reset: {ctx}");
                    assert_eq!(after.password_hash, before.password_hash, "{ctx}");
                    assert_eq!(after.locked_until, Some(until), "still locked: {ctx}");
                    assert_eq!(refusals(&city).await, refused + 1, "audited: {ctx}");
                }

                // Disable and enable.
                let refused = refusals(&city).await;
                let r = city.app.accounts().set_disabled(&caller, id, true).await;
                let disabled = city
                    .app
                    .accounts()
                    .by_id(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .disabled;
                if may {
                    r.unwrap_or_else(|e| panic!("disable: {ctx}: {e}"));
                    assert!(disabled, "{ctx}");
                    city.app
                        .accounts()
                        .set_disabled(&caller, id, false)
                        .await
                        .unwrap_or_else(|e| panic!("enable: {ctx}: {e}"));
                    assert!(
                        !city
                            .app
                            .accounts()
                            .by_id(id)
                            .await
                            .unwrap()
                            .unwrap()
                            .disabled
                    );
                    assert_eq!(refusals(&city).await, refused, "{ctx}");
                } else {
                    assert_eq!(r.unwrap_err().to_string(), not_found, "disable: {ctx}");
                    assert!(!disabled, "{ctx}");
                    city.app
                        .accounts()
                        .set_disabled(&city.system, id, true)
                        .await
                        .unwrap();
                    let e = city
                        .app
                        .accounts()
                        .set_disabled(&caller, id, false)
                        .await
                        .unwrap_err();
                    assert_eq!(e.to_string(), not_found, "enable: {ctx}");
                    assert!(
                        city.app
                            .accounts()
                            .by_id(id)
                            .await
                            .unwrap()
                            .unwrap()
                            .disabled
                    );
                    city.app
                        .accounts()
                        .set_disabled(&city.system, id, false)
                        .await
                        .unwrap();
                    assert_eq!(refusals(&city).await, refused + 2, "audited: {ctx}");
                }

                // Grant a volunteer role on grid A (inside every manager's scope, below every
                // manager's rank), and revoke.
                let grants = grant_count(&city, id).await;
                let refused = refusals(&city).await;
                let (gc, gu) = (city.grid_a.county_code.as_i64(), city.grid_a.id.get());
                let r = city
                    .app
                    .accounts()
                    .add_grant(&caller, id, Role::Volunteer, gc, gu)
                    .await;
                if may {
                    let grant = r.unwrap_or_else(|e| panic!("grant: {ctx}: {e}"));
                    assert_eq!(grant_count(&city, id).await, grants + 1, "{ctx}");
                    city.app
                        .accounts()
                        .remove_grant(&caller, id, grant)
                        .await
                        .unwrap_or_else(|e| panic!("revoke: {ctx}: {e}"));
                    assert_eq!(grant_count(&city, id).await, grants, "{ctx}");
                    assert_eq!(refusals(&city).await, refused, "{ctx}");
                } else {
                    assert_eq!(r.unwrap_err().to_string(), not_found, "grant: {ctx}");
                    assert_eq!(grant_count(&city, id).await, grants, "{ctx}");
                    let existing = city
                        .app
                        .accounts()
                        .get(&city.system, id)
                        .await
                        .unwrap()
                        .grants
                        .first()
                        .map_or(missing, |g| g.id);
                    let e = city
                        .app
                        .accounts()
                        .remove_grant(&caller, id, existing)
                        .await
                        .unwrap_err();
                    assert_eq!(e.to_string(), not_found, "revoke: {ctx}");
                    assert_eq!(grant_count(&city, id).await, grants, "{ctx}");
                    assert_eq!(refusals(&city).await, refused + 2, "audited: {ctx}");
                }
            }
            // The list and the single view agree on every account there is, the fixture's
            // own included, and paging walks the same set.
            let all: Vec<(i64, String)> = city
                .app
                .store()
                .read()
                .fetch_all::<(i64, String)>(yinling_store::q!(
                    "SELECT id, username FROM accounts ORDER BY username"
                ))
                .await
                .unwrap();
            for (id, username) in &all {
                let viewable = city.app.accounts().get(&caller, *id).await.is_ok();
                assert_eq!(
                    list.contains(username),
                    viewable,
                    "{manager}: list and view disagree on {username}"
                );
            }
            let mut paged = Vec::new();
            for page in 1.. {
                let p = city
                    .app
                    .accounts()
                    .list(&caller, PageRequest::new(Some(page), Some(3)))
                    .await
                    .unwrap();
                assert_eq!(p.total, list.len() as i64, "{manager}");
                if p.items.is_empty() {
                    break;
                }
                paged.extend(p.items.into_iter().map(|a| a.username));
            }
            assert_eq!(paged, list, "{manager}");
        }
        // The command line administers everyone, the role-less account included.
        let (_, nogrant) = targets.last().unwrap();
        city.app
            .accounts()
            .reset_password(&city.system, *nogrant, NEW_PASSWORD, false)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn own_account_and_roles_above_ones_own_are_refused_and_audited() {
        let World { city, targets } = world().await;
        let id_of = |name: &str| targets.iter().find(|(n, _)| n == name).unwrap().1;
        // Below the city, nobody administers their own account through these paths (their
        // grant is of their own rank); the city administrator sees theirs but may not reset
        // their own password there, disable it or revoke their only role.
        for manager in ["countyadmin", "streetsec", "secretary"] {
            let caller = city.caller(manager).await;
            let me = caller.account_id.unwrap();
            let e = city.app.accounts().get(&caller, me).await.unwrap_err();
            assert!(matches!(e, AppError::NotFound { .. }), "{manager}: {e:?}");
        }
        let admin = city.caller("cityadmin").await;
        let me = admin.account_id.unwrap();
        city.app.accounts().get(&admin, me).await.unwrap();
        let before = city.app.accounts().by_id(me).await.unwrap().unwrap();
        let refused = refusals(&city).await;
        let e = city
            .app
            .accounts()
            .reset_password(&admin, me, NEW_PASSWORD, false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("我的账号"), "{e}");
        let e = city
            .app
            .accounts()
            .set_disabled(&admin, me, true)
            .await
            .unwrap_err();
        assert_forbidden(&e);
        let only = city.app.accounts().get(&admin, me).await.unwrap().grants[0].id;
        let e = city
            .app
            .accounts()
            .remove_grant(&admin, me, only)
            .await
            .unwrap_err();
        assert_forbidden(&e);
        assert_eq!(refusals(&city).await, refused + 3);
        let after = city.app.accounts().by_id(me).await.unwrap().unwrap();
        assert_eq!(after.password_hash, before.password_hash);
        assert!(!after.disabled);
        assert_eq!(grant_count(&city, me).await, 1);

        // On an account they administer, a secretary still grants nothing of their own rank
        // and nothing outside their community; both refusals are audited.
        let secretary = city.caller("secretary").await;
        let vol = id_of("t_vol");
        let refused = refusals(&city).await;
        let (c, u) = (city.community.county_code.as_i64(), city.community.id.get());
        let e = city
            .app
            .accounts()
            .add_grant(&secretary, vol, Role::CommunitySecretary, c, u)
            .await
            .unwrap_err();
        assert_forbidden(&e);
        let (c, u) = (city.street.county_code.as_i64(), city.street.id.get());
        let e = city
            .app
            .accounts()
            .add_grant(&secretary, vol, Role::Volunteer, c, u)
            .await
            .unwrap_err();
        assert_not_found(&e);
        assert_eq!(grant_count(&city, vol).await, 1);
        assert_eq!(refusals(&city).await, refused + 2);

        // The record names who tried what on whom.
        let rows = city
            .app
            .audit()
            .list(
                &admin,
                yinling_app::kernel::audit::AuditQuery {
                    action: Some("account.refused".into()),
                    entity_key: Some(vol.to_string()),
                    ..Default::default()
                },
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.actor_id == secretary.account_id));
        assert!(
            rows.iter().any(|r| r.detail.as_deref()
                == Some(&*format!(
                    "grant community_secretary@{}/{}: forbidden",
                    city.community.county_code, city.community.id
                ))),
            "{rows:?}"
        );
    }
}

// ==== Password policy at the administration paths (issue 9, item 12) ======================

#[tokio::test]
async fn create_account_and_reset_password_refuse_a_password_breaking_one_rule_only() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    // Eight characters of all four classes: too short, and nothing else wrong with it.
    let short = "Sh0rt!pw";
    let input = |username: &str, password: &str| yinling_app::accounts::NewAccountInput {
        display_name: "新网格员".into(),
        password: password.into(),
        must_change_password: true,
        ..yinling_app::testing::account(
            username,
            yinling_domain::role::Role::GridWorker,
            (city.grid_a.county_code.as_i64(), city.grid_a.id.get()),
        )
    };
    let accounts = city.count("accounts").await;
    let grants = city.count("grants").await;
    for (username, password, message) in [
        ("newworker", short, "至少需要10位"),
        // Long, four classes, not common: only the username inside it is wrong.
        ("newworker", "Newworker-2026", "不能包含用户名"),
    ] {
        let e = city
            .app
            .accounts()
            .create(&admin, input(username, password))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                AppError::Invalid {
                    code: "weak_password",
                    ..
                }
            ),
            "{password}: {e:?}"
        );
        assert!(e.to_string().contains(message), "{e}");
        assert!(
            city.app
                .accounts()
                .by_username(username)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(city.count("accounts").await, accounts);
    assert_eq!(city.count("grants").await, grants);

    let worker = city
        .app
        .accounts()
        .by_username("workera")
        .await
        .unwrap()
        .unwrap();
    for (password, message) in [(short, "至少需要10位"), ("Workera-2026!", "不能包含用户名")]
    {
        let e = city
            .app
            .accounts()
            .reset_password(&admin, worker.id.get(), password, true)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                AppError::Invalid {
                    code: "weak_password",
                    ..
                }
            ),
            "{password}: {e:?}"
        );
        assert!(e.to_string().contains(message), "{e}");
    }
    let after = city
        .app
        .accounts()
        .by_id(worker.id.get())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.password_hash, worker.password_hash);
    assert!(!after.must_change_password);
    city.app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .expect("the old password still logs in");
}

/// Issue 10, item 8: an authenticated request reads its session, account and grants in one
/// statement, fresh every time, so a logout, a disabled account or a revoked grant takes
/// effect at the very next request.
mod one_read {
    use yinling_app::{AppError, kernel::clock::MINUTE, testing::TestCity};
    use yinling_domain::role::Role;
    use yinling_store::testing::statements_of;

    async fn session_of(city: &TestCity, user: &str) -> String {
        city.app
            .accounts()
            .login(user, yinling_app::testing::PASSWORD, None, None)
            .await
            .unwrap()
            .token
    }

    #[tokio::test]
    async fn authenticating_is_one_statement_and_touches_at_most_once_a_minute() {
        let city = TestCity::new().await;
        let token = session_of(&city, "workera").await;
        let (session, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        let session = session.unwrap();
        assert_eq!(session.caller.username, "workera");
        assert!(!session.caller.grants.is_empty());
        assert_eq!(sql.len(), 1, "{sql:#?}");
        assert!(sql[0].trim_start().starts_with("SELECT"), "{sql:#?}");

        // Over a minute since the stored activity: the read decides, and one write records it.
        city.clock.advance(2 * MINUTE);
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        r.unwrap();
        assert_eq!(sql.len(), 2, "{sql:#?}");
        assert!(sql[1].contains("UPDATE sessions"), "{sql:#?}");
        // Just recorded: reads only again.
        city.clock.advance(MINUTE / 2);
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        r.unwrap();
        assert_eq!(sql.len(), 1, "{sql:#?}");

        // The idle timeout counts from the recorded activity, as before: 29 idle minutes
        // after it the session lives, 31 after it the session ends and is deleted.
        city.clock.advance(29 * MINUTE - MINUTE / 2);
        city.app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap();
        city.clock.advance(31 * MINUTE);
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        assert!(matches!(r, Err(AppError::SessionExpired)), "{r:?}");
        assert_eq!(sql.len(), 2, "{sql:#?}");
        assert!(sql[1].contains("DELETE FROM sessions"), "{sql:#?}");
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        assert!(matches!(r, Err(AppError::Unauthenticated)), "{r:?}");
        assert_eq!(sql.len(), 1, "{sql:#?}");
    }

    #[tokio::test]
    async fn a_disabled_account_is_refused_at_the_next_request() {
        let city = TestCity::new().await;
        let token = session_of(&city, "workera").await;
        let caller = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap()
            .caller;
        let id = caller.account_id.unwrap();
        // Even with its sessions left in place (as another process might still see them),
        // the flag on the account alone refuses the next request.
        yinling_store::accounts::set_disabled(
            &mut city.app.store().write(),
            yinling_domain::ids::AccountId(id),
            true,
            0,
        )
        .await
        .unwrap();
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        assert!(matches!(r, Err(AppError::Unauthenticated)), "{r:?}");
        assert_eq!(sql.len(), 1, "{sql:#?}");
        yinling_store::accounts::set_disabled(
            &mut city.app.store().write(),
            yinling_domain::ids::AccountId(id),
            false,
            0,
        )
        .await
        .unwrap();
        city.app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap();
        // Through the use case the sessions end too.
        city.app
            .accounts()
            .set_disabled(&city.system, id, true)
            .await
            .unwrap();
        assert!(matches!(
            city.app.accounts().authenticate(&token, None).await,
            Err(AppError::Unauthenticated)
        ));
    }

    #[tokio::test]
    async fn a_granted_or_revoked_role_counts_from_the_next_request() {
        let city = TestCity::new().await;
        let id = city
            .add_account("twogrids", Role::GridWorker, &city.grid_a, None)
            .await;
        let token = session_of(&city, "twogrids").await;
        let second = city
            .app
            .accounts()
            .add_grant(
                &city.system,
                id,
                Role::GridWorker,
                city.grid_b.county_code.as_i64(),
                city.grid_b.id.get(),
            )
            .await
            .unwrap();
        let caller = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap()
            .caller;
        let units: Vec<i64> = caller.grants.iter().map(|g| g.unit_id).collect();
        assert_eq!(
            units,
            [city.grid_a.id.get(), city.grid_b.id.get()],
            "in grant order"
        );
        assert_eq!(caller.grants[1].unit_name, city.grid_b.name);
        assert_eq!(caller.grants[1].path.as_str(), city.grid_b.path);

        city.app
            .accounts()
            .remove_grant(&city.system, id, second)
            .await
            .unwrap();
        let caller = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap()
            .caller;
        let units: Vec<i64> = caller.grants.iter().map(|g| g.unit_id).collect();
        assert_eq!(units, [city.grid_a.id.get()]);

        // Without any grant the account still signs in, and may do nothing.
        let first = caller.grants[0].id;
        city.app
            .accounts()
            .remove_grant(&city.system, id, first)
            .await
            .unwrap();
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        let caller = r.unwrap().caller;
        assert!(caller.grants.is_empty(), "{:?}", caller.grants);
        assert_eq!(caller.username, "twogrids");
        assert_eq!(sql.len(), 1, "{sql:#?}");
    }

    #[tokio::test]
    async fn logout_elder_mode_and_the_password_flag_read_fresh() {
        let city = TestCity::new().await;
        let token = session_of(&city, "workera").await;
        let other = session_of(&city, "workera").await;
        let session = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap();
        assert!(!session.caller.elder_mode && !session.must_change_password);
        assert_eq!(
            city.app.accounts().session_csrf(&token).await.unwrap(),
            Some(session.csrf_token.clone())
        );
        let other_csrf = city
            .app
            .accounts()
            .authenticate(&other, None)
            .await
            .unwrap()
            .csrf_token;
        assert_ne!(other_csrf, session.csrf_token, "each session its own token");

        city.app
            .accounts()
            .set_elder_mode(&session.caller, true)
            .await
            .unwrap();
        assert!(
            city.app
                .accounts()
                .authenticate(&token, None)
                .await
                .unwrap()
                .caller
                .elder_mode
        );
        let id = session.caller.account_id.unwrap();
        let worker = city.caller("countyadmin").await;
        city.app
            .accounts()
            .reset_password(&worker, id, "Fresh-Initial-9x", true)
            .await
            .unwrap();
        // A reset ends every session; the new one must change its password.
        assert!(matches!(
            city.app.accounts().authenticate(&token, None).await,
            Err(AppError::Unauthenticated)
        ));
        let fresh = city
            .app
            .accounts()
            .login("workera", "Fresh-Initial-9x", None, None)
            .await
            .unwrap()
            .token;
        let s = city
            .app
            .accounts()
            .authenticate(&fresh, None)
            .await
            .unwrap();
        assert!(s.must_change_password && s.caller.elder_mode);

        city.app.accounts().logout(&s.caller, &fresh).await.unwrap();
        assert!(matches!(
            city.app.accounts().authenticate(&fresh, None).await,
            Err(AppError::Unauthenticated)
        ));
    }
}
